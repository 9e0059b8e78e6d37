// The single place where reply text enters the DOM as markup (SECURITY.md W4–W6).
//
// One path: markdown-it (raw HTML off) → KaTeX → highlight.js → DOMPurify → DOM, all through
// sanitize() below, the only function that turns a string into nodes. Everything else uses
// textContent / createElement.
//
// Streaming: a long reply is split at its last "stable" boundary (a blank line outside a code fence
// or a $$ block). Complete blocks before it are rendered once and kept; only the unfinished tail is
// rendered again on each frame. When the reply ends only the rest is rendered (its blocks stay).
import { h } from './dom.js';
import { t } from './i18n.js';
import { installLinkGuard } from './links.js';
import { markdownToHtml } from './markdown.js';
import * as probe from './frameprobe.js';

// ---------------------------------------------------------------------------------------------
// The sanitizer: the one string → DOM function.

const INLINE_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,/i;
const KATEX_SVG = new Set(['svg', 'path', 'line']);
let purifier = null;

function purify() {
  if (purifier) return purifier;
  const DOMPurify = window.DOMPurify;
  if (!DOMPurify || !DOMPurify.isSupported) return null;
  purifier = DOMPurify;
  // KaTeX draws a few glyphs (√, long arrows) as inline SVG and positions boxes with inline
  // style: both are allowed only inside KaTeX's own output (.katex), never from anywhere else.
  DOMPurify.addHook('uponSanitizeElement', (node, data) => {
    const tag = data.tagName;
    if (tag === 'img') {
      const src = node.getAttribute && node.getAttribute('src');
      if (!src || !INLINE_IMAGE.test(src)) node.remove();
      return;
    }
    if (node.namespaceURI === 'http://www.w3.org/2000/svg' || tag === 'svg') {
      const inKatex = node.parentElement && node.parentElement.closest('.katex');
      if (!inKatex || !KATEX_SVG.has(tag)) node.remove();
    }
  });
  DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
    if (data.attrName === 'style' && !node.closest('.katex')) data.keepAttr = false;
  });
  return purifier;
}

const PURIFY_CONFIG = Object.freeze({
  USE_PROFILES: { html: true, svg: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'iframe', 'object', 'embed',
    'foreignObject', 'use', 'image', 'animate', 'set', 'script', 'base', 'meta', 'link'],
  FORBID_ATTR: ['srcset', 'action', 'formaction', 'xlink:href', 'ping', 'target'],
  // Any scheme may stay in href (a click goes to the Rust link check, which refuses it clearly),
  // except ones that run code or carry a document.
  ALLOWED_URI_REGEXP: /^(?!(?:javascript|vbscript|data):)/i,
  RETURN_DOM_FRAGMENT: true,
});

/**
 * HTML string from markdown.js → a sanitized DocumentFragment. The only string → DOM path.
 * DOMPurify parses in an inert document and returns its nodes; KaTeX's style attributes were parsed
 * there, so the page's CSP can stay at style-src 'self' with no inline-style allowance (a style
 * attribute set on a live element is still blocked). Checked in the real webview by the e2e test
 * a_hostile_markdown_reply_renders_safely_and_links_ask_first; if an engine ever re-checks adopted
 * attributes, the fallback is `"style-src-attr": "'unsafe-inline'"` (WebKitGTK 2.50 honours it).
 */
function sanitize(html) {
  const p = purify();
  if (!p) return null;
  return p.sanitize(html, PURIFY_CONFIG);
}

/** Markdown text → sanitized, decorated fragment; plain text if the libraries failed to load. */
export function renderMarkdown(text) {
  let t0 = probe.now();
  const html = markdownToHtml(text);
  probe.add('render.markdown', t0);
  t0 = probe.now();
  const frag = html == null ? null : sanitize(html);
  probe.add('render.sanitize', t0);
  if (!frag) {
    const f = document.createDocumentFragment();
    f.append(h('div', { className: 'md-plain', text }));
    return f;
  }
  decorate(frag);
  return frag;
}

