// The two ends of a conversation, however long: Ctrl+Home shows its first message and Ctrl+End
// (or the "latest" button, shown while the view is away from the end) its last, each read as one
// page from the database instead of scrolled through (paging.js keeps only a window of a long
// path in the page, so the scroll bar's ends are the window's, not the conversation's).
import { isTyping } from './dom.js';
import { state } from './state.js';
import * as paging from './paging.js';

const $ = (id) => document.getElementById(id);

/** Shown while there is something below the view: the window is above the path's end, or the
 *  view is more than half a screen above the window's bottom. */
function away() {
  if (!state.activeId || !state.messages.length) return false;
  if (!paging.atEnd()) return true;
  const el = $('messages');
  return el.scrollHeight - el.scrollTop - el.clientHeight > el.clientHeight / 2;
}

function update() {
  const button = $('jump-latest');
  const show = away();
  if (button.hidden === show) button.hidden = !show;
}

let raf = 0;
/** After the messages changed: once, in the next frame, whatever else changes them this turn.
 *  A scroll updates it at once (a scroll event comes before the frame's own work). */
export function updateJumpButton() {
  if (!raf) raf = requestAnimationFrame(() => { raf = 0; update(); });
}

async function toEnd(focusComposer) {
  await paging.jumpToEnd();
  updateJumpButton();
  if (focusComposer) $('composer').focus();
}

export function initJump() {
  $('jump-latest').addEventListener('click', () => toEnd(true));
  $('messages').addEventListener('scroll', update, { passive: true });
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing || e.altKey || e.shiftKey) return;
    if (!(e.ctrlKey || e.metaKey) || (e.key !== 'Home' && e.key !== 'End')) return;
    // In a text field Ctrl+Home/End move the caret, except in an empty message box.
    const composerEmpty = e.target === $('composer') && !$('composer').value;
    if (isTyping(e.target) && !composerEmpty) return;
    if (document.querySelector('dialog[open]') || !state.activeId) return;
    e.preventDefault();
    if (e.key === 'Home') paging.jumpToStart().then(updateJumpButton);
    else toEnd(false);
  });
}
