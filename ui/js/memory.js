// Gives the web process's garbage back. The DOM of messages scrolled past or of a conversation
// left is freed only by a full JavaScriptCore collection, which an idle page never starts: after
// ten opens of a 10,000-message conversation the web process stayed ~290 MiB up (README,
// "Performance"). Once enough message DOM has gone, or enough replies have streamed, and the user
// has been idle a moment with nothing streaming, the window asks the web process extension for a
// full collection (`release_memory`, src-tauri/webext). Once after start-up, when the user is idle,
// the window's own process gives back what starting read and will not need again
// (`release_window_memory`, src-tauri/trim.rs).

import { api } from './api.js';
import { isStreaming } from './streams.js';
import { on } from './state.js';

/** Messages removed from the DOM since the last release before one is worth asking for (each
 *  leaves ~30 KB of garbage). */
export const DROPPED_LIMIT = 300;
/** Replies finished since the last release (each leaves ~150 KB: the re-renders while it streamed). */
export const REPLIES_LIMIT = 50;
/** Quiet time (no input, nothing streaming) before the request: a collection blocks the page. */
export const IDLE_MS = 2500;

let dropped = 0;
let replies = 0;
let timer = 0;
let lastInput = 0;
/** For tests and the bench: requests made and the last answer (`{ beforeKib, afterKib, ms }`);
 *  `startup`: the answer of the window's release after start-up. */
export const memoryStats = { requests: 0, last: null, startup: null };

/** Messages taken out of the window (paging, a conversation left). */
function noteDropped(n) {
  dropped += n;
  if (dropped >= DROPPED_LIMIT) schedule();
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(release, IDLE_MS);
}

/** Nothing streams and no input for IDLE_MS. */
function idle() {
  return !isStreaming() && performance.now() - lastInput >= IDLE_MS;
}

function release() {
  timer = 0;
  if (!idle()) {
    schedule();
    return;
  }
  dropped = 0;
  replies = 0;
  memoryStats.requests += 1;
  api.releaseMemory().then((r) => { memoryStats.last = r; }, () => {});
}

function releaseAfterStart() {
  if (!idle()) {
    setTimeout(releaseAfterStart, IDLE_MS);
    return;
  }
  api.releaseWindowMemory().then((r) => { memoryStats.startup = r; }, () => {});
}

export function initMemory() {
  document.addEventListener('parley:shown', () => setTimeout(releaseAfterStart, IDLE_MS), { once: true });
  const list = document.getElementById('messages');
  if (list) {
    new MutationObserver((records) => {
      let n = 0;
      for (const r of records) n += r.removedNodes.length;
      if (n) noteDropped(n);
    }).observe(list, { childList: true });
  }
  const input = () => { lastInput = performance.now(); };
  // Scroll events do not bubble, but a capturing listener on the window sees every element's.
  for (const type of ['pointerdown', 'keydown', 'wheel', 'scroll']) {
    window.addEventListener(type, input, { capture: true, passive: true });
  }
  on('stream-ended', () => {
    replies += 1;
    if (replies >= REPLIES_LIMIT) schedule();
  });
}
