// Long conversations: only a window of the active path is loaded and in the DOM (at most MAX
// messages). Pages come in as the user nears an edge and the far side is let go, so a 10,000-message
// conversation opens at its end at once and scrolling stays smooth.
import { api } from './api.js';
import { showBanner, errorText } from './dom.js';
import { clearParked } from './render.js';
import * as view from './messages.js';
import { state } from './state.js';

/** Messages per page: the first paint, and each step while scrolling. */
export const PAGE = 30;
/** The most messages in the DOM at once. */
export const MAX = 150;
/** Load the next page when the viewport is this close to the window's edge (px). */
const EDGE_PX = 1500;

const container = () => document.getElementById('messages');
let seq = 0;
let busy = false;

/** Does the window reach the end of the path (where new messages are added)? */
export function atEnd() {
  return view.thread.start + state.messages.length >= view.thread.total;
}

/** Show a page from the back end in place of whatever was shown. */
export function showPage(page) {
  seq += 1;
  const messages = Array.isArray(page?.messages) ? page.messages : [];
  view.thread.start = page?.start ?? 0;
  view.thread.total = page?.total ?? messages.length;
  state.messages = messages;
  view.renderAll(messages);
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
  showPage({ start: 0, total: 0, messages: [] });
  clearParked();
}

export function initPaging() {
  container().addEventListener('scroll', onScroll, { passive: true });
}

function onScroll() {
  if (busy || !state.activeId) return;
  // While a reply streams here the window is the end of the path: nothing to page in.
  if (state.stream && state.stream.conversationId === state.activeId && atEnd()) return;
  const el = container();
  if (el.scrollTop < EDGE_PX && view.thread.start > 0) loadBefore();
  else if (el.scrollHeight - el.scrollTop - el.clientHeight < EDGE_PX && !atEnd()) loadAfter();
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

function loadBefore() {
  const n = Math.min(PAGE, view.thread.start);
  const start = view.thread.start - n;
  return load(start, n, (page) => {
    const list = page.messages.slice(0, n);
    const el = container();
    const height = el.scrollHeight;
    view.prependMessages(list);
    state.messages.unshift(...list);
    view.thread.start = start;
    view.thread.total = page.total;
    el.scrollTop += el.scrollHeight - height;
    trimBottom();
  });
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
  el.scrollTop -= height - el.scrollHeight;
}
