// The message list: builds each message's DOM once and updates it in place. Only a window of the
// active path is here (paging.js moves it); `thread` says where the window sits in the path.
import { errorText, h, icon } from './dom.js';
import { t } from './i18n.js';
import {
  appendStreamingText, clearParked, detachWithin, parkReply, renderReplyCached, renderReplyInto,
} from './render.js';
import { initRating, ratingControls } from './rating.js';
import { initJudge, judgeButton, replyVerdicts } from './judge.js';
import { state, emit } from './state.js';
import { modelChoices, setConversationModel } from './modelpick.js';
import { metaText } from './meta.js';
import { buildGroup, diversityLine, fillColumnHead, groupBar } from './columns.js';
import { forgetWaiting, renderWhenNear } from './lazymd.js';
import { closeEditor, openEditor, submitEditor } from './editor.js';

export { formatCost, metaText } from './meta.js';
export { appendColumn, appendGroup, collapseGroups } from './columns.js';
export { refreshRetryButtons } from './retry.js';
import { refreshRetryButtons } from './retry.js';
import { buildThinking, fillThinking, streamThinking } from './thinking.js';
import { toolCallsBlock } from './tools.js';
import { fillStructured, heatMap, heatMapToggle } from './logprobs.js';
import { showImages } from './attachments.js';

const container = () => document.getElementById('messages');
/** id -> {root, body, meta, message} for the active conversation */
const entries = new Map();
/** Where state.messages (the window) sits in the active path: its first position, the path's length. */
export const thread = { start: 0, total: 0 };
/** While a page is built: finished replies wait to be rendered until they come near the screen. */
let lazy = false;
let handlers = {
  retry: () => {}, // (userMessageId)
  regenerate: () => {}, // (userMessageId)
  branch: () => {}, // (messageId to show)
  edit: () => {}, // (userMessage, newText) → Promise
  choose: () => {}, // (replyId)
  stopColumn: () => {}, // (streamId)
  sendToolResults: () => {}, // ([{toolCallId, content}])
};

export function setHandlers(h) { handlers = { ...handlers, ...h }; }

export function initMessages() {
  container().addEventListener('click', (e) => {
    const btn = e.target.closest('button');
    if (!btn || btn.disabled) return;
    const root = btn.closest('.message');
    const id = root ? Number(root.dataset.id) : null;
    const entry = id != null ? entries.get(id) : null;
    if (btn.classList.contains('retry') && root) handlers.retry(id);
    else if (btn.classList.contains('regenerate') && entry) handlers.regenerate(entry.message.parentId);
    else if (btn.classList.contains('branch-prev') || btn.classList.contains('branch-next')) {
      if (!entry) return;
      const ids = entry.message.siblingIds || [];
      const i = ids.indexOf(id) + (btn.classList.contains('branch-next') ? 1 : -1);
      if (i >= 0 && i < ids.length) handlers.branch(ids[i]);
    } else if (btn.classList.contains('edit') && entry) openEditor(entry);
    else if (btn.classList.contains('edit-cancel') && entry) closeEditor(entry);
    else if (btn.classList.contains('edit-send') && entry) submitEditor(entry, handlers.edit);
    else if (btn.classList.contains('choose-reply')) {
      const col = btn.closest('.reply-column');
      if (col) handlers.choose(Number(col.dataset.id));
    } else if (btn.classList.contains('column-stop')) {
      const col = btn.closest('.reply-column');
      if (col && col.dataset.streamId) handlers.stopColumn(col.dataset.streamId);
    }
  });
  initRating(container(), (id) => entries.get(id)?.message, (id) => {
    const entry = entries.get(id);
    if (!entry) return;
    fillTools(entry);
    if (entry.meta) fillMeta(entry, entry.message);
  });
  initJudge(container());
  container().addEventListener('keydown', (e) => {
    const ta = e.target.closest('textarea.edit-input');
    if (!ta) return;
    const entry = entries.get(Number(ta.closest('.message').dataset.id));
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); closeEditor(entry); }
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
      e.preventDefault();
      submitEditor(entry, handlers.edit);
    }
  });
}

