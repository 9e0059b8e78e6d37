// The single place where reply text enters the DOM as markup (SECURITY.md W4–W6).
//
// One path: markdown-it (raw HTML off) → KaTeX → highlight.js → DOMPurify → DOM, all through
// sanitize() below, the only function that turns a string into nodes. Everything else uses
// textContent / createElement.
//
// Streaming: a long reply is split at its last "stable" boundary (a blank line outside a code fence
// or a $$ block). Complete blocks before it are rendered once and kept; only the unfinished tail is
// rendered again on each frame. When the reply ends it is rendered once as a whole.
import { h } from './dom.js';
import { t } from './i18n.js';
import { installLinkGuard } from './links.js';
import { markdownToHtml } from './markdown.js';

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

/** HTML string from markdown.js → a sanitized DocumentFragment. The only string → DOM path. */
function sanitize(html) {
  const p = purify();
  if (!p) return null;
  return p.sanitize(html, PURIFY_CONFIG);
}

/** Markdown text → sanitized, decorated fragment; plain text if the libraries failed to load. */
export function renderMarkdown(text) {
  const html = markdownToHtml(text);
  const frag = html == null ? null : sanitize(html);
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

/** el -> streaming state */
const streams = new WeakMap();
/** Per-call timings (ms) of the streaming renderer, for the benchmark (tests/e2e bench). */
const timings = { frames: [], finals: [] };

export function renderStats() {
  return { frames: timings.frames.slice(), finals: timings.finals.slice() };
}

export function resetRenderStats() {
  timings.frames.length = 0;
  timings.finals.length = 0;
}

function note(list, ms) {
  if (list.length < 200000) list.push(ms);
}

/** Render reply `text` into element `el`, replacing what was there. */
export function renderReplyInto(el, text) {
  const t0 = performance.now();
  streams.delete(el);
  const full = text == null ? '' : String(text);
  el.classList.add('md');
  if (!full) {
    el.replaceChildren();
    return;
  }
  el.replaceChildren(renderMarkdown(full));
  note(timings.finals, performance.now() - t0);
}

/**
 * While a reply streams (called at most once per animation frame by chat.js): renders complete
 * blocks once and re-renders only the unfinished tail. `shown` is kept for the caller; returns the
 * length of `text`.
 */
export function appendStreamingText(el, text, _shown) {
  const t0 = performance.now();
  const full = text == null ? '' : String(text);
  let st = streams.get(el);
  if (!st || !full.startsWith(st.stableText)) {
    st = {
      stableText: '',
      scan: newScanner(),
      stableEl: h('div', { className: 'md-stable' }),
      tailEl: h('div', { className: 'md-tail' }),
    };
    streams.set(el, st);
    el.classList.add('md');
    el.replaceChildren(st.stableEl, st.tailEl);
  }
  const boundary = advance(st.scan, full);
  if (boundary > st.stableText.length) {
    st.stableEl.append(renderMarkdown(full.slice(st.stableText.length, boundary)));
    st.stableText = full.slice(0, boundary);
  }
  const tail = full.slice(st.stableText.length);
  if (tail !== st.tailText) renderTail(st, tail);
  note(timings.frames, performance.now() - t0);
  return full.length;
}

// A tail without a block boundary can grow large (one huge paragraph or code block). Once
// rendering it costs more than TAIL_BUDGET_MS, it is re-rendered at most every TAIL_SPACING × its
// cost; in between only the new characters are appended as text to its last block.
const TAIL_BUDGET_MS = 6;
const TAIL_SPACING = 4;

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
  st.tailEl.replaceChildren(tail ? renderMarkdown(tail) : '');
  const end = performance.now();
  st.tailText = tail;
  st.tailShown = tail.length;
  st.tailCost = end - now;
  st.nextTailAt = end + st.tailCost * TAIL_SPACING;
}

// A line scanner that remembers where it stopped, so each frame only looks at new lines.
function newScanner() {
  return { pos: 0, fence: null, math: false, boundary: 0, pending: null };
}

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Scans the complete lines added since the last call; returns the last stable boundary. */
function advance(sc, text) {
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
      if (sc.pending != null && !/^\s/.test(line)) sc.boundary = sc.pending;
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
  return sc.boundary;
}
