// Editing a sent message in place: the editor replaces the message's text until sent or cancelled.
import { h } from './dom.js';
import { t } from './i18n.js';
import { state } from './state.js';

export function openEditor(entry) {
  if (entry.editor) { entry.editor.querySelector('textarea').focus(); return; }
  const input = h('textarea', { className: 'edit-input', attrs: { rows: 3, dir: 'auto', 'aria-label': t('chat.edit') } });
  input.value = entry.message.content;
  entry.editor = h('div', { className: 'message-editor' }, input,
    h('div', { className: 'editor-actions' },
      h('button', { className: 'btn btn-secondary btn-small edit-cancel', attrs: { type: 'button' }, text: t('chat.editCancel') }),
      h('button', { className: 'btn btn-primary btn-small edit-send', attrs: { type: 'button' }, text: t('chat.editSend') })));
  entry.body.hidden = true;
  entry.body.after(entry.editor);
  input.focus();
}

export function closeEditor(entry) {
  if (!entry || !entry.editor) return;
  entry.editor.remove();
  entry.editor = null;
  entry.body.hidden = false;
}

export async function submitEditor(entry, edit) {
  if (!entry || !entry.editor) return;
  const text = entry.editor.querySelector('textarea').value;
  if (!text.trim() || state.stream) return;
  closeEditor(entry);
  await edit(entry.message, text);
}
