// Finished replies of a long conversation become Markdown only when they come near the screen: a
// page of older messages arrives as text (cheap) and each reply is rendered (or its parked nodes
// put back) a screen or so before it is seen. When a reply above the screen changes height, the
// scroll position moves with it, so what the user is reading stays put.

/** How far beyond the visible part a reply is rendered (px). */
const AHEAD_PX = 1200;
/** body element -> its render function, until it comes near the screen */
const waiting = new Map();
let observer = null;

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
  if (!waiting.delete(el)) return false;
  observer?.unobserve(el);
  el.classList.remove('md-waiting');
  return true;
}

/** How many replies wait (bounded by the messages in the DOM). */
export function waitingCount() { return waiting.size; }

function onNear(records) {
  const due = records.filter((r) => r.isIntersecting && waiting.has(r.target));
  if (!due.length) return;
  const scroller = observer.root;
  const top = scroller.getBoundingClientRect().top;
  // Replies wholly above the visible part: their change in height is made up by the scroll position.
  const above = due.filter((r) => r.target.getBoundingClientRect().bottom <= top).map((r) => r.target);
  const before = above.map((el) => el.offsetHeight);
  for (const r of due) {
    const render = waiting.get(r.target);
    forgetWaiting(r.target);
    render();
  }
  let delta = 0;
  above.forEach((el, i) => { delta += el.offsetHeight - before[i]; });
  if (delta) scroller.scrollTop += delta;
}