/** Our own controls on top of the sanitized markup (built with createElement, never from data). */
function decorate(root) {
  for (const head of root.querySelectorAll('.code-block > .code-head')) {
    head.append(h('button', {
      className: 'code-copy',
      attrs: { type: 'button', title: t('render.copyTitle') },
      text: t('render.copy'),
    }));
  }
  for (const a of root.querySelectorAll('a[href]')) {
    a.setAttribute('rel', 'noopener noreferrer');
    a.setAttribute('title', a.getAttribute('href'));
  }
}

// ---------------------------------------------------------------------------------------------
// Copy buttons (one delegated listener).

/** Copies `text`; returns how ('clipboard', 'selection') or '' when it failed. */
async function copyText(text) {
  try {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      await navigator.clipboard.writeText(text);
      return 'clipboard';
    }
  } catch (e) {
    // fall through to the selection-based copy
  }
  const area = h('textarea', { className: 'copy-buffer', attrs: { readonly: true, 'aria-hidden': 'true' } });
  area.value = text;
  document.body.append(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  area.remove();
  return ok ? 'selection' : '';
}

function installCopy() {
  document.addEventListener('click', async (e) => {
    const btn = e.target instanceof Element ? e.target.closest('button.code-copy') : null;
    if (!btn) return;
    const code = btn.closest('.code-block')?.querySelector('pre > code');
    if (!code) return;
    const via = await copyText(code.textContent);
    btn.textContent = via ? t('render.copied') : t('render.copyFailed');
    btn.dataset.state = via ? 'copied' : 'failed';
    btn.dataset.via = via;
    setTimeout(() => {
      btn.textContent = t('render.copy');
      delete btn.dataset.state;
    }, 1500);
  });
}

installCopy();
installLinkGuard();

// ---------------------------------------------------------------------------------------------
// Whole replies and streaming.

/** el -> progressive render state (while streaming, and while a long reply is being filled in) */
const streams = new WeakMap();
/** States with work left (streaming or filling in). */
const active = new Set();
/** Per-call timings (ms) of the renderer, for the benchmark (tests/e2e bench_streaming_render). */
const timings = { frames: [], finals: [], doneAt: 0 };

export function renderStats() {
  return { frames: timings.frames.slice(), finals: timings.finals.slice(), doneAt: timings.doneAt };
}

/** True while a reply is still being filled in (for the benchmark). */
export function renderBusy() {
  return active.size > 0;
}

export function resetRenderStats() {
  timings.frames.length = 0;
  timings.finals.length = 0;
  timings.doneAt = 0;
}

function note(list, ms) {
  if (list.length < 20000) list.push(ms);
}

/** Texts up to WHOLE_CHARS that were not streamed render in one go, as one document. */
const WHOLE_CHARS = 30000;
/** Complete blocks are rendered in chunks of about this many characters… */
const CHUNK_CHARS = 3000;
/** …as many as fit in this budget per frame (at least one), so a burst never freezes the window. */
const FRAME_BUDGET_MS = 8;
/** An unfinished tail that costs more than TAIL_BUDGET_MS is re-rendered at most every
 *  TAIL_SPACING × its cost; in between the new characters are appended as text to its last block. */
const TAIL_BUDGET_MS = 6;
const TAIL_SPACING = 4;

/**
 * Render reply `text` into element `el` (the final text of a reply). After streaming into `el`, what
 * is already rendered is kept and only the rest is rendered. A long text is filled in over a few
 * frames, complete blocks first, so the window never freezes.
 */
export function renderReplyInto(el, text) {
  const t0 = performance.now();
  const full = text == null ? '' : String(text);
  el.classList.add('md');
  let st = streams.get(el);
  if (st && !(full.startsWith(st.rendered) && el.firstChild === st.stableEl)) {
    stop(el, st);
    st = null;
  }
  if (!st) {
    if (full.length <= WHOLE_CHARS) {
      el.replaceChildren(full ? renderMarkdown(full) : '');
      note(timings.finals, performance.now() - t0);
      timings.doneAt = performance.now();
      return;
    }
    st = start(el);
  }
  st.final = true;
  st.text = full;
  work(el, st);
  note(timings.finals, performance.now() - t0);
}

