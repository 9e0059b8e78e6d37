// The message list: builds each message's DOM once and updates it in place.
import { errorText, h, icon } from './dom.js';
import { t } from './i18n.js';
import { appendStreamingText, renderReplyInto } from './render.js';
import { state } from './state.js';

const container = () => document.getElementById('messages');
/** id -> {root, body, meta, message} for the active conversation */
const entries = new Map();
let retryHandler = () => {};

export function setRetryHandler(fn) { retryHandler = fn; }

export function initMessages() {
  container().addEventListener('click', (e) => {
    const btn = e.target.closest('button.retry');
    if (!btn || btn.disabled) return;
    const root = btn.closest('.message');
    if (root) retryHandler(Number(root.dataset.id));
  });
}

export function getEntry(id) { return entries.get(id); }

function formatMs(ms) {
  if (ms < 1000) return t('unit.ms', { n: Math.round(ms) });
  return t('unit.s', { n: (ms / 1000).toFixed(1) });
}

export function metaText(m) {
  const parts = [];
  if (m.model) parts.push(m.model);
  if (m.promptTokens != null || m.completionTokens != null) {
    parts.push(t('meta.tokens', { prompt: m.promptTokens ?? '?', completion: m.completionTokens ?? '?' }));
  }
  if (m.ttftMs != null) parts.push(t('meta.ttft', { time: formatMs(m.ttftMs) }));
  if (m.totalMs != null) parts.push(formatMs(m.totalMs));
  return parts.join(' · ');
}

function roleLabel(role) {
  if (role === 'user') return t('chat.you');
  if (role === 'system') return t('chat.system');
  return t('chat.assistant');
}

function buildMessage(m) {
  const role = m.role === 'user' || m.role === 'system' ? m.role : 'assistant';
  // dir=auto: Arabic or Hebrew text runs right to left, each message on its own.
  const body = h('div', { className: 'message-body', attrs: { dir: 'auto' } });
  const root = h('div', {
    className: `message ${role}`,
    dataset: { id: m.id, status: m.status || 'done' },
    attrs: {
      role: 'article',
      'aria-label': roleLabel(role),
      title: m.createdAt ? new Date(m.createdAt).toLocaleString() : null,
    },
  }, body);
  const entry = { root, body, meta: null, message: m };
  if (role === 'assistant') {
    entry.meta = h('div', { className: 'message-meta' });
    root.append(entry.meta);
  }
  entries.set(m.id, entry);
  fillMessage(entry, m);
  return root;
}

/** Write message content/status/meta into an existing entry. */
function fillMessage(entry, m) {
  entry.message = m;
  const status = m.status || 'done';
  entry.root.dataset.status = status;
  if (m.role === 'user' || m.role === 'system') {
    entry.body.textContent = m.content ?? '';
    return;
  }
  renderReplyInto(entry.body, m.content ?? '');
  entry.shown = (m.content ?? '').length;
  entry.root.classList.toggle('pending', status === 'streaming' && !m.content);
  fillMeta(entry, m);
}

function fillMeta(entry, m) {
  const meta = entry.meta;
  const note = meta.querySelector('.retry-note');
  meta.replaceChildren();
  const text = metaText(m);
  if (text) meta.append(h('span', { className: 'meta-text', text }));
  const status = m.status || 'done';
  if (status === 'cancelled') {
    meta.append(h('span', { className: 'status-badge cancelled', text: t('status.cancelled') }));
  } else if (status === 'interrupted') {
    meta.append(h('span', { className: 'status-badge interrupted', text: t('status.interrupted') }));
  } else if (status === 'error') {
    meta.append(h('span', {
      className: 'status-badge error',
      attrs: { role: 'alert' },
      text: (m.errorMessage || m.errorKind) ? errorText({ kind: m.errorKind, message: m.errorMessage }) : t('status.error'),
    }));
  } else if (status === 'done' && m.finishReason === 'length') {
    meta.append(h('span', { className: 'finish-note', text: t('status.length') }));
  }
  if (note && status === 'streaming') meta.append(note);
  meta.hidden = !meta.firstChild;
}

