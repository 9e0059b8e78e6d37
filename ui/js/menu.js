// A small context menu (keyboard and mouse) and a one-line text prompt, for organising.
import { h, overlayHost } from './dom.js';
import { t } from './i18n.js';

let open = null;

export function closeMenu() {
  if (!open) return;
  const { el, returnFocus } = open;
  open = null;
  el.remove();
  returnFocus?.focus?.();
}

/**
 * Opens a menu at (x, y). items: [{label, onSelect, checked?, danger?, color?} | 'separator'].
 * Arrow keys move, Enter chooses, Escape closes.
 */
export function openMenu(x, y, items, { label = '', returnFocus = document.activeElement } = {}) {
  closeMenu();
  const el = h('div', { className: 'org-menu', attrs: { role: 'menu', 'aria-label': label } });
  for (const item of items) {
    if (item === 'separator') { el.append(h('div', { className: 'org-menu-sep', attrs: { role: 'separator' } })); continue; }
    const role = item.checked == null ? 'menuitem' : 'menuitemcheckbox';
    const btn = h('button', {
      className: `org-menu-item${item.danger ? ' danger' : ''}`,
      attrs: { type: 'button', role, 'aria-checked': item.checked == null ? null : String(!!item.checked), tabindex: '-1' },
      on: { click: () => { closeMenu(); item.onSelect?.(); } },
    });
    if (item.checked != null) btn.append(h('span', { className: 'org-check', text: item.checked ? '✓' : '' }));
    if (item.color) {
      const dot = h('span', { className: 'tag-dot' });
      dot.style.setProperty('--tag', item.color);
      btn.append(dot);
    }
    btn.append(h('span', { text: item.label }));
    el.append(btn);
  }
  el.addEventListener('keydown', (e) => {
    const buttons = [...el.querySelectorAll('.org-menu-item')];
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length]?.focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length]?.focus(); }
    else if (e.key === 'Escape' || e.key === 'Tab') { e.preventDefault(); e.stopPropagation(); closeMenu(); }
  });
  // Inside an open modal dialog (Settings' "Export all…"): under it, the menu could not be used.
  overlayHost().append(el);
  const r = el.getBoundingClientRect();
  el.style.left = `${Math.max(4, Math.min(x, window.innerWidth - r.width - 4))}px`;
  el.style.top = `${Math.max(4, Math.min(y, window.innerHeight - r.height - 4))}px`;
  open = { el, returnFocus };
  el.querySelector('.org-menu-item')?.focus();
}

document.addEventListener('mousedown', (e) => {
  if (open && !open.el.contains(e.target)) closeMenu();
}, true);

/** Asks for one line of text in a small modal; resolves to the trimmed text, or null. */
export function askText(title, initial = '', { withColor = null } = {}) {
  return new Promise((resolve) => {
    const input = h('input', { className: 'text-input', attrs: { type: 'text', maxlength: '100', 'aria-label': title } });
    input.value = initial;
    const color = withColor ? h('input', { attrs: { type: 'color', 'aria-label': t('org.color') } }) : null;
    if (color) color.value = withColor;
    const ok = h('button', { className: 'btn btn-primary', text: t('org.ok'), attrs: { type: 'submit' } });
    const cancel = h('button', { className: 'btn btn-ghost', text: t('org.cancel'), attrs: { type: 'button' } });
    const form = h('form', { className: 'ask-form', attrs: { method: 'dialog' } },
      h('h2', { className: 'ask-title', text: title }),
      h('div', { className: 'ask-row' }, input, color),
      h('div', { className: 'ask-actions' }, cancel, ok));
    const dialog = h('dialog', { className: 'ask-dialog', attrs: { 'aria-label': title } }, form);
    let done = false;
    const finish = (value) => {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      finish(v ? (color ? { name: v, color: color.value } : v) : null);
    });
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(null); });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
    input.select();
  });
}

/** Asks yes or no in a small modal (never the page's window.confirm); resolves to a boolean. */
export function askYes(title, yesLabel) {
  return new Promise((resolve) => {
    const yes = h('button', { className: 'btn btn-danger', text: yesLabel, attrs: { type: 'submit', id: 'ask-yes' } });
    const no = h('button', { className: 'btn btn-ghost', text: t('org.cancel'), attrs: { type: 'button' } });
    const form = h('form', { className: 'ask-form', attrs: { method: 'dialog' } },
      h('p', { className: 'ask-title', text: title }),
      h('div', { className: 'ask-actions' }, no, yes));
    const dialog = h('dialog', { className: 'ask-dialog', attrs: { 'aria-label': title } }, form);
    const finish = (v) => { dialog.close(); dialog.remove(); resolve(v); };
    form.addEventListener('submit', (e) => { e.preventDefault(); finish(true); });
    no.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); finish(false); });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