// ---------------------------------------------------------------------------------------------
// Rendered replies that left the screen, kept for when they come back (long conversations).
// The sanitized nodes themselves are moved out and back in (never cloned, never re-parsed).

const CACHE_MAX = 200;
/** key -> DocumentFragment holding a rendered reply's nodes, oldest first */
const parked = new Map();

/** Render reply `text` into `el`, reusing the nodes parked under `key` when its text is unchanged. */
export function renderReplyCached(el, key, text) {
  const full = text == null ? '' : String(text);
  const k = `${key}:${full.length}`;
  const frag = parked.get(k);
  if (frag && !streams.has(el)) {
    parked.delete(k);
    el.classList.add('md');
    el.replaceChildren(frag);
    return;
  }
  renderReplyInto(el, full);
}

/** A finished reply leaves the screen: keep its rendered nodes (the oldest ones beyond the limit go). */
export function parkReply(el, key, text) {
  if (streams.has(el) || !el.firstChild) return;
  const k = `${key}:${(text == null ? '' : String(text)).length}`;
  const frag = document.createDocumentFragment();
  frag.append(...el.childNodes);
  parked.delete(k);
  parked.set(k, frag);
  while (parked.size > CACHE_MAX) parked.delete(parked.keys().next().value);
}

/** What the renderer holds that a session could grow (each has a limit; an e2e test checks them). */
export function retained() {
  return {
    parked: parked.size, parkedMax: CACHE_MAX, frameLog: timings.frames.length, finalLog: timings.finals.length,
    filling: active.size,
  };
}

/** Forget every parked reply (the Markdown renderer just loaded: they were plain text). */
export function clearParked() {
  parked.clear();
}

/** How many rendered replies are parked (none once a conversation is left). */
export function parkedCount() { return parked.size; }

/**
 * While a reply streams (chat.js calls this at most once per animation frame): renders newly
 * complete blocks (within a frame budget) and the unfinished tail. Returns the length of `text`.
 */
export function appendStreamingText(el, text, _shown) {
  const t0 = performance.now();
  const full = text == null ? '' : String(text);
  let st = streams.get(el);
  if (st && (st.final || !full.startsWith(st.rendered) || el.firstChild !== st.stableEl)) {
    stop(el, st);
    st = null;
  }
  if (!st) st = start(el);
  st.text = full;
  work(el, st);
  note(timings.frames, performance.now() - t0);
  return full.length;
}

function start(el) {
  const st = {
    el,
    text: '',
    rendered: '', // the prefix rendered into stableEl (ends at a block boundary)
    final: false,
    scan: newScanner(),
    bounds: [], // block boundaries found and not yet rendered
    stableEl: h('div', { className: 'md-stable' }),
    tailEl: h('div', { className: 'md-tail' }),
    tailText: null,
    tailShown: 0,
    tailCost: 0,
    nextTailAt: 0,
    raf: 0,
  };
  streams.set(el, st);
  active.add(st);
  el.replaceChildren(st.stableEl, st.tailEl);
  return st;
}

function stop(el, st) {
  if (st.raf) cancelAnimationFrame(st.raf);
  streams.delete(el);
  active.delete(st);
}

/** Messages under `root` leave the page: a reply still being filled in there is let go (left
 *  mid-stream, its state and both its subtrees stayed in `active` for the rest of the session). */
export function detachWithin(root) {
  for (const st of [...active]) if (root.contains(st.el)) stop(st.el, st);
}

function atBottom(scroller) {
  return scroller && scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
}

