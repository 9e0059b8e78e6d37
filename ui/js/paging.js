// Long conversations: only a window of the active path is loaded and in the DOM (at most MAX
// messages). Pages come in as the user nears an edge and the far side is let go, so a 10,000-message
// conversation opens at its end at once and scrolling stays smooth. Messages enter the DOM a few at
// a time (their building and layout is what a frame costs): a page read above the window waits in a
// short queue (data only) and goes in as many messages a frame as the frame's budget holds (1 to
// STEP, from what a message has cost lately), measured with one layout per frame.
import { api } from './api.js';
import { showBanner, errorText } from './dom.js';
import { clearParked } from './render.js';
import * as view from './messages.js';
import { state } from './state.js';

/** Messages per page: the first paint's read, and each read while scrolling. */
export const PAGE = 30;
/** The most messages in the DOM at once. */
export const MAX = 150;
/** An open paints the last FIRST messages of its page at once (more than a window holds). */
const FIRST = 10;
/** The most messages that enter the DOM above the window in one frame; the fewest while the
 *  viewport is at the window's top (the user waits for them), else one. */
const STEP = 8;
const MIN_AT_TOP = 4;
/** A frame's script time (ms from the frame's start) that bringing messages in may fill; lazymd.js
 *  renders Markdown in what is left of its own budget after it. 6 → 4 (quiet machine, 10,000
 *  messages scrolled to the top at 1,500 px a frame): frame gap p95 19 → 17 ms, max 32–58 → 25–27,
 *  the whole way up 24 → 39 s (still ~250 messages a second). */
const BUDGET_MS = 4;
/** Load the next page when the viewport is this close to the window's edge (px). */
const EDGE_PX = 1500;

const container = () => document.getElementById('messages');
let seq = 0;
let busy = false;
/** Messages read but not yet in the DOM, just above the window, oldest first (under 2 × PAGE). */
let queued = [];
let raf = 0;
/** What bringing one message in has cost lately (ms, a moving average). */
let perMessage = 1;
/** Counters for tests and the bench: frames that brought messages in, messages, the most in one
 *  frame, script time (ms) spent doing it, split into building, the one layout, and trimming. */
const stats = { frames: 0, messages: 0, most: 0, ms: 0, build: 0, layout: 0, trim: 0 };

export function pagingStats() { return { ...stats, perMessage }; }
/** Messages read above the window and not yet in the DOM. */
export function queuedCount() { return queued.length; }

export function resetPagingStats() {
  for (const k of Object.keys(stats)) stats[k] = 0;
}

/** Does the window reach the end of the path (where new messages are added)? */
export function atEnd() {
  return view.thread.start + state.messages.length >= view.thread.total;
}

/** Show a page from the back end in place of whatever was shown. */
export function showPage(page) {
  seq += 1;
  queued = [];
  if (raf) cancelAnimationFrame(raf);
  raf = 0;
  const messages = Array.isArray(page?.messages) ? page.messages : [];
  view.thread.start = page?.start ?? 0;
  view.thread.total = page?.total ?? messages.length;
  state.messages = messages;
  view.renderAll(messages);
}

/** The last page of the path, as an open shows it: its last FIRST messages at once (they fill the
 *  window), the rest over the next frames. */
export function showEnd(page) {
  const messages = Array.isArray(page?.messages) ? page.messages : [];
  const cut = Math.max(0, messages.length - FIRST);
  showPage({ start: (page?.start ?? 0) + cut, total: page?.total ?? messages.length, messages: messages.slice(cut) });
  queued = messages.slice(0, cut);
  if (queued.length) schedule();
}

/** A whole thread (select/choose return it): keep the part around `aroundId` (or the end). */
export function showThread(messages, aroundId = null) {
  const list = Array.isArray(messages) ? messages : [];
  let i = aroundId == null ? -1 : list.findIndex((m) => m.id === aroundId);
  if (i < 0) i = list.length - 1;
  const start = Math.max(0, Math.min(i - Math.floor(PAGE / 2), list.length - PAGE));
  showPage({ start, total: list.length, messages: list.slice(start, start + PAGE) });
}

/** The path was cut after the window's last message (a retry or an edit starts a new branch there). */
export function endsHere() {
  view.thread.total = view.thread.start + state.messages.length;
}

/** Nothing shown (a conversation is being opened or none is selected): what was parked of the
 *  one before goes too, so each conversation keeps memory only while it is open. */
export function clear() {
  seq += 1;
  queued = [];
  view.thread.start = 0;
  view.thread.total = 0;
  state.messages = [];
  view.clearAll();
  clearParked();
}

/** Is a reply streaming into the conversation shown? Then the window is the end of the path. */
function streamingHere() {
  return !!state.stream && state.stream.conversationId === state.activeId;
}

/** A jump's page (`at`: {start}, or {} for the last): null when the view changed meanwhile (another
 *  jump, another conversation; a page read before it for the old view is dropped likewise) or the
 *  read failed (said in a banner; the view stays as it was). */
async function jumpPage(id, at) {
  const mine = ++seq;
  try {
    const page = await api.getThreadPage(id, at, PAGE);
    return mine === seq && id === state.activeId ? page : null;
  } catch (err) {
    showBanner(errorText(err), 'error');
    return null;
  }
}

