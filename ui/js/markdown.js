// Markdown → HTML *string* for replies (never put into the DOM here: render.js sanitizes it first).
// markdown-it with raw HTML off, KaTeX math through markdown-it-texmath, highlight.js for code.
// The libraries are the vendored files in ui/vendor/lib (loaded by index.html as classic scripts).
import { t } from './i18n.js';
import { applyTheme, getTheme } from './theme.js';

const KATEX_OPTIONS = Object.freeze({
  throwOnError: false, // a formula that does not parse shows its source in red, never breaks the reply
  trust: false, // no \href, \url, \includegraphics, \htmlClass…
  strict: 'ignore',
  output: 'html', // no MathML: one output tree, smaller DOM
  maxSize: 20, // em; bounds \rule and \kern sizes
  maxExpand: 200, // bounds macro expansion (\def loops)
});

// Math is bounded per render (SECURITY.md W9): a 120 KB reply of `$a $a …` froze the window 7.6 s
// and KaTeX turned 30 KB into 3.1 MB of HTML. Past any bound the TeX source shows as code.
const MAX_TEX = 2000; // characters of one expression
const MAX_FORMULAS = 300; // expressions typeset in one render
const MAX_MATH_HTML = 512 * 1024; // characters of KaTeX output in one render
const MAX_MATH_LINE = 10000; // a text with a longer line is rendered without math at all
let budget = { formulas: 0, html: 0 };

// Only these data: images are shown inline; every other image becomes a placeholder link (W6).
const INLINE_IMAGE = /^data:image\/(?:png|gif|jpeg|webp);base64,[a-z0-9+/=\s]*$/i;
// Schemes that are never links at all; everything else is a link that the Rust side judges (W7).
const NEVER_A_LINK = /^(?:javascript|vbscript|data):/i;
const LANG = /^[A-Za-z0-9_+#.-]{1,32}$/;

let md = null;
let mdPlain = null; // the same without math, for texts with overlong lines

function libs() {
  const { markdownit, texmath, katex, hljs } = window;
  if (!markdownit || !texmath || !katex || !hljs) return null;
  return { markdownit, texmath, katex, hljs };
}

function build(withMath = true) {
  const l = libs();
  if (!l) return null;
  const m = l.markdownit({ html: false, linkify: true, typographer: false, breaks: false });
  m.validateLink = (url) => {
    const s = String(url).trim();
    if (NEVER_A_LINK.test(s)) return INLINE_IMAGE.test(s);
    return true;
  };

  if (withMath) addMath(m, l);
  addRules(m, l);
  return m;
}

function addMath(m, { texmath, katex }) {
  const esc = m.utils.escapeHtml;
  // Math: $…$, $$…$$, \(…\), \[…\]. texmath parses; we render with our own bounded KaTeX options.
  m.use(texmath, { engine: katex, delimiters: ['dollars', 'brackets'], katexOptions: { ...KATEX_OPTIONS } });
  // While a reply streams, its unfinished tail is rendered again and again: remember formulas.
  const cache = new Map();
  const math = (display) => (tokens, idx) => {
    const tex = tokens[idx].content;
    const key = (display ? 'D' : 'I') + tex;
    let out = cache.get(key);
    // Past a bound: the source as plain text, about as long as it came.
    if (tex.length > MAX_TEX || budget.formulas >= MAX_FORMULAS || budget.html >= MAX_MATH_HTML) {
      return esc(display ? `$$${tex}$$` : `$${tex}$`);
    }
    if (out === undefined) {
      try {
        out = katex.renderToString(tex, { ...KATEX_OPTIONS, displayMode: display });
      } catch (e) {
        out = `<code class="math-error">${esc(tex)}</code>`;
      }
      if (cache.size >= 500) cache.delete(cache.keys().next().value);
      cache.set(key, out);
    }
    budget.formulas += 1;
    budget.html += out.length;
    // KaTeX's HTML output is aria-hidden; the source is the accessible name.
    const label = esc(tex);
    return display
      ? `<div class="math-display" role="img" aria-label="${label}">${out}</div>\n`
      : `<span class="math-inline" role="img" aria-label="${label}">${out}</span>`;
  };
  m.renderer.rules.math_inline = math(false);
  m.renderer.rules.math_inline_double = math(true);
  m.renderer.rules.math_block = math(true);
  m.renderer.rules.math_block_eqno = math(true);
}

function addRules(m, { hljs }) {
  const esc = m.utils.escapeHtml;

  // Code: text only, highlighted by highlight.js (spans with classes), a label and a place for Copy.
  m.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx];
    const info = token.info ? m.utils.unescapeAll(token.info).trim() : '';
    let lang = info.split(/\s+/)[0] || '';
    if (!LANG.test(lang)) lang = '';
    let body;
    const known = lang && hljs.getLanguage(lang);
    if (known) {
      body = hljs.highlight(token.content, { language: lang, ignoreIllegals: true }).value;
    } else {
      body = esc(token.content);
    }
    const label = lang ? esc(lang) : esc(t('render.code'));
    const cls = known ? ` language-${esc(lang)}` : '';
    return `<div class="code-block" data-lang="${esc(lang)}"><div class="code-head"><span class="code-lang">${label}</span></div>`
      + `<pre><code class="hljs${cls}">${body}</code></pre></div>\n`;
  };
  m.renderer.rules.code_block = (tokens, idx) =>
    `<div class="code-block" data-lang=""><div class="code-head"><span class="code-lang">${esc(t('render.code'))}</span></div>`
    + `<pre><code class="hljs">${esc(tokens[idx].content)}</code></pre></div>\n`;

  // Images: never a remote src in the DOM (W6). A placeholder link goes through the link check.
  m.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const src = token.attrGet('src') || '';
    const alt = token.children ? m.renderer.renderInlineAsText(token.children, m.options, {}) : token.content;
    if (INLINE_IMAGE.test(src)) return `<img src="${esc(src)}" alt="${esc(alt)}">`;
    return `<a class="remote-image" href="${esc(src)}" title="${esc(src)}">`
      + `<span class="remote-image-label">${esc(t('render.imageNotLoaded', { alt: alt || '' }))}</span> `
      + `<span class="remote-image-url">${esc(src)}</span></a>`;
  };

  // Table alignment as classes (style attributes are kept only inside KaTeX output).
  m.core.ruler.push('align_classes', (state) => {
    for (const tok of state.tokens) {
      if (tok.type !== 'th_open' && tok.type !== 'td_open') continue;
      const style = tok.attrGet('style');
      if (!style) continue;
      const match = /^text-align:(left|right|center)$/.exec(style);
      tok.attrs = (tok.attrs || []).filter(([k]) => k !== 'style');
      if (match) tok.attrJoin('class', `align-${match[1]}`);
    }
  });
}

