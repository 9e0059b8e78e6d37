// The keyboard shortcuts overlay: `?` (outside a text field) or Ctrl+/ opens a list of every
// shortcut the window knows; Escape or the close button closes it.
import { h, isTyping } from './dom.js';
import { t } from './i18n.js';

/** [keys, i18n key of what they do]; one list, shown as is. */
const SHORTCUTS = [
  ['Ctrl+N', 'shortcuts.newChat'],
  ['Ctrl+B', 'shortcuts.sidebar'],
  ['Enter', 'shortcuts.send'],
  ['Shift+Enter', 'shortcuts.newline'],
  ['Esc', 'shortcuts.stop'],
  ['/', 'shortcuts.prompts'],
  ['↑ ↓', 'shortcuts.moveList'],
  ['Ctrl+Home', 'shortcuts.firstMessage'],
  ['Ctrl+End', 'shortcuts.lastMessage'],
  ['F2', 'shortcuts.rename'],
  ['Delete', 'shortcuts.delete'],
  ['? / Ctrl+/', 'shortcuts.help'],
];

const $ = (id) => document.getElementById(id);

function render() {
  $('shortcuts-list').replaceChildren(...SHORTCUTS.flatMap(([keys, what]) => [
    h('dt', {}, ...keys.split(' / ').flatMap((k, i) => [i ? ' / ' : null, h('kbd', { text: k })])),
    h('dd', { text: t(what) }),
  ]));
}

export function openShortcuts() {
  const dialog = $('shortcuts-dialog');
  render();
  if (!dialog.open) dialog.showModal();
}

export function initShortcuts() {
  const dialog = $('shortcuts-dialog');
  $('close-shortcuts').addEventListener('click', () => dialog.close());
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing || e.altKey) return;
    const ctrlSlash = (e.ctrlKey || e.metaKey) && e.key === '/';
    const question = e.key === '?' && !e.ctrlKey && !e.metaKey && !isTyping(e.target);
    if (!ctrlSlash && !question) return;
    if (document.querySelector('dialog[open]:not(#shortcuts-dialog)')) return;
    e.preventDefault();
    if (dialog.open) dialog.close(); else openShortcuts();
  });
}