/** One frame of work: complete blocks within the budget, then the tail once caught up. */
function work(el, st) {
  const t0 = performance.now();
  if (st.raf) {
    cancelAnimationFrame(st.raf);
    st.raf = 0;
  }
  advanceEach(st.scan, st.text, (b) => st.bounds.push(b));
  if (st.final) {
    const last = st.bounds.length ? st.bounds[st.bounds.length - 1] : st.rendered.length;
    if (last < st.text.length) st.bounds.push(st.text.length);
  }
  let from = st.rendered.length;
  while (st.bounds.length) {
    // Merge boundaries into a chunk of about CHUNK_CHARS (at least one block).
    let k = 0;
    while (k + 1 < st.bounds.length && st.bounds[k + 1] - from <= CHUNK_CHARS) k++;
    const to = st.bounds[k];
    st.bounds.splice(0, k + 1);
    if (to > from) {
      // Each chunk is its own box that the engine can skip while it is off screen
      // (content-visibility in app.css): layout stays proportional to what is visible.
      st.stableEl.append(h('div', { className: 'md-chunk' }, renderMarkdown(st.text.slice(from, to))));
    }
    from = to;
    st.rendered = st.text.slice(0, to);
    if (performance.now() - t0 > FRAME_BUDGET_MS) break;
  }
  const behind = st.bounds.length > 0;
  if (behind) {
    // Not caught up: the tail waits (it would be rendered again anyway); continue next frame.
    if (st.tailText !== null) {
      st.tailEl.replaceChildren();
      st.tailText = null;
    }
    st.raf = requestAnimationFrame(() => {
      st.raf = 0;
      const scroller = el.closest('.messages');
      const stick = atBottom(scroller);
      work(el, st);
      if (stick) scroller.scrollTop = scroller.scrollHeight;
    });
    return;
  }
  if (st.final) {
    st.tailEl.replaceChildren();
    stop(el, st);
    timings.doneAt = performance.now();
    return;
  }
  const tail = st.text.slice(st.rendered.length);
  if (tail !== st.tailText) renderTail(st, tail);
}

function renderTail(st, tail) {
  const now = performance.now();
  const sameStart = st.tailText != null && tail.startsWith(st.tailText) && st.tailShown <= tail.length;
  if (sameStart && st.tailCost > TAIL_BUDGET_MS && now < st.nextTailAt) {
    const extra = tail.slice(st.tailShown);
    const last = st.tailEl.lastElementChild;
    const target = (last && (last.matches('.code-block') ? last.querySelector('pre > code') : last.matches('p') ? last : null))
      || st.tailEl;
    target.append(extra);
    st.tailShown = tail.length;
    return;
  }
  const frag = tail ? renderMarkdown(tail) : '';
  const t1 = performance.now();
  st.tailEl.replaceChildren(frag);
  const end = performance.now();
  probe.add('render.tailReplace', t1);
  probe.add('render.tail', now);
  st.tailText = tail;
  st.tailShown = tail.length;
  st.tailCost = end - now;
  st.nextTailAt = end + st.tailCost * TAIL_SPACING;
}

// A line scanner that remembers where it stopped, so each frame only looks at new lines.
function newScanner() {
  return { pos: 0, fence: null, math: false, pending: null };
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Scans the complete lines added since the last call and calls onBoundary(position) for each
 * block boundary: a blank line outside a code fence or $$ block, followed by an unindented line.
 */
function advanceEach(sc, text, onBoundary) {
  for (;;) {
    const nl = text.indexOf('\n', sc.pos);
    if (nl < 0) break;
    const line = text.slice(sc.pos, nl);
    sc.pos = nl + 1;
    if (sc.fence) {
      const m = FENCE.exec(line);
      if (m && m[1][0] === sc.fence[0] && m[1].length >= sc.fence.length && !line.slice(m[0].length).trim()) {
        sc.fence = null;
      }
      continue;
    }
    if (!sc.math) {
      if (line.trim() === '') {
        // A blank line ends the block before it, unless the next block is indented (a list
        // item's continuation, indented code): decided when the next line arrives.
        if (sc.pending == null) sc.pending = sc.pos - line.length - 1;
        continue;
      }
      if (sc.pending != null && !/^\s/.test(line)) onBoundary(sc.pending);
      sc.pending = null;
    }
    const m = FENCE.exec(line);
    if (!sc.math && m && !(m[1][0] === '`' && line.slice(m[0].length).includes('`'))) {
      sc.fence = m[1];
      continue;
    }
    const dollars = (line.match(/\$\$/g) || []).length;
    if (dollars % 2 === 1) sc.math = !sc.math;
  }
}