/** Replace all messages (on conversation switch). */
export function renderAll(messages) {
  entries.clear();
  const frag = document.createDocumentFragment();
  for (const m of messages) frag.append(buildMessage(m));
  container().replaceChildren(frag);
  refreshRetryButtons();
}

export function appendMessage(m) {
  container().append(buildMessage(m));
}

export function updateMessage(m) {
  const entry = entries.get(m.id);
  if (entry) fillMessage(entry, m);
}

/** Update only the streaming text of an assistant message. */
export function setStreamingText(id, text) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.shown = appendStreamingText(entry.body, text, entry.shown || 0);
  if (text) entry.root.classList.remove('pending');
}

/** Re-render meta (e.g. after a usage event). */
export function updateMeta(id, patch) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.message = { ...entry.message, ...patch };
  fillMeta(entry, entry.message);
}

export function setRetryNote(id, text, title) {
  const entry = entries.get(id);
  if (!entry || !entry.meta) return;
  let note = entry.meta.querySelector('.retry-note');
  if (!text) { note?.remove(); entry.meta.hidden = !entry.meta.firstChild; return; }
  if (!note) {
    note = h('span', { className: 'retry-note' });
    entry.meta.append(note);
  }
  note.textContent = text;
  if (title) note.setAttribute('title', title);
  entry.meta.hidden = false;
}

/** Remove the DOM of every message that follows `id` (and their entries). */
export function removeAfter(id) {
  const entry = entries.get(id);
  if (!entry) return;
  let next = entry.root.nextElementSibling;
  while (next) {
    const after = next.nextElementSibling;
    if (next.dataset.id) entries.delete(Number(next.dataset.id));
    next.remove();
    next = after;
  }
}

export function removeMessage(id) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.root.remove();
  entries.delete(id);
}

/**
 * Does this user message (at index i of state.messages) need a Retry button? Only at the end of the
 * conversation: a retry becomes the newest branch, so retrying an older turn would hide the turns
 * after it until branch navigation exists.
 */
function needsRetry(i) {
  const m = state.messages[i];
  if (m.role !== 'user') return false;
  const next = state.messages[i + 1];
  if (!next || next.role !== 'assistant') {
    // Missing reply — unless it is the one being generated right now.
    return i === state.messages.length - 1 && !(state.stream && state.stream.userMessageId === m.id);
  }
  if (i + 1 !== state.messages.length - 1) return false;
  const stoppedEmpty = next.status === 'cancelled' && !next.content;
  return next.status === 'error' || next.status === 'interrupted' || stoppedEmpty;
}

/** Add/remove Retry buttons on user messages to match state.messages. */
export function refreshRetryButtons() {
  const busy = !!state.stream;
  state.messages.forEach((m, i) => {
    const entry = entries.get(m.id);
    if (!entry || m.role !== 'user') return;
    let actions = entry.root.querySelector('.message-actions');
    const want = needsRetry(i);
    if (!want) { actions?.remove(); return; }
    if (!actions) {
      actions = h('div', { className: 'message-actions' },
        h('button', {
          className: 'btn btn-small retry',
          attrs: { type: 'button', title: t('chat.retryTitle') },
        }, icon('retry'), h('span', { text: t('chat.retry') })));
      entry.root.append(actions);
    }
    actions.querySelector('button.retry').disabled = busy;
  });
}

/** Re-translate dynamic text after a language switch. */
export function relabel() {
  for (const entry of entries.values()) {
    entry.root.setAttribute('aria-label', roleLabel(entry.message.role));
    if (entry.meta) fillMeta(entry, entry.message);
    const retry = entry.root.querySelector('button.retry');
    if (retry) {
      retry.setAttribute('title', t('chat.retryTitle'));
      retry.querySelector('span').textContent = t('chat.retry');
    }
  }
}

export function isAtBottom() {
  const el = container();
  return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
}

export function scrollToBottom() {
  const el = container();
  el.scrollTop = el.scrollHeight;
}

export function count() { return entries.size; }