/** KaTeX's and highlight.js' styles (the light and dark code themes by id: theme.js picks one). */
function addStyles() {
  for (const [id, name] of [['', 'katex.min.css'], ['hljs-light', 'hljs-light.min.css'], ['hljs-dark', 'hljs-dark.min.css']]) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = `vendor/lib/${name}`;
    if (id) link.id = id;
    document.head.append(link);
  }
  applyTheme(getTheme());
}

/** The vendored libraries, in the order they must run (texmath needs KaTeX). */
const VENDOR = ['markdown-it.min.js', 'katex.min.js', 'texmath.js', 'highlight.min.js', 'purify.min.js'];
let loading = null;

/**
 * Loads the libraries after the window has painted (about 550 KB of script: parsing it before the
 * first paint cost ~130 ms of start-up). Until then replies show as plain text; callers re-render
 * when this resolves. Resolves true when everything loaded.
 */
export function loadRenderer() {
  if (loading) return loading;
  loading = new Promise((resolve) => {
    const go = () => {
      performance.mark('parley:renderer'); // when the files are asked for (an e2e test reads it)
      addStyles();
      let left = VENDOR.length;
      let ok = true;
      for (const name of VENDOR) {
        const s = document.createElement('script');
        s.src = `vendor/lib/${name}`;
        s.async = false; // run in list order
        s.addEventListener('load', () => { if (--left === 0) resolve(ok && markdownReady()); });
        s.addEventListener('error', () => { ok = false; if (--left === 0) resolve(false); });
        document.head.append(s);
      }
    };
    if (document.readyState === 'complete') setTimeout(go, 0);
    else window.addEventListener('load', () => setTimeout(go, 0), { once: true });
  });
  return loading;
}

/** True once the vendored libraries are loaded. */
export function markdownReady() {
  if (!md) md = build();
  if (md && !mdPlain) mdPlain = build(false);
  return md != null;
}

function hasLongLine(text) {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > MAX_MATH_LINE) return true;
    start = end + 1;
  }
  return false;
}

/** Markdown text → an HTML string that still has to go through render.js' sanitizer. */
export function markdownToHtml(text) {
  if (!markdownReady()) return null;
  budget = { formulas: 0, html: 0 };
  return (hasLongLine(text) ? mdPlain : md).render(text);
}
