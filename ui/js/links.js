// Every way a link could leave the app (click, middle click, Enter, target=_blank, window.open)
// ends here (SECURITY.md W7): the Rust side checks the URL, the user sees the full URL and
// confirms, and the Rust side checks it again before the system opens it.
import api from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';

let dialog = null;

function buildDialog() {
  const title = h('h2', { className: 'link-title', attrs: { id: 'link-dialog-title' } });
  const message = h('p', { className: 'link-message' });
  const url = h('p', { className: 'link-url', attrs: { dir: 'ltr' } });
  const note = h('p', { className: 'link-note hint' });
  const cancel = h('button', { className: 'btn btn-secondary link-cancel', attrs: { type: 'button' } });
  const open = h('button', { className: 'btn btn-primary link-open', attrs: { type: 'button' } });
  const el = h('dialog', {
    className: 'link-dialog',
    attrs: { id: 'link-dialog', 'aria-labelledby': 'link-dialog-title' },
  }, title, message, url, note, h('div', { className: 'link-actions' }, cancel, open));
  document.body.append(el);
  const d = { el, title, message, url, note, cancel, open, resolve: null };
  const finish = (answer) => {
    const r = d.resolve;
    d.resolve = null;
    if (el.open) el.close();
    if (r) r(answer);
  };
  cancel.addEventListener('click', () => finish(false));
  open.addEventListener('click', () => finish(true));
  el.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
  return d;
}

/** Shows the dialog; resolves true when the user chose Open. */
function ask({ title, message, url, note, canOpen }) {
  if (!dialog) dialog = buildDialog();
  const d = dialog;
  if (d.resolve) d.resolve(false);
  d.title.textContent = title;
  d.message.textContent = message;
  d.url.textContent = url || '';
  d.url.hidden = !url;
  d.note.textContent = note || '';
  d.note.hidden = !note;
  d.open.hidden = !canOpen;
  d.open.textContent = t('link.open');
  d.cancel.textContent = canOpen ? t('link.cancel') : t('link.close');
  d.el.dataset.state = canOpen ? 'confirm' : 'refused';
  return new Promise((resolve) => {
    d.resolve = resolve;
    if (!d.el.open) d.el.showModal();
    d.cancel.focus(); // the safe choice has the focus: Enter alone never opens a link
  });
}

/** The one entry point for opening a link from the page. */
export async function requestOpenLink(href) {
  const raw = href == null ? '' : String(href);
  let link;
  try {
    link = await api.checkLink(raw);
  } catch (err) {
    await ask({
      title: t('link.refusedTitle'),
      message: err && err.message ? err.message : t('error.unknown'),
      url: null,
      canOpen: false,
    });
    return false;
  }
  const yes = await ask({
    title: t('link.confirmTitle'),
    message: link.scheme === 'mailto' ? t('link.confirmMail') : t('link.confirmMessage'),
    url: link.url,
    note: link.idn ? t('link.idnNote', { host: link.host }) : '',
    canOpen: true,
  });
  if (!yes) return false;
  try {
    await api.openLink(link.url);
    return true;
  } catch (err) {
    // The user said no in the native dialog (Rust asks again: the page is not trusted to).
    if (err && err.kind === 'cancelled') return false;
    await ask({
      title: t('link.failedTitle'),
      message: err && err.message ? err.message : t('error.unknown'),
      url: link.url,
      canOpen: false,
    });
    return false;
  }
}

function linkOf(e) {
  return e.target instanceof Element ? e.target.closest('a[href]') : null;
}

let installed = false;

/** Installs the document-wide guards (once). */
export function installLinkGuard() {
  if (installed) return;
  installed = true;
  // Capture phase: nothing else sees the event first. Enter on a focused link fires click too.
  document.addEventListener('click', (e) => {
    const a = linkOf(e);
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    requestOpenLink(a.getAttribute('href'));
  }, true);
  // Middle click (and any other button) on a link.
  document.addEventListener('auxclick', (e) => {
    const a = linkOf(e);
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    if (e.button === 1) requestOpenLink(a.getAttribute('href'));
  }, true);
  // No dragging a link out to another app or into the window as a navigation.
  document.addEventListener('dragstart', (e) => { if (linkOf(e)) e.preventDefault(); }, true);
  // Forms never submit anywhere (there are none from replies; belt and braces).
  document.addEventListener('submit', (e) => e.preventDefault(), true);
  // window.open() (including from a future library) goes the same way and never opens a window.
  window.open = (url) => {
    if (url != null && String(url) !== '') requestOpenLink(String(url));
    return null;
  };
}
