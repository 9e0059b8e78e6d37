// Composer and streaming: send, retry, stop, and applying stream events.
import { api, newStreamId } from './api.js';
import { showBanner, errorText } from './dom.js';
import { t } from './i18n.js';
import * as view from './messages.js';
import { state, emit } from './state.js';

let hooks = {
  ensureConversation: async () => state.activeId,
  beforeSend: async () => {},
  reload: () => {},
};

const $ = (id) => document.getElementById(id);

export function initChat(opts) {
  hooks = { ...hooks, ...opts };
  const composer = $('composer');
  composer.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || e.shiftKey || e.altKey) return;
    // Never send while an input method is composing (CJK input etc.).
    if (e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    send();
  });
  composer.addEventListener('input', () => { autoGrow(); hideComposerError(); });
  window.addEventListener('resize', autoGrow);
  $('send').addEventListener('click', () => send());
  $('stop').addEventListener('click', () => stop());
  view.setRetryHandler((userMessageId) => retry(userMessageId));
  updateControls();
}

export function autoGrow() {
  const el = $('composer');
  const stick = view.isAtBottom();
  el.style.height = 'auto';
  const max = Math.max(48, Math.floor(window.innerHeight * 0.4));
  el.style.height = `${Math.min(el.scrollHeight + 2, max)}px`;
  el.style.overflowY = el.scrollHeight + 2 > max ? 'auto' : 'hidden';
  if (stick) view.scrollToBottom();
}

function showComposerError(msg) {
  const el = $('composer-error');
  el.textContent = msg;
  el.hidden = false;
}

function hideComposerError() {
  const el = $('composer-error');
  if (!el.hidden) { el.hidden = true; el.textContent = ''; }
}

export function isStreaming() { return !!state.stream; }

/** Is the running reply in the conversation on screen? (Stop and Esc act only on that one.) */
export function isStreamingHere() { return !!state.stream && isActive(state.stream); }

function updateControls() {
  const busy = !!state.stream;
  $('send').disabled = busy;
  $('stop').hidden = !busy || !isActive(state.stream);
  document.body.classList.toggle('streaming', busy);
  // Let assistive tech announce the reply once, not every frame.
  if (busy) $('messages').setAttribute('aria-busy', 'true'); else $('messages').removeAttribute('aria-busy');
  view.refreshRetryButtons();
}

export async function send() {
  if (state.stream) return;
  const composer = $('composer');
  const content = composer.value;
  if (!content.trim()) { composer.focus(); return; }
  hideComposerError();
  // Block double sends while a conversation is being created.
  const ctx = newStream('send');
  state.stream = ctx;
  updateControls();
  let conversationId;
  try {
    conversationId = await hooks.ensureConversation();
    // Settings edited a moment ago (model, temperature…) must apply to this message.
    await hooks.beforeSend();
  } catch (err) {
    endStream(ctx);
    showComposerError(errorText(err));
    return;
  }
  ctx.conversationId = conversationId;
  ctx.sentText = content;
  updateControls(); // now that the conversation is known, Stop belongs to it
  run(ctx, api.sendMessage({ conversationId, content, streamId: ctx.streamId }, (ev) => onEvent(ctx, ev)));
}

export async function retry(userMessageId) {
  if (state.stream || !state.activeId) return;
  hideComposerError();
  const ctx = newStream('retry');
  ctx.conversationId = state.activeId;
  ctx.userMessageId = userMessageId;
  state.stream = ctx;
  updateControls();
  await hooks.beforeSend();
  run(ctx, api.retryMessage(
    { conversationId: ctx.conversationId, userMessageId, streamId: ctx.streamId },
    (ev) => onEvent(ctx, ev)));
}

export async function stop() {
  const ctx = state.stream;
  if (!ctx || ctx.stopping) return;
  ctx.stopping = true;
  try {
    // Not registered yet (the reply is still being set up): cancel as soon as it starts.
    if (!(await api.cancelStream(ctx.streamId)) && !ctx.ended) ctx.cancelOnStart = true;
  } catch (err) {
    ctx.stopping = false;
    showBanner(errorText(err), 'error');
  }
}

function newStream(kind) {
  return {
    kind,
    streamId: newStreamId(),
    conversationId: null,
    userMessageId: null,
    assistantId: null,
    started: false,
    text: '',
    raf: 0,
    flushTimer: 0,
    stopping: false,
    ended: false,
  };
}

const isActive = (ctx) => ctx.conversationId === state.activeId;

async function run(ctx, promise) {
  try {
    const final = await promise;
    if (final && typeof final === 'object' && final.id && !ctx.started) {
      // The result beat the 'started' event (large payloads arrive late): the message was
      // saved, so clear the composer and show the conversation as stored.
      ctx.started = true;
      if (ctx.kind === 'send' && $('composer').value === ctx.sentText) { $('composer').value = ''; autoGrow(); }
      hooks.reload(ctx.conversationId);
    } else if (final && typeof final === 'object' && final.id) applyFinal(ctx, final);
    else if (ctx.failError && !ctx.errorShown) reportFailure(ctx, ctx.failError);
  } catch (err) {
    if (ctx.errorShown) {
      // already reported through the 'failed' event
    } else if (!ctx.started) {
      // Nothing was saved: keep the composer text, show why.
      showComposerError(errorText(err));
    } else if (ctx.assistantId) {
      applyFinal(ctx, {
        ...placeholder(ctx, ctx.model), content: ctx.text, status: 'error', errorMessage: errorText(err),
      });
    } else {
      showBanner(errorText(err), 'error');
    }
  } finally {
    endStream(ctx);
    emit('stream-ended', ctx.conversationId);
  }
}

function endStream(ctx) {
  ctx.ended = true;
  cancelFlush(ctx);
  if (state.stream === ctx) state.stream = null;
  updateControls();
}

