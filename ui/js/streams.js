// The stream registry: every running reply (one per conversation on screen or not), and its text
// reaching the DOM at most once per animation frame. chat.js starts and ends replies; this file
// holds them while they run and lets them go when they end (nothing of a reply stays behind).
import { newStreamId } from './api.js';
import * as view from './messages.js';
import { state, emit } from './state.js';
import * as probe from './frameprobe.js';

/** Is any reply running, in any conversation? */
export function isStreaming() { return state.streams.size > 0; }

/** Is a reply running in the conversation on screen? (Stop and Esc act only on that one.) */
export function isStreamingHere() { return !!state.stream; }

/** How many replies are registered (0 once every reply has ended: the e2e tests check it). */
export function liveCount() { return state.streams.size + pending.size; }

export const isActive = (ctx) => ctx.conversationId === state.activeId;

/** A reply being started: what chat.js keeps about it until it ends. */
export function newStream(kind) {
  const streamId = newStreamId();
  return {
    kind,
    streamId,
    /** every stream of this send (one per model side by side) */
    streamIds: [streamId],
    conversationId: null,
    userMessageId: null,
    /** the first reply (the one in state.messages) */
    assistantId: null,
    /** replyId -> {text, model, streamId, dirty} */
    replies: new Map(),
    /** names of the profiles answering (several: label columns with them) */
    profiles: new Set(),
    groupId: null,
    started: false,
    stopping: false,
    ended: false,
  };
}

/** Registers a reply under its conversation (several conversations stream at once). */
export function track(ctx, key) {
  for (const [k, v] of state.streams) if (v === ctx) state.streams.delete(k);
  state.streams.set(key, ctx);
  emit('streams-changed');
}

/** The reply ended: it leaves the registry and any update it still had queued is dropped. */
export function untrack(ctx) {
  cancelFlush(ctx);
  for (const [k, v] of state.streams) if (v === ctx) state.streams.delete(k);
  emit('streams-changed');
}

// ---------------------------------------------------------------------------------------------
// One DOM update per animation frame, whatever the rate of tokens: a delta only marks its reply
// dirty; the frame writes the new text of the dirty replies (render.js appends what is new and
// re-renders the unfinished tail only). Nothing else on the page is touched per token.

/** Replies with text not yet shown. */
const pending = new Set();
let frame = 0;
let timer = 0;

export function scheduleFlush(ctx) {
  if (!isActive(ctx)) return;
  pending.add(ctx);
  if (!frame) frame = requestAnimationFrame(flushAll);
  // Animation frames are throttled in a hidden or occluded window: the timer still shows the text.
  if (!timer) timer = setTimeout(flushAll, 250);
}

export function cancelFlush(ctx) {
  pending.delete(ctx);
  if (!pending.size && !scrollDue && !behind) stopFrame();
}

function stopFrame() {
  if (frame) cancelAnimationFrame(frame);
  clearTimeout(timer);
  frame = 0;
  timer = 0;
}

/** Is the list at its bottom? Kept from its scroll events (null until first asked), so nothing
 *  reads layout just to know it: a read after a write forces a layout, a read before one can too. */
let stuck = null;
/** A scroll to the bottom is due at the next frame (a reply started or ended). */
let scrollDue = false;
/** The list was not scrolled with the last text (too soon after the previous scroll). */
let behind = false;
let lastScroll = 0;
/** While text streams the list follows it at most this often (each scroll of the list repaints all
 *  of it when compositing is off); the frame after the last text always catches up. */
const SCROLL_EVERY_MS = 100;

/** Is the message list at (or within 48 px of) its bottom? */
export function stuckToBottom() {
  if (stuck == null) {
    view.messagesContainer().addEventListener('scroll', () => { stuck = view.isAtBottom(); }, { passive: true });
    stuck = view.isAtBottom();
  }
  return stuck;
}

/** Scrolls the list to its bottom at the next frame if it is there now, or anyway when `always`
 *  (after a reply's DOM changed: the layout is computed once, by the frame, not forced meanwhile). */
export function scrollToBottomSoon(always = false) {
  if (!stuckToBottom() && !always) return;
  // Going to the bottom: whatever reads this before the frame scrolls there sees it so.
  stuck = true;
  scrollDue = true;
  if (!frame) frame = requestAnimationFrame(flushAll);
}

function flushAll() {
  const t0 = probe.now();
  stopFrame();
  const due = [...pending];
  pending.clear();
  if (!due.length && !scrollDue && !behind) return;
  let t = probe.now();
  const stick = stuckToBottom() || scrollDue;
  probe.add('frame.readBottom', t);
  t = probe.now();
  for (const ctx of due) if (isActive(ctx) && !ctx.ended) flush(ctx);
  probe.add('frame.write', t);
  t = probe.now();
  behind = false;
  if (stick && (scrollDue || t - lastScroll >= SCROLL_EVERY_MS)) {
    lastScroll = t;
    view.scrollToBottom();
    stuck = true;
  } else if (stick) {
    // Not this frame: a later one catches up even if no more text comes.
    behind = true;
    frame = requestAnimationFrame(flushAll);
  }
  scrollDue = false;
  probe.add('frame.scroll', t);
  probe.add('frame', t0, true);
}

function flush(ctx) {
  for (const [id, r] of ctx.replies) {
    if (r.reasoningDirty || (r.dirty && r.reasoning)) {
      r.reasoningDirty = false;
      view.setStreamingReasoning(id, r.reasoning, !!r.text);
    }
    if (!r.dirty) continue;
    r.dirty = false;
    view.setStreamingText(id, r.text);
  }
}

/** Runs `fn` in a task after the next frame (or within 250 ms if frames are throttled: a hidden window). */
export function afterPaint(fn) {
  let done = false;
  const go = () => { if (!done) { done = true; fn(); } };
  requestAnimationFrame(() => setTimeout(go, 0));
  setTimeout(go, 250);
}
