// Composer and replies: send, retry, edit, stop, and applying stream events to the page. The
// registry of running replies and their per-frame updates live in streams.js.
import { onAlternativePicked } from './logprobs.js';
import { api, newStreamId } from './api.js';
import { showBanner, errorText } from './dom.js';
import { t } from './i18n.js';
import * as view from './messages.js';
import * as paging from './paging.js';
import { state, emit, PENDING } from './state.js';
import { clearPendingPrompt, pendingPromptVersion } from './slash.js';
import { afterPaint, isActive, newStream, scheduleFlush, scrollToBottomSoon, stuckToBottom, track, untrack }
  from './streams.js';
import * as probe from './frameprobe.js';
import { branchLoss, clearBranchNote, initFeedback, noteBranch } from './feedback.js';
import * as attach from './attachments.js';
import { showBranch } from './branchnav.js';

export { isStreaming, isStreamingHere } from './streams.js';

let hooks = {
  ensureConversation: async () => state.activeId,
  beforeSend: async () => {},
  reload: () => {},
  /** Other models to answer side by side with the conversation's own (model names). */
  compareModels: () => [],
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
  // Legacy completions: an alternative token picked in the heat map continues as a new branch.
  onAlternativePicked((m, tokenIndex, alternative) => retry(m.parentId, (r, cb) => api.continueFromToken(
    { conversationId: r.conversationId, replyId: m.id, tokenIndex, alternative, streamId: r.streamId }, cb)));
  attach.initAttachments();
  view.setHandlers({
    retry: (userMessageId) => retry(userMessageId),
    regenerate: (userMessageId) => retry(userMessageId),
    edit: (message, text) => edit(message, text),
    branch: (messageId) => showBranch(messageId),
    choose: (replyId) => showBranch(replyId, true),
    sendToolResults: (results) => sendToolResults(results),
    stopColumn: (streamId) => api.cancelStream(streamId).catch((err) => showBanner(errorText(err), 'error')),
  });
  initFeedback({ branch: (id) => showBranch(id) });
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

function updateControls() {
  const busy = !!state.stream;
  $('send').disabled = busy;
  $('stop').hidden = !busy;
  document.body.classList.toggle('streaming', busy);
  // Let assistive tech announce the reply once, not every frame.
  if (busy) $('messages').setAttribute('aria-busy', 'true'); else $('messages').removeAttribute('aria-busy');
  view.refreshRetryButtons();
}

export async function send() {
  if (state.stream) return;
  const composer = $('composer');
  const content = composer.value;
  if ((!content.trim() && !attach.hasAttachments()) || attach.isAttaching()) { composer.focus(); return; }
  hideComposerError();
  clearBranchNote();
  // Block double sends while a conversation is being created.
  const ctx = newStream('send');
  track(ctx, state.activeId ?? PENDING);
  updateControls();
  let conversationId;
  try {
    conversationId = await hooks.ensureConversation();
    // Settings edited a moment ago (model, temperature…) must apply to this message.
    await hooks.beforeSend(ctx.kind);
  } catch (err) {
    endStream(ctx);
    showComposerError(errorText(err));
    return;
  }
  ctx.conversationId = conversationId;
  track(ctx, conversationId);
  ctx.sentText = content;
  updateControls(); // now that the conversation is known, Stop belongs to it
  const { images, files, shown } = attach.forRequest();
  ctx.shownImages = shown;
  const request = {
    conversationId, content, streamId: ctx.streamId, targets: targetsFor(ctx), promptVersionId: pendingPromptVersion(), images, files,
  };
  clearPendingPrompt();
  run(ctx, api.sendMessage(request, (ev) => onEvent(ctx, ev)));
}

/** The results the user typed for the newest reply's tool calls: saved as tool messages, answered. */
export async function sendToolResults(results) {
  if (state.stream || !state.activeId || !results.length) return;
  hideComposerError();
  const ctx = newStream('tools');
  ctx.conversationId = state.activeId;
  track(ctx, ctx.conversationId);
  updateControls();
  if (!await prepared(ctx)) return;
  const request = { conversationId: ctx.conversationId, content: '', toolResults: results, streamId: ctx.streamId };
  run(ctx, api.sendMessage(request, (ev) => onEvent(ctx, ev)));
}

/** Settings saved and the view made ready before a request (an edit or a regenerate keeps the
 *  window where the user is; a new message shows the path's end). On failure the stream ends:
 *  Send and Stop would otherwise stay tied to a request that was never made. */
async function prepared(ctx) {
  try {
    await hooks.beforeSend(ctx.kind);
    return true;
  } catch (err) {
    endStream(ctx);
    showComposerError(errorText(err));
    return false;
  }
}

/** Side by side: the conversation's model first, then the others, each with its own stream. */
function targetsFor(ctx) {
  const others = hooks.compareModels() || [];
  if (!others.length) return [];
  const targets = [{ model: null, streamId: ctx.streamId }];
  for (const { model, profileId } of others) {
    const streamId = newStreamId();
    ctx.streamIds.push(streamId);
    targets.push({ model, profileId, streamId });
  }
  return targets;
}

/** Edit a user message: the new text becomes a sibling (a new branch); the old one stays. */
export async function edit(message, content) {
  if (state.stream || !state.activeId || !content.trim()) return;
  hideComposerError();
  const ctx = newStream('edit');
  ctx.conversationId = state.activeId;
  ctx.editOf = message.id;
  ctx.loss = branchLoss('edit', message.id);
  track(ctx, ctx.conversationId);
  updateControls();
  if (!await prepared(ctx)) return;
  const request = {
    conversationId: ctx.conversationId, content, editOf: message.id, streamId: ctx.streamId, targets: targetsFor(ctx),
  };
  run(ctx, api.sendMessage(request, (ev) => onEvent(ctx, ev)));
}

/** A new reply to a user message; `via(request, onEvent)` makes another request of the same shape. */
export async function retry(userMessageId, via = null) {
  if (state.stream || !state.activeId) return;
  hideComposerError();
  const ctx = newStream('retry');
  ctx.conversationId = state.activeId;
  ctx.userMessageId = userMessageId;
  ctx.loss = branchLoss('regenerate', userMessageId);
  track(ctx, ctx.conversationId);
  updateControls();
  if (!await prepared(ctx)) return;
  const request = { conversationId: ctx.conversationId, userMessageId, streamId: ctx.streamId, targets: targetsFor(ctx) };
  run(ctx, (via || api.retryMessage)(request, (ev) => onEvent(ctx, ev)));
}

/** Stops the reply of the conversation on screen (or of conversation `id`). */
export async function stop(id = null) {
  const ctx = id == null ? state.stream : state.streams.get(id);
  if (!ctx || ctx.stopping) return;
  ctx.stopping = true;
  try {
    // Not registered yet (the reply is still being set up): cancel as soon as it starts.
    const stopped = await Promise.all(ctx.streamIds.map((id) => api.cancelStream(id)));
    if (!stopped.some(Boolean) && !ctx.ended) ctx.cancelOnStart = true;
  } catch (err) {
    ctx.stopping = false;
    showBanner(errorText(err), 'error');
  }
}

async function run(ctx, promise) {
  try {
    const result = await promise;
    const finals = (Array.isArray(result) ? result : [result]).filter((m) => m && typeof m === 'object' && m.id);
    if (finals.length && !ctx.started) {
      // The result beat the 'started' event (large payloads arrive late): the message was
      // saved, so clear the composer and show the conversation as stored.
      ctx.started = true;
      if (ctx.kind === 'send' && $('composer').value === ctx.sentText) { $('composer').value = ''; attach.clearAttachments(); autoGrow(); }
      ctx.reloadAfter = true;
    } else if (finals.length) finals.forEach((m) => applyFinal(ctx, m));
    else if (ctx.failError && !ctx.errorShown) reportFailure(ctx, ctx.failError);
  } catch (err) {
    if (ctx.errorShown) {
      // already reported through the 'failed' event
    } else if (!ctx.started) {
      // Nothing was saved: keep the composer text, show why.
      showComposerError(errorText(err));
    } else if (ctx.replies.size) {
      for (const [id, r] of ctx.replies) {
        if (r.final) continue;
        applyFinal(ctx, { ...placeholder(ctx, r.model, id), content: r.text, status: 'error', errorMessage: errorText(err) });
      }
    } else {
      showBanner(errorText(err), 'error');
    }
  } finally {
    const t0 = probe.now();
    endStream(ctx);
    // Branches and groups changed shape: show the conversation as stored (versions, columns).
    const reload = ctx.reloadAfter || ctx.groupId || ctx.kind !== 'send';
    if (reload) hooks.reload(ctx.conversationId);
    if (ctx.started && ctx.loss) noteBranch(ctx.loss);
    probe.add('end', t0, true);
    // What the reply's end changes off its message (the oldest messages leave, the sidebar row and
    // the totals) waits until its last text is painted: one short task per frame, not one long one.
    afterPaint(() => {
      const t1 = probe.now();
      // A long session in one conversation: the oldest messages leave the page (paging.js brings
      // them back on scrolling up), so memory and each frame's work stay bounded.
      if (!reload && isActive(ctx) && paging.atEnd() && stuckToBottom()) paging.trimTop();
      emit('stream-ended', ctx.conversationId);
      probe.add('end.later', t1, true);
    });
  }
}

function endStream(ctx) {
  ctx.ended = true;
  untrack(ctx);
  updateControls();
}

function placeholder(ctx, model, id = ctx.assistantId) {
  return {
    id,
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
    siblingIds: [id],
  };
}

function onEvent(ctx, ev) {
  const t0 = probe.now();
  handleEvent(ctx, ev);
  probe.add(probe.eventStep(ev?.type), t0, true);
}

function handleEvent(ctx, ev) {
  if (!ev || ctx.ended) return;
  switch (ev.type) {
    case 'started': onStarted(ctx, ev); break;
    case 'delta': {
      const r = ctx.replies.get(ev.replyId);
      if (!r) break;
      r.text += ev.text ?? '';
      r.dirty = true;
      if (r.retryNote) { r.retryNote = false; view.setRetryNote(ev.replyId, null); }
      scheduleFlush(ctx);
      break;
    }
    case 'reasoning': {
      const r = ctx.replies.get(ev.replyId);
      if (!r) break;
      r.reasoning = (r.reasoning ?? '') + (ev.text ?? '');
      r.reasoningDirty = true;
      if (r.retryNote) { r.retryNote = false; view.setRetryNote(ev.replyId, null); }
      scheduleFlush(ctx);
      break;
    }
    case 'usage': {
      const r = ctx.replies.get(ev.replyId);
      if (!r) break;
      r.usage = {
        promptTokens: ev.promptTokens ?? null, completionTokens: ev.completionTokens ?? null, tokensCounted: !!ev.counted,
      };
      if (isActive(ctx)) view.updateMeta(ev.replyId, r.usage);
      break;
    }
    case 'retrying': {
      const max = ev.maxAttempts;
      const text = max ? t('stream.retryingMax', { attempt: ev.attempt, max }) : t('stream.retrying', { attempt: ev.attempt });
      for (const [id, r] of ctx.replies) {
        if (r.streamId !== ev.streamId) continue;
        r.retryNote = true;
        if (isActive(ctx)) view.setRetryNote(id, text, ev.reason || null);
      }
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
  const first = !ctx.started;
  ctx.started = true;
  if (ctx.cancelOnStart) api.cancelStream(ev.streamId).catch(() => {});
  const id = ev.assistantMessageId;
  if (ev.profile) ctx.profiles.add(ev.profile);
  ctx.replies.set(id, { text: '', model: ev.model ?? null, streamId: ev.streamId, dirty: false });
  if (first) {
    ctx.assistantId = id;
    ctx.model = ev.model ?? null;
    ctx.groupId = ev.groupId ?? null;
    const user = ev.userMessage;
    if (user) ctx.userMessageId = user.id;
    if (user && ctx.shownImages?.length) user.images = ctx.shownImages;
    if (ctx.kind === 'send') {
      const composer = $('composer');
      if (composer.value === ctx.sentText) { composer.value = ''; attach.clearAttachments(); autoGrow(); }
    }
    if (isActive(ctx)) {
      if (ctx.kind === 'retry') {
        // The new reply takes the place of whatever followed the retried message (still kept
        // as another version).
        const i = state.messages.findIndex((m) => m.id === ctx.userMessageId);
        if (i >= 0) state.messages.length = i + 1;
        view.removeAfter(ctx.userMessageId);
        paging.endsHere();
      } else if (ctx.kind === 'edit') {
        // The edited text replaces the message on screen; the original stays as a version.
        const i = state.messages.findIndex((m) => m.id === ctx.editOf);
        if (i >= 0) {
          const before = i > 0 ? state.messages[i - 1].id : null;
          state.messages.length = i;
          if (before != null) view.removeAfter(before); else view.renderAll([]);
          paging.endsHere();
        }
        if (user) { state.messages.push(user); view.appendMessage(user); }
      } else if (user) {
        const last = state.messages[state.messages.length - 1];
        if (last && Array.isArray(last.group) && last.group.length > 1) {
          view.collapseGroups(last);
          delete last.group;
        }
        state.messages.push(user);
        view.appendMessage(user);
      }
    }
  }
  if (isActive(ctx)) {
    const ph = placeholder(ctx, ev.model, id);
    if (ev.groupId) {
      ph.groupId = ev.groupId;
      ph.choiceIndex = ev.choiceIndex ?? null;
      const model = ev.model || t('chat.assistant');
      const label = ctx.streamIds.length > 1
        ? (ev.profile && ctx.profiles.size > 1 ? `${model} · ${ev.profile}` : model)
        : t('group.choice', { n: (ev.choiceIndex ?? 0) + 1 });
      view.appendColumn(ev.groupId, ph, label, ev.streamId);
      if (first) state.messages.push(ph);
    } else {
      state.messages.push(ph);
      view.appendMessage(ph);
    }
    view.refreshRetryButtons();
    // The layout of the new messages is computed once, by the next frame, not forced here.
    scrollToBottomSoon(true);
  }
  if (first) emit('stream-started', ctx.conversationId);
}

function applyFinal(ctx, message) {
  if (!message || !message.id) return;
  const r = ctx.replies.get(message.id);
  const shown = r?.finalShown;
  if (r) { r.final = true; r.dirty = false; }
  if (!isActive(ctx)) return;
  const i = state.messages.findIndex((m) => m.id === message.id);
  // The same final twice (the 'finished' event, then the call's result): the reply is rendered
  // already (rendering it again would redo its Markdown whole), only its details may be newer.
  if (shown && i >= 0 && shown.content === message.content && shown.status === message.status) {
    state.messages[i] = { ...state.messages[i], ...message };
    view.updateMeta(message.id, message);
    return;
  }
  if (r) r.finalShown = { content: message.content, status: message.status };
  if (i >= 0) {
    state.messages[i] = { ...state.messages[i], ...message };
    view.updateMessage(state.messages[i]);
  } else if (view.getEntry(message.id)) {
    view.updateMessage(message);
  } else {
    state.messages.push(message);
    view.appendMessage(message);
  }
  view.refreshRetryButtons();
  scrollToBottomSoon();
}

function reportFailure(ctx, error) {
  ctx.errorShown = true;
  if (!ctx.started) { showComposerError(errorText(error)); return; }
  dropPlaceholder(ctx);
  showBanner(errorText(error), 'error');
}

function dropPlaceholder(ctx) {
  if (!ctx.assistantId || !isActive(ctx)) return;
  for (const id of ctx.replies.keys()) {
    state.messages = state.messages.filter((m) => m.id !== id);
    view.removeMessage(id);
  }
  ctx.replies.clear();
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
  for (const [id, r] of ctx.replies) {
    if (r.final) continue;
    const existing = view.getEntry(id);
    if (!existing) {
      const ph = { ...placeholder(ctx, r.model, id), ...(r.usage || {}) };
      if (ctx.groupId) {
        view.appendColumn(ctx.groupId, { ...ph, groupId: ctx.groupId }, r.model || t('chat.assistant'), r.streamId);
      } else {
        state.messages.push(ph);
        view.appendMessage(ph);
      }
    } else if (existing.message.status === 'streaming' || !existing.message.status) {
      view.updateMessage({ ...existing.message, status: 'streaming', ...(r.usage || {}) });
    }
    view.setStreamingText(id, r.text);
  }
  view.refreshRetryButtons();
}
