// Finished replies of a long conversation become Markdown only when they come near the screen: a
// page of older messages arrives as text (cheap) and each reply is rendered (or its parked nodes
// put back) a screen or so before it is seen. The rendering is spread over frames (a budget per
// frame, counted from the frame's start so that what paging.js spent bringing messages in counts;
// the replies nearest the middle of the screen first), so a fast scroll never waits for many
// replies at once: while the budget is spent, only a reply on screen is rendered (one a frame). When a reply above the screen changes height, the scroll position moves
// with it, so what the user is reading stays put.

/** How far beyond the visible part a reply is rendered (px). */
const AHEAD_PX = 1200;
/** A frame's script time (ms from its start) within which replies are rendered; past it, one
 *  reply a frame still is when it is on screen. */
const BUDGET_MS = 8;
/** body element -> its render function, until it comes near the screen */
const waiting = new Map();
/** Waiting bodies that are near the screen now, to render in the next frames. */
const near = new Set();
let observer = null;
let raf = 0;

function watch() {
  if (!observer) {
    observer = new IntersectionObserver(onNear, {
      root: document.getElementById('messages'),
      rootMargin: `${AHEAD_PX}px 0px`,
    });
  }
  return observer;
}

/** Shows `text` in `el` as is, and calls `render()` once `el` comes near the screen. */
export function renderWhenNear(el, text, render) {
  el.textContent = text;
  el.classList.add('md-waiting');
  waiting.set(el, render);
  watch().observe(el);
}

/** `el` leaves (or is rendered another way): returns true if it was still waiting. */
export function forgetWaiting(el) {
  near.delete(el);
  if (!waiting.delete(el)) return false;
  observer?.unobserve(el);
  el.classList.remove('md-waiting');
  return true;
}

/** How many replies wait (bounded by the messages in the DOM). */
export function waitingCount() { return waiting.size; }

function onNear(records) {
  for (const r of records) {
    if (!waiting.has(r.target)) continue;
    if (r.isIntersecting) near.add(r.target);
    else near.delete(r.target);
  }
  if (near.size && !raf) raf = requestAnimationFrame(renderSome);
}

/** One frame's share: the due replies nearest the middle of the screen, within the budget. */
function renderSome(frameStart) {
  raf = 0;
  const t0 = Number.isFinite(frameStart) ? Math.min(frameStart, performance.now()) : performance.now();
  const scroller = observer.root;
  const box = scroller.getBoundingClientRect();
  const middle = (box.top + box.bottom) / 2;
  const due = [];
  for (const el of near) {
    if (!el.isConnected) { forgetWaiting(el); continue; }
    const r = el.getBoundingClientRect();
    due.push({ el, r, d: Math.abs((r.top + r.bottom) / 2 - middle) });
  }
  due.sort((a, b) => a.d - b.d);
  // Replies wholly above the visible part: their change in height is made up by the scroll position.
  const above = [];
  let done = 0;
  for (const { el, r } of due) {
    const over = performance.now() - t0 > BUDGET_MS;
    if (over && (done > 0 || r.bottom <= box.top || r.top >= box.bottom)) break;
    done += 1;
    const render = waiting.get(el);
    if (r.bottom <= box.top) above.push({ el, height: r.height });
    forgetWaiting(el);
    render();
  }
  let delta = 0;
  for (const { el, height } of above) delta += el.getBoundingClientRect().height - height;
  if (delta) scroller.scrollTop += delta;
  if (near.size) raf = requestAnimationFrame(renderSome);
}
