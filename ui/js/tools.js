// Tool calls in the thread: each call a reply made (function name, arguments laid out as text),
// never executed; on the newest reply, a field per call for the result the user types and a
// button that sends them back as `tool` messages. Model text reaches the DOM as textContent only.
import { errorText, h } from './dom.js';
import { t } from './i18n.js';
import { findConversation } from './state.js';

/** Pretty JSON when the arguments parse, else exactly as the model wrote them. */
export function formatArguments(args) {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return String(args ?? '');
  }
}

/**
 * The calls of a reply. With `onSend`, each call gets a result field and the block a Send button;
 * onSend([{toolCallId, content}]) is called with every result (empty ones refused).
 */
export function toolCallsBlock(message, onSend) {
  const calls = Array.isArray(message.toolCalls) ? message.toolCalls : [];
  if (!calls.length) return null;
  const fields = [];
  const list = calls.map((call) => {
    const name = call.function?.name || '?';
    const item = h('div', { className: 'tool-call', dataset: { callId: call.id || '' } },
      h('div', { className: 'tool-call-head' },
        h('span', { className: 'tool-call-label', text: t('tools.calls') }),
        h('code', { className: 'tool-call-name', text: name })),
      h('pre', { className: 'tool-call-args', text: formatArguments(call.function?.arguments ?? '') }));
    if (onSend) {
      const field = h('textarea', {
        className: 'tool-result-input',
        attrs: { rows: 2, placeholder: t('tools.resultPlaceholder', { name }), 'aria-label': t('tools.resultFor', { name }) },
      });
      fields.push({ id: call.id, field });
      item.append(field);
    }
    return item;
  });
  const block = h('div', { className: 'tool-calls' }, h('div', { className: 'tool-calls-note', text: t('tools.notExecuted') }), ...list);
  if (onSend) {
    const error = h('div', { className: 'tool-results-error', attrs: { role: 'alert', hidden: true } });
    const button = h('button', { className: 'btn btn-primary btn-small send-tool-results', attrs: { type: 'button' }, text: t('tools.sendResults') });
    button.addEventListener('click', () => {
      const results = fields.map(({ id, field }) => ({ toolCallId: id, content: field.value }));
      if (results.some((r) => !r.content.trim())) {
        error.textContent = t('tools.resultMissing');
        error.hidden = false;
        return;
      }
      error.hidden = true;
      onSend(results);
    });
    block.append(error, button);
  }
  return block;
}

// ---------------------------------------------------------------------------------------------
// The tools a conversation offers: a JSON editor in the conversation settings, checked on save.

let editor = null;
let loadedFor = null;
/** The text as loaded or last saved, and unsaved edits kept per conversation (switching away and
 *  back showed the saved tools again, the typed ones gone). */
let loadedText = null; // null while loading: nothing of the editor is the conversation's yet
const drafts = new Map();

/** Adds the editor to the conversation settings panel (once). `api` is api.js's object. */
export function initToolsEditor(api, activeId) {
  const panel = document.getElementById('conv-settings');
  if (!panel || editor) return;
  const area = h('textarea', {
    className: 'tools-json', attrs: { id: 'tools-json', rows: 6, spellcheck: 'false', placeholder: t('tools.editorPlaceholder') },
  });
  const error = h('p', { className: 'field-error', attrs: { id: 'tools-error', role: 'alert', hidden: true } });
  const saved = h('span', { className: 'tools-saved', attrs: { hidden: true }, text: t('tools.saved') });
  const save = h('button', { className: 'btn btn-secondary btn-small', attrs: { id: 'tools-save', type: 'button' }, text: t('tools.save') });
  const block = h('details', { className: 'tools-editor', attrs: { id: 'tools-editor' } },
    h('summary', { text: t('tools.editorTitle') }),
    h('p', { className: 'field-hint', text: t('tools.editorHint') }),
    area, h('div', { className: 'tools-actions' }, save, saved), error);
  const before = document.getElementById('conv-settings-error');
  if (before) before.before(block); else panel.append(block);
  editor = { area, error, saved, block, api, activeId };
  save.addEventListener('click', () => saveTools());
  // "Saved" is about the text as saved: an edit after it takes it away.
  area.addEventListener('input', () => { saved.hidden = true; });
}

function showError(text) {
  editor.error.textContent = text;
  editor.error.hidden = !text;
}

/** Loads the active conversation's tools into the editor. */
export async function loadTools(conversationId) {
  if (!editor) return;
  if (loadedFor != null && loadedText != null && editor.area.value !== loadedText) {
    drafts.set(loadedFor, editor.area.value);
  }
  loadedFor = conversationId;
  loadedText = null;
  showError('');
  editor.saved.hidden = true;
  if (!conversationId) { editor.area.value = ''; return; }
  try {
    const tools = await editor.api.getConversationTools(conversationId);
    if (loadedFor !== conversationId) return;
    loadedText = tools.length ? JSON.stringify(tools, null, 2) : '';
    editor.area.value = drafts.get(conversationId) ?? loadedText;
    editor.block.dataset.count = String(tools.length);
  } catch (err) {
    showError(errorText(err));
  }
}

async function saveTools() {
  const id = editor.activeId();
  if (!id) return;
  const raw = editor.area.value.trim();
  let tools = [];
  if (raw) {
    try {
      tools = JSON.parse(raw);
    } catch (err) {
      showError(t('tools.notJson', { error: err.message }));
      return;
    }
    if (!Array.isArray(tools)) tools = [tools];
  }
  try {
    const savedTools = await editor.api.setConversationTools(id, tools);
    // The tools are one of the conversation's parameters: the settings form keeps them.
    const conv = findConversation(id);
    if (conv) conv.tools = savedTools.length ? savedTools : null;
    showError('');
    editor.saved.hidden = false;
    editor.block.dataset.count = String(savedTools.length);
    drafts.delete(id);
    if (loadedFor === id) loadedText = editor.area.value;
  } catch (err) {
    editor.saved.hidden = true;
    showError(errorText(err));
  }
}