export function getEntry(id) { return entries.get(id); }

/** Every message shown (its entry), in no particular order. */
export function allEntries() { return entries.values(); }

/** Drops a message's entry without parking its reply (a collapsed group's columns). */
export function dropEntry(id) { entries.delete(id); }

export const messagesContainer = container;

function roleLabel(role) {
  if (role === 'user') return t('chat.you');
  if (role === 'tool') return t('tools.resultLabel');
  if (role === 'system') return t('chat.system');
  return t('chat.assistant');
}

export function buildMessage(m) {
  const role = ['user', 'system', 'tool'].includes(m.role) ? m.role : 'assistant';
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
  const entry = { root, body, meta: null, message: m, tools: h('div', { className: 'message-tools' }) };
  if (role === 'assistant') {
    body.before(buildThinking(entry));
    entry.meta = h('div', { className: 'message-meta' });
    root.append(entry.meta);
  }
  root.append(entry.tools);
  entries.set(m.id, entry);
  fillMessage(entry, m);
  return root;
}

/** ‹ 2/3 › between versions of a message, and Edit / Regenerate. */
export function fillTools(entry) {
  const m = entry.message;
  const tools = entry.tools;
  tools.replaceChildren();
  const ids = m.siblingIds || [];
  if (ids.length > 1 && !entry.inGroup) {
    const i = ids.indexOf(m.id);
    tools.append(h('span', { className: 'branch-nav' },
      h('button', { className: 'icon-btn branch-prev', attrs: { type: 'button', title: t('branch.prev'), 'aria-label': t('branch.prev'), disabled: i <= 0 }, text: '‹' }),
      h('span', { className: 'branch-pos', text: t('branch.pos', { index: i + 1, count: ids.length }) }),
      h('button', { className: 'icon-btn branch-next', attrs: { type: 'button', title: t('branch.next'), 'aria-label': t('branch.next'), disabled: i >= ids.length - 1 }, text: '›' })));
  }
  const streaming = m.status === 'streaming';
  if (m.role === 'user' && !String(m.id).startsWith('pending')) {
    tools.append(h('button', { className: 'btn btn-ghost btn-small edit', attrs: { type: 'button', title: t('chat.editTitle') } },
      icon('pencil'), h('span', { text: t('chat.edit') })));
  } else if (m.role === 'assistant' && !streaming && m.parentId != null && !entry.inGroup) {
    tools.append(h('button', { className: 'btn btn-ghost btn-small regenerate', attrs: { type: 'button', title: t('chat.regenerateTitle') } },
      icon('retry'), h('span', { text: t('chat.regenerate') })));
  }
  if (m.role === 'assistant' && !streaming && typeof m.id === 'number' && m.status !== 'error') {
    tools.append(ratingControls(m), judgeButton(m));
  }
  // The judge's verdicts stay listed under the reply (pairwise ones on its group when in one).
  if (m.role === 'assistant' && m.status === 'done' && typeof m.id === 'number' && !entry.verdicts) {
    entry.verdicts = replyVerdicts(m, () => !entry.inGroup);
    tools.after(entry.verdicts);
  }
  if (m.role === 'assistant' && !streaming) {
    const toggle = heatMapToggle(entry, () => {
      entry.shown = 0;
      renderReplyInto(entry.body, entry.message.content ?? '');
    });
    if (toggle) tools.append(toggle);
  }
  tools.hidden = !tools.firstChild;
  const busy = !!state.stream;
  for (const b of tools.querySelectorAll('button.edit, button.regenerate, button.branch-prev, button.branch-next')) {
    if (busy) b.disabled = true;
  }
}

