// The Retry button under a user message whose reply is missing or failed (only at the end of the
// path) and the lock of the tree-changing buttons while a reply streams.

import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';
import { allEntries, getEntry, thread } from './messages.js';

/**
 * Does this user message (at index i of state.messages) need a Retry button? Only at the end of the
 * conversation: a retry becomes the newest branch, so retrying an older turn would hide the turns
 * after it until branch navigation exists.
 */
function needsRetry(i) {
  // Only the end of the path can need a Retry: not while the window is above it.
  if (thread.start + state.messages.length < thread.total) return false;
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

/** Add/remove Retry buttons on user messages to match state.messages; lock tools while busy. */
export function refreshRetryButtons() {
  const busy = !!state.stream;
  for (const entry of allEntries()) {
    // Rating stays available while something streams; changing the tree does not.
    for (const b of entry.tools.querySelectorAll('button.edit, button.regenerate')) b.disabled = busy;
    const ids = entry.message.siblingIds || [];
    const i = ids.indexOf(entry.message.id);
    const prev = entry.tools.querySelector('.branch-prev');
    const next = entry.tools.querySelector('.branch-next');
    if (prev) prev.disabled = busy || i <= 0;
    if (next) next.disabled = busy || i >= ids.length - 1;
    if (entry.column) for (const b of entry.column.querySelectorAll('.choose-reply')) b.disabled = busy;
  }
  state.messages.forEach((m, i) => {
    const entry = getEntry(m.id);
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
