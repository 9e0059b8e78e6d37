// Small DOM helpers. Data only ever goes in through textContent / attributes.
import { getLang, hasOwn, t } from './i18n.js';

/**
 * Create an element. props: {className, text, attrs: {}, dataset: {}, on: {}}.
 * Children may be nodes or strings (strings become text nodes).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.text != null) el.textContent = String(props.text);
  if (props.attrs) {
    for (const [k, v] of Object.entries(props.attrs)) {
      if (v === false || v == null) continue;
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  if (props.dataset) {
    for (const [k, v] of Object.entries(props.dataset)) if (v != null) el.dataset[k] = String(v);
  }
  if (props.on) {
    for (const [k, fn] of Object.entries(props.on)) el.addEventListener(k, fn);
  }
  for (const c of children) {
    if (c == null || c === false) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

/** Is `target` a field the user types in (where keys edit text rather than act on the window)? */
export function isTyping(target) {
  return target instanceof HTMLElement
    && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

const SVG_NS = 'http://www.w3.org/2000/svg';
// Static icon geometry (24x24, stroked). Never built from data.
const ICONS = {
  plus: ['M12 5v14', 'M5 12h14'],
  pencil: ['M12 20h9', 'M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4 12.5-12.5z'],
  trash: ['M3 6h18', 'M8 6V4h8v2', 'M19 6l-1 14H6L5 6', 'M10 11v6', 'M14 11v6'],
  grid: ['M3 3h7v7H3z', 'M14 3h7v7h-7z', 'M3 14h7v7H3z', 'M14 14h7v7h-7z'],
  sliders: ['M4 21v-7', 'M4 10V3', 'M12 21v-9', 'M12 8V3', 'M20 21v-5', 'M20 12V3',
    'M1 14h6', 'M9 8h6', 'M17 16h6'],
  gear: ['M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
    'M19.4 15a1.65 1.65 0 0 0 .33 1.82l.06.06a2 2 0 1 1-2.83 2.83l-.06-.06a1.65 1.65 0 0 0-1.82-.33 1.65 1.65 0 0 0-1 1.51V21a2 2 0 1 1-4 0v-.09A1.65 1.65 0 0 0 9 19.4a1.65 1.65 0 0 0-1.82.33l-.06.06a2 2 0 1 1-2.83-2.83l.06-.06a1.65 1.65 0 0 0 .33-1.82 1.65 1.65 0 0 0-1.51-1H3a2 2 0 1 1 0-4h.09A1.65 1.65 0 0 0 4.6 9a1.65 1.65 0 0 0-.33-1.82l-.06-.06a2 2 0 1 1 2.83-2.83l.06.06a1.65 1.65 0 0 0 1.82.33H9a1.65 1.65 0 0 0 1-1.51V3a2 2 0 1 1 4 0v.09a1.65 1.65 0 0 0 1 1.51 1.65 1.65 0 0 0 1.82-.33l.06-.06a2 2 0 1 1 2.83 2.83l-.06.06a1.65 1.65 0 0 0-.33 1.82V9a1.65 1.65 0 0 0 1.51 1H21a2 2 0 1 1 0 4h-.09a1.65 1.65 0 0 0-1.51 1z'],
  send: ['M12 19V5', 'M5 12l7-7 7 7'],
  down: ['M12 5v14', 'M19 12l-7 7-7-7'],
  stop: ['M7 7h10v10H7z'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  retry: ['M3 12a9 9 0 1 0 2.6-6.4L3 8', 'M3 3v5h5'],
  chat: ['M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z'],
  thumbUp: ['M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3z',
    'M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3'],
  thumbDown: ['M10 15v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3z',
    'M17 2h2.67A2.31 2.31 0 0 1 22 4v7a2.31 2.31 0 0 1-2.33 2H17'],
  sidebar: ['M4 4h16v16H4z', 'M9 4v16'],
  alert: ['M12 9v4', 'M12 17h.01', 'M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z'],
  paperclip: ['M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48'],
  checklist: ['M10 6h10', 'M10 12h10', 'M10 18h10', 'M3.5 6l1.5 1.5L7.5 5', 'M3.5 12l1.5 1.5L7.5 11', 'M3.5 18l1.5 1.5L7.5 17'],
};

export function icon(name) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const d of ICONS[name] || []) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}