/** Write message content/status/meta into an existing entry. */
function fillMessage(entry, m) {
  entry.message = m;
  const status = m.status || 'done';
  entry.root.dataset.status = status;
  if (m.role === 'tool') {
    entry.body.replaceChildren(
      h('div', { className: 'tool-result-head', text: t('tools.resultFor', { name: m.toolCallId || '?' }) }),
      h('pre', { className: 'tool-result-text', text: m.content ?? '' }));
    fillTools(entry);
    return;
  }
  if (m.role === 'user' || m.role === 'system') {
    entry.body.textContent = m.content ?? '';
    showImages(entry, m);
    fillTools(entry);
    return;
  }
  fillThinking(entry, m);
  forgetWaiting(entry.body);
  if (entry.heatMap && m.logprobs?.length) entry.body.replaceChildren(heatMap(m));
  else if (status === 'streaming') renderReplyInto(entry.body, m.content ?? '');
  else if (lazy) renderWhenNear(entry.body, m.content ?? '', () => renderReplyCached(entry.body, m.id, m.content ?? ''));
  else renderReplyCached(entry.body, m.id, m.content ?? '');
  entry.shown = (m.content ?? '').length;
  fillToolCalls(entry, m);
  fillStructured(entry, m);
  entry.root.classList.toggle('pending', status === 'streaming' && !m.content && !m.reasoning);
  fillMeta(entry, m);
  fillTools(entry);
}

/** A reply's tool calls; the newest finished reply also takes the results, one per call. */
function fillToolCalls(entry, m) {
  entry.calls?.remove();
  entry.calls = null;
  const newest = state.messages.length && state.messages[state.messages.length - 1].id === m.id;
  const answerable = newest && m.status === 'done' && !entry.inGroup;
  const block = toolCallsBlock(m, answerable ? (results) => handlers.sendToolResults(results) : null);
  if (block) {
    entry.body.after(block);
    entry.calls = block;
  }
}

function fillMeta(entry, m) {
  const meta = entry.meta;
  const note = meta.querySelector('.retry-note');
  meta.replaceChildren();
  const text = metaText(m);
  if (text) {
    meta.append(h('span', {
      className: 'meta-text',
      text,
      attrs: { title: m.tokensCounted ? t('meta.countedTitle') : null },
    }));
  }
  if (m.omitted) meta.append(h('span', { className: 'omitted-note', text: t('meta.omitted', { n: m.omitted }) }));
  if (m.referenceScore) {
    const r = m.referenceScore;
    const mark = (b) => (b == null ? '—' : (b ? '✓' : '✗'));
    meta.append(h('span', {
      className: 'reference-score',
      text: t('meta.reference', { exact: mark(r.exactMatch), contains: mark(r.contains), f1: r.f1.toFixed(2) }),
    }));
  }
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
    // No model chosen: the server's models, right here, one click each (then the reply is retried).
    if (m.errorKind === 'no_model' && m.parentId != null) {
      meta.append(modelChoices((model) => { setConversationModel(model); handlers.retry(m.parentId); }));
    }
    // A key problem is solved in Settings: one click there, not a dead end.
    if (['key_unconfirmed', 'no_key', 'unauthorized', 'keyring'].includes(m.errorKind)) {
      const go = h('button', { className: 'btn btn-small error-action', attrs: { type: 'button' }, text: t('error.openSettings') });
      go.addEventListener('click', () => emit('open-settings'));
      meta.append(go);
    }
  } else if (status === 'done' && m.finishReason === 'length') {
    meta.append(h('span', { className: 'finish-note', text: t('status.length') }));
  }
  if (note && status === 'streaming') meta.append(note);
  meta.hidden = !meta.firstChild;
}

/** The DOM of a run of messages (replies before `eagerFrom` rendered once near the screen); the
 *  last one shows its group when it carries one (path end). */
function buildNodes(messages, eagerFrom = 0) {
  const frag = document.createDocumentFragment();
  messages.forEach((m, i) => {
    lazy = i < eagerFrom;
    if (i === messages.length - 1 && Array.isArray(m.group) && m.group.length > 1) {
      const group = buildGroup(m.group, m.id, m.siblingIds);
      frag.append(group, groupBar(group));
      if (m.diversity) frag.append(diversityLine(m.diversity));
    } else {
      frag.append(buildMessage(m));
    }
  });
  lazy = false;
  return frag;
}