/** The first message of the path (Ctrl+Home): its page read and shown from the top at once,
 *  instead of every page between coming in as a scroll would. Returns whether it moved. */
export async function jumpToStart() {
  const id = state.activeId;
  if (!id || streamingHere()) return false;
  if (view.thread.start === 0) {
    container().scrollTop = 0;
    return true;
  }
  const page = await jumpPage(id, { start: 0 });
  if (!page) return false;
  showPage(page);
  container().scrollTop = 0;
  return true;
}

/** The last message of the path (Ctrl+End, the "latest" button): its last page, as an open shows
 *  it, when the window is above it; else a scroll to the bottom. */
export async function jumpToEnd() {
  const id = state.activeId;
  if (!id) return false;
  if (atEnd() || streamingHere()) {
    view.scrollToBottom();
    return true;
  }
  const page = await jumpPage(id, {});
  if (!page) return false;
  showEnd(page);
  view.scrollToBottom();
  return true;
}

export function initPaging() {
  container().addEventListener('scroll', onScroll, { passive: true });
}

function onScroll() {
  checkEdges(container().scrollTop);
}

/** Pages in (or out) when the viewport at `top` nears an edge of the window. */
function checkEdges(top) {
  if (!state.activeId) return;
  // While a reply streams here the window is the end of the path: nothing to page in.
  if (streamingHere() && atEnd()) return;
  const el = container();
  if (top < EDGE_PX) {
    if (queued.length) schedule();
    if (!busy && queued.length < PAGE && view.thread.start - queued.length > 0) loadBefore();
  } else if (!busy && el.scrollHeight - top - el.clientHeight < EDGE_PX && !atEnd()) loadAfter();
}

async function load(start, len, apply) {
  busy = true;
  const mine = seq;
  const id = state.activeId;
  try {
    const page = await api.getThreadPage(id, { start }, len);
    if (mine !== seq || id !== state.activeId) return;
    apply(page);
  } catch (err) {
    showBanner(errorText(err), 'error');
  } finally {
    busy = false;
  }
}

/** Reads the page before the queue; it joins the queue (the DOM takes it a few messages a frame). */
function loadBefore() {
  const top = view.thread.start - queued.length;
  const n = Math.min(PAGE, top);
  const start = top - n;
  return load(start, n, (page) => {
    // The window moved meanwhile (trimmed at the top): this page is no longer next to it.
    if (view.thread.start - queued.length !== top) return;
    queued.unshift(...page.messages.slice(0, n));
    view.thread.total = page.total;
    schedule();
  });
}

function schedule() {
  if (!raf) raf = requestAnimationFrame(drain);
}

/** One frame's share of the queue goes into the DOM above the window, the reading position kept.
 *  `frameStart` is the frame's time stamp: what earlier callbacks of the frame spent counts. */
function drain(frameStart) {
  raf = 0;
  const el = container();
  const t0 = performance.now();
  const spent = Number.isFinite(frameStart) ? Math.max(0, t0 - frameStart) : 0;
  // Layout is clean at a frame's start (reading is free); one layout after the whole batch.
  const top = el.scrollTop;
  const height = el.scrollHeight;
  const least = top < el.clientHeight ? MIN_AT_TOP : 1;
  const fit = Math.floor((BUDGET_MS - spent) / Math.max(perMessage, 0.1));
  const list = queued.splice(queued.length - Math.min(queued.length, Math.max(least, Math.min(STEP, fit))));
  if (!list.length) return;
  view.prependMessages(list);
  state.messages.unshift(...list);
  view.thread.start -= list.length;
  const t1 = performance.now();
  const now = top + el.scrollHeight - height;
  el.scrollTop = now;
  const t2 = performance.now();
  // The bottom's removal moves nothing above it: no layout needed for it in this frame.
  trimBottom();
  const ms = performance.now() - t0;
  stats.build += t1 - t0;
  stats.layout += t2 - t1;
  stats.trim += t0 + ms - t2;
  perMessage = 0.7 * perMessage + 0.3 * (ms / list.length);
  stats.frames += 1;
  stats.messages += list.length;
  stats.most = Math.max(stats.most, list.length);
  stats.ms += ms;
  if (queued.length) schedule();
  checkEdges(now);
}

function loadAfter() {
  const start = view.thread.start + state.messages.length;
  return load(start, PAGE, (page) => {
    view.appendMessages(page.messages);
    state.messages.push(...page.messages);
    view.thread.total = page.total;
    trimTop();
  });
}

/** Too many messages: the ones furthest below go (never while a reply streams into them). */
function trimBottom() {
  const extra = state.messages.length - MAX;
  if (extra <= 0 || (state.stream && state.stream.conversationId === state.activeId)) return;
  const keep = state.messages[MAX - 1];
  view.removeAfter(keep.id);
  state.messages.length = MAX;
}

/** Too many messages: the ones furthest above go (chat.js also calls it as replies are added). */
export function trimTop() {
  const extra = state.messages.length - MAX;
  if (extra <= 0) return;
  const el = container();
  const height = el.scrollHeight;
  view.removeBefore(state.messages[extra].id);
  state.messages.splice(0, extra);
  view.thread.start += extra;
  // What was read above the old top is no longer next to the window.
  queued = [];
  el.scrollTop -= height - el.scrollHeight;
}
