// Where the page's own time goes while replies stream (read by tests/e2e/bench_session.rs): per
// named step a count, a total and a maximum (ms), and a running total of the time the page spent in
// its own entry points (a channel message, a frame's update, a reply's end). A fixed set of names
// written in the code, three numbers each: nothing here grows with a session.

/** name -> {n, total, max} */
const steps = new Map();
let busy = 0;

export const now = () => performance.now();

/** Counts the time since `t0` under `name`; `top` marks an entry point (its time is the page's own). */
export function add(name, t0, top = false) {
  const ms = performance.now() - t0;
  let s = steps.get(name);
  if (!s) {
    s = { n: 0, total: 0, max: 0 };
    steps.set(name, s);
  }
  s.n += 1;
  s.total += ms;
  if (ms > s.max) s.max = ms;
  if (top) busy += ms;
  return ms;
}

/** Channel event types timed on their own (the others share one name). */
const EVENTS = new Set(['started', 'delta', 'finished', 'usage']);
export const eventStep = (type) => (EVENTS.has(type) ? `event.${type}` : 'event.other');

/** Total ms spent in the page's entry points since the start (or the last reset). */
export function busyMs() { return busy; }

export function stats() {
  const out = {};
  for (const [k, s] of steps) out[k] = { ...s };
  return { busy, steps: out };
}

export function reset() {
  steps.clear();
  busy = 0;
}