/** Replace each <span data-icon="name"> in root with the icon. */
export function hydrateIcons(root = document) {
  for (const el of root.querySelectorAll('[data-icon]')) {
    el.replaceWith(icon(el.dataset.icon));
  }
}

/** Debounce: returns {run(...args), flush(), cancel()}. */
export function debounce(fn, ms) {
  let timer = 0;
  let pending = null;
  return {
    run(...args) {
      pending = args;
      clearTimeout(timer);
      timer = setTimeout(() => { const a = pending; pending = null; timer = 0; fn(...a); }, ms);
    },
    /** Runs a pending call now; returns its result (undefined when nothing was pending). */
    flush() {
      if (!pending) return undefined;
      clearTimeout(timer);
      const a = pending; pending = null; timer = 0;
      return fn(...a);
    },
    cancel() { clearTimeout(timer); pending = null; timer = 0; },
  };
}

/** Show a dismissible banner in #banners. kind: 'notice' | 'error' | 'warning'. */
/** Where something shown over the page goes: inside the open modal dialog when there is one (a
 *  modal dialog makes the rest of the page inert and covers it), else the page. */
export function overlayHost() {
  return document.querySelector('dialog[open]') || document.body;
}

/** A fixed region of the page (the toasts) moved into the open dialog while one is open. */
function liftRegion(id) {
  const region = document.getElementById(id);
  const host = overlayHost();
  if (region.parentElement !== host) host.append(region);
  return region;
}

export function showBanner(message, kind = 'notice') {
  const region = document.getElementById('banners');
  const close = h('button', {
    className: 'icon-btn banner-close',
    attrs: { type: 'button', 'aria-label': t('common.dismiss'), title: t('common.dismiss') },
  }, icon('close'));
  const banner = h('div', {
    className: `banner ${kind}`,
    attrs: { role: kind === 'error' ? 'alert' : 'status' },
  }, icon(kind === 'notice' ? 'chat' : 'alert'), h('span', { className: 'banner-text', text: message }), close);
  close.addEventListener('click', () => banner.remove());
  // Identical message already showing: replace it rather than stacking copies.
  for (const b of region.querySelectorAll('.banner')) {
    if (b.querySelector('.banner-text')?.textContent === String(message)) b.remove();
  }
  region.append(banner);
  while (region.children.length > 4) region.firstElementChild.remove();
  return banner;
}

/**
 * Show a toast in #toasts. Optional action button ({actionLabel, onAction}).
 * Returns a function that dismisses it.
 */
export function showToast(message, { actionLabel, onAction, timeout = 8000 } = {}) {
  const region = liftRegion('toasts');
  const toast = h('div', { className: 'toast', attrs: { role: 'status' } },
    h('span', { className: 'toast-text', text: message }));
  let timer = 0;
  const dismiss = () => { clearTimeout(timer); toast.remove(); };
  if (actionLabel) {
    toast.append(h('button', {
      className: 'toast-action',
      text: actionLabel,
      attrs: { type: 'button' },
      on: { click: () => { dismiss(); onAction?.(); } },
    }));
  }
  toast.append(h('button', {
    className: 'icon-btn toast-close',
    attrs: { type: 'button', 'aria-label': t('common.dismiss'), title: t('common.dismiss') },
    on: { click: dismiss },
  }, icon('close')));
  region.append(toast);
  timer = setTimeout(dismiss, timeout);
  return dismiss;
}

/**
 * Text for an error {kind, message}. The back end explains in English; other languages lead with
 * their own headline for the error kind and keep the server's detail after it.
 */
export function errorText(err) {
  const message = err && typeof err.message === 'string' ? err.message : '';
  const kind = err && typeof err.kind === 'string' ? err.kind : '';
  if (getLang() !== 'en' && kind && hasOwn(`error.kind.${kind}`)) {
    const head = t(`error.kind.${kind}`);
    return message ? `${head}（${message}）` : head;
  }
  return message || t('error.unknown');
}