/** A message leaves the DOM: its rendered reply is parked for when it comes back. */
function forget(id) {
  const entry = entries.get(id);
  if (!entry) return;
  const m = entry.message;
  // A reply shown as its heat map is not parked: it would come back as the heat map with its
  // toggle off.
  if (!forgetWaiting(entry.body) && !entry.heatMap && m.role === 'assistant' && m.status !== 'streaming'
    && typeof m.id === 'number') {
    parkReply(entry.body, m.id, m.content);
  }
  detachWithin(entry.root);
  entries.delete(id);
}

/** Replace all messages (on conversation switch); the last few, on screen at once, render now. */
export function renderAll(messages) {
  for (const id of [...entries.keys()]) forget(id);
  container().replaceChildren(buildNodes(messages, messages.length - 8));
  refreshRetryButtons();
}

/** Nothing shown: every entry goes, nothing parked (the conversation is being left). */
export function clearAll() {
  for (const entry of entries.values()) forgetWaiting(entry.body);
  detachWithin(container());
  entries.clear();
  container().replaceChildren();
}

/** Earlier messages of the path, above the window (the caller keeps the scroll position). Their
 *  tools are built for the current state and a Retry belongs only at the path's end, so nothing
 *  else in the window is revisited (a frame's work stays proportional to what comes in). */
export function prependMessages(messages) {
  container().prepend(buildNodes(messages, messages.length));
}

/** Later messages of the path, below the window. */
export function appendMessages(messages) {
  container().append(buildNodes(messages, messages.length));
  refreshRetryButtons();
}

/** Removes the DOM of every message before `id` (the window's top moves down). */
export function removeBefore(id) {
  const entry = entries.get(id);
  if (!entry) return;
  let prev = entry.root.previousElementSibling;
  while (prev) {
    const before = prev.previousElementSibling;
    dropNode(prev);
    prev = before;
  }
}

function dropNode(node) {
  if (node.dataset.id) forget(Number(node.dataset.id));
  for (const inner of node.querySelectorAll('.message[data-id]')) forget(Number(inner.dataset.id));
  node.remove();
}

/** Marks the message a search jumped to, and brings it to the middle of the screen. */
export function highlight(id) {
  for (const el of container().querySelectorAll('.message.search-target')) el.classList.remove('search-target');
  const entry = entries.get(id);
  if (!entry) return false;
  entry.root.classList.add('search-target');
  entry.root.scrollIntoView({ block: 'center' });
  return true;
}

export function appendMessage(m) {
  container().append(buildMessage(m));
}

export function updateMessage(m) {
  const entry = entries.get(m.id);
  if (!entry) return;
  fillMessage(entry, { ...m, siblingIds: m.siblingIds ?? entry.message.siblingIds });
  if (entry.column) fillColumnHead(entry, null);
}

/** Update only the streaming text of an assistant message. */
export function setStreamingText(id, text) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.shown = appendStreamingText(entry.body, text, entry.shown || 0);
  if (text) entry.root.classList.remove('pending');
}

/** Update only the streaming reasoning of an assistant message (its "Thinking" block). */
export function setStreamingReasoning(id, reasoning, answering) {
  const entry = entries.get(id);
  if (!entry) return;
  streamThinking(entry, reasoning, answering);
  if (reasoning) entry.root.classList.remove('pending');
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
    dropNode(next);
    next = after;
  }
}

export function removeMessage(id) {
  const entry = entries.get(id);
  if (!entry) return;
  entry.root.remove();
  entries.delete(id);
}

/** Re-translate dynamic text after a language switch. */
export function relabel() {
  for (const entry of entries.values()) {
    entry.root.setAttribute('aria-label', roleLabel(entry.message.role));
    if (entry.meta) fillMeta(entry, entry.message);
    fillTools(entry);
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

/** Render finished replies again (once the Markdown libraries have loaded). */
export function rerenderReplies() {
  clearParked();
  for (const entry of entries.values()) {
    const m = entry.message;
    if (m.role !== 'assistant' || m.status === 'streaming') continue;
    forgetWaiting(entry.body);
    renderReplyInto(entry.body, m.content ?? '');
  }
}
