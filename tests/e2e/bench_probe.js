// The long-history bench's probe (tests/e2e/bench_history.rs), run in the page before the opens.
// Installed before the opens: times every animation-frame callback (by name), IntersectionObserver
// and ResizeObserver callbacks, layout reads (scrollHeight, getBoundingClientRect) and IPC calls.
const done = arguments[arguments.length - 1];
const P = (window.__probe = { raf: {}, io: 0, ioN: 0, layout: 0, layoutN: 0, ipc: 0, ipcN: 0, ipcBytes: 0 });
const add = (o, k, ms) => { const e = (o[k] ||= { ms: 0, n: 0 }); e.ms += ms; e.n += 1; };
const raf0 = window.requestAnimationFrame.bind(window);
window.requestAnimationFrame = (cb) => raf0((ts) => {
  const t = performance.now(); try { cb(ts); } finally { add(P.raf, cb.name || 'anon', performance.now() - t); }
});
const IO = window.IntersectionObserver;
window.IntersectionObserver = function (cb, opts) {
  return new IO((r, o) => { const t = performance.now(); try { cb(r, o); } finally { P.io += performance.now() - t; P.ioN += 1; } }, opts);
};
for (const [proto, name] of [[Element.prototype, 'scrollHeight'], [Element.prototype, 'clientHeight']]) {
  const d = Object.getOwnPropertyDescriptor(proto, name);
  Object.defineProperty(proto, name, { configurable: true, get() { const t = performance.now(); const v = d.get.call(this); P.layout += performance.now() - t; P.layoutN += 1; return v; } });
}
const gbr = Element.prototype.getBoundingClientRect;
Element.prototype.getBoundingClientRect = function () { const t = performance.now(); const v = gbr.call(this); P.layout += performance.now() - t; P.layoutN += 1; return v; };
const core = window.__TAURI__.core; const inv = core.invoke;
try {
  core.invoke = async (...a) => { const t = performance.now(); try { const r = await inv(...a); if (a[0] === 'get_thread_page') { P.ipcBytes += JSON.stringify(r).length; } return r; } finally { P.ipc += performance.now() - t; P.ipcN += 1; } };
} catch (e) { P.ipcErr = String(e); }
const css = arguments[0];
if (css) { const s = new CSSStyleSheet(); s.replaceSync(css); document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; }
done({ ok: true, ipcErr: P.ipcErr || null, css: !!css });