function placeholder(ctx, model) {
  return {
    id: ctx.assistantId,
    conversationId: ctx.conversationId,
    parentId: ctx.userMessageId,
    role: 'assistant',
    content: '',
    status: 'streaming',
    model: model ?? null,
    errorKind: null,
    errorMessage: null,
    promptTokens: null,
    completionTokens: null,
    ttftMs: null,
    totalMs: null,
    finishReason: null,
    createdAt: Date.now(),
  };
}

function onEvent(ctx, ev) {
  if (!ev || ctx.ended) return;
  switch (ev.type) {
    case 'started': onStarted(ctx, ev); break;
    case 'delta':
      ctx.text += ev.text ?? '';
      if (ctx.retryNote) { ctx.retryNote = false; view.setRetryNote(ctx.assistantId, null); }
      scheduleFlush(ctx);
      break;
    case 'usage':
      ctx.usage = { promptTokens: ev.promptTokens ?? null, completionTokens: ev.completionTokens ?? null };
      if (isActive(ctx)) view.updateMeta(ctx.assistantId, ctx.usage);
      break;
    case 'retrying': {
      ctx.retryNote = true;
      const max = ev.maxAttempts ?? ev.maxRetries;
      const text = max ? t('stream.retryingMax', { attempt: ev.attempt, max }) : t('stream.retrying', { attempt: ev.attempt });
      if (isActive(ctx)) view.setRetryNote(ctx.assistantId, text, ev.reason || null);
      break;
    }
    case 'finished':
      if (ev.message) applyFinal(ctx, ev.message);
      break;
    case 'failed':
      if (ev.message) {
        applyFinal(ctx, ev.message);
      } else {
        ctx.failError = ev.error || {};
        // Before 'started' nothing was saved: the rejection keeps the text and reports it.
        if (ctx.started) reportFailure(ctx, ctx.failError);
      }
      break;
    default: break;
  }
}

function onStarted(ctx, ev) {
  ctx.started = true;
  if (ctx.cancelOnStart) api.cancelStream(ctx.streamId).catch(() => {});
  ctx.assistantId = ev.assistantMessageId;
  ctx.model = ev.model ?? null;
  const user = ev.userMessage;
  if (user) ctx.userMessageId = user.id;
  if (ctx.kind === 'send') {
    const composer = $('composer');
    if (composer.value === ctx.sentText) { composer.value = ''; autoGrow(); }
  }
  if (isActive(ctx)) {
    if (ctx.kind === 'retry') {
      // The new reply replaces whatever followed the retried message.
      const i = state.messages.findIndex((m) => m.id === ctx.userMessageId);
      if (i >= 0) state.messages.length = i + 1;
      view.removeAfter(ctx.userMessageId);
    } else if (user) {
      state.messages.push(user);
      view.appendMessage(user);
    }
    const ph = placeholder(ctx, ctx.model);
    state.messages.push(ph);
    view.appendMessage(ph);
    view.refreshRetryButtons();
    view.scrollToBottom();
  }
  emit('stream-started', ctx.conversationId);
}

function scheduleFlush(ctx) {
  if (ctx.raf || !isActive(ctx)) return;
  // One DOM write per animation frame; the timer covers windows where
  // animation frames are throttled (hidden/occluded).
  ctx.raf = requestAnimationFrame(() => flush(ctx));
  ctx.flushTimer = setTimeout(() => flush(ctx), 250);
}

function cancelFlush(ctx) {
  if (ctx.raf) cancelAnimationFrame(ctx.raf);
  clearTimeout(ctx.flushTimer);
  ctx.raf = 0;
  ctx.flushTimer = 0;
}

function flush(ctx) {
  cancelFlush(ctx);
  if (!isActive(ctx) || ctx.ended) return;
  const stick = view.isAtBottom();
  view.setStreamingText(ctx.assistantId, ctx.text);
  if (stick) view.scrollToBottom();
}

function applyFinal(ctx, message) {
  cancelFlush(ctx);
  if (!message || !message.id) return;
  if (!isActive(ctx)) return;
  const stick = view.isAtBottom();
  const i = state.messages.findIndex((m) => m.id === message.id);
  if (i >= 0) {
    state.messages[i] = message;
    view.updateMessage(message);
  } else {
    state.messages.push(message);
    view.appendMessage(message);
  }
  view.refreshRetryButtons();
  if (stick) view.scrollToBottom();
}

function reportFailure(ctx, error) {
  ctx.errorShown = true;
  if (!ctx.started) { showComposerError(errorText(error)); return; }
  dropPlaceholder(ctx);
  showBanner(errorText(error), 'error');
}

function dropPlaceholder(ctx) {
  if (!ctx.assistantId || !isActive(ctx)) return;
  state.messages = state.messages.filter((m) => m.id !== ctx.assistantId);
  view.removeMessage(ctx.assistantId);
  ctx.assistantId = null;
  view.refreshRetryButtons();
}

/**
 * After the active conversation was (re)rendered from get_messages: if the
 * running stream belongs to it, show the partial reply we have buffered.
 */
export function reattachStream() {
  updateControls();
  const ctx = state.stream;
  if (!ctx || !ctx.started || !ctx.assistantId || !isActive(ctx)) return;
  const existing = state.messages.find((m) => m.id === ctx.assistantId);
  if (!existing) {
    const ph = { ...placeholder(ctx, ctx.model), ...(ctx.usage || {}) };
    state.messages.push(ph);
    view.appendMessage(ph);
  } else if (existing.status === 'streaming' || !existing.status) {
    view.updateMessage({ ...existing, status: 'streaming', ...(ctx.usage || {}) });
  }
  view.setStreamingText(ctx.assistantId, ctx.text);
  view.refreshRetryButtons();
}
