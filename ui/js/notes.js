// Small inline notes above the composer, where the window would otherwise be silent: a saved
// prompt's system prompt that was not applied (with Apply), a new branch that hid later turns
// (with the way back). One note per kind; each belongs to the conversation it was shown in and
// goes when another conversation is opened.
import { h, icon } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { state } from './state.js';

const box = () => document.getElementById('composer-notes');
/** Each note's words, as functions, so a change of language redraws them. */
const words = new WeakMap();

onLangChange(() => {
  for (const note of box()?.querySelectorAll('.inline-note') || []) {
    const w = words.get(note);
    if (!w) continue;
    note.querySelector('.note-text').textContent = w.text();
    const btn = note.querySelector('.note-action');
    if (btn && w.label) btn.textContent = w.label();
    const close = note.querySelector('.note-close');
    close.title = t('note.close');
    close.setAttribute('aria-label', t('note.close'));
  }
});

/**
 * Shows (or replaces) the note of `kind`: text() its words, and an optional action {label(),
 * run} whose promise resolving to a function of words replaces them (and drops the button); to
 * null, removes the note.
 */
export function showNote(kind, text, action = null) {
  hideNote(kind);
  const msg = h('span', { className: 'note-text', text: text() });
  const close = h('button', {
    className: 'icon-btn note-close',
    attrs: { type: 'button', title: t('note.close'), 'aria-label': t('note.close') },
  }, icon('close'));
  const note = h('div', {
    className: 'inline-note',
    dataset: { note: kind, conversation: state.activeId ?? '' },
    attrs: { role: 'status' },
  }, msg);
  words.set(note, { text, label: action?.label });
  if (action) {
    const btn = h('button', { className: 'btn btn-secondary btn-small note-action', attrs: { type: 'button' }, text: action.label() });
    btn.addEventListener('click', async () => {
      btn.disabled = true;
      try {
        const after = await action.run();
        if (after == null) { note.remove(); syncBox(); return; }
        words.set(note, { text: after });
        msg.textContent = after();
        btn.remove();
      } finally {
        btn.disabled = false;
      }
    });
    note.append(btn);
  }
  close.addEventListener('click', () => { note.remove(); syncBox(); });
  note.append(close);
  box().append(note);
  syncBox();
}

export function hideNote(kind) {
  box()?.querySelector(`.inline-note[data-note="${kind}"]`)?.remove();
  syncBox();
}

/** Drops the notes of conversations other than the one on screen. */
export function keepNotesOf(conversationId) {
  for (const n of box()?.querySelectorAll('.inline-note') || []) {
    if (n.dataset.conversation !== String(conversationId ?? '')) n.remove();
  }
  syncBox();
}

function syncBox() {
  const el = box();
  if (el) el.hidden = !el.firstElementChild;
}
