// The response format of a conversation (structured outputs): text, JSON object, or JSON following
// a schema, in the conversation settings panel. A schema is checked by the back end (the one check
// in core params/structured.rs) when saved: one the API would reject is explained, point by point,
// and not saved, so it is never sent. Replies under a schema are checked after streaming
// (structured.js shows the outcome).
import { api } from './api.js';
import { emit, findConversation, state, upsertConversation } from './state.js';
import { h } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
let activeId = () => null;
let flushPending = () => Promise.resolve();
let ui = null;

/** A text node that follows the language. */
function label(key, tag = 'span', className = '') {
  return h(tag, { className, text: t(key), dataset: { i18n: key } });
}

/**
 * Adds the editor to the conversation settings panel (once); `getId` gives the loaded conversation,
 * `flush` lands the panel's pending edits.
 */
export function initSchemaEditor(getId, flush) {
  const panel = $('conv-settings');
  if (!panel || ui) return;
  activeId = getId;
  flushPending = flush;
  const option = (value, key) => {
    const o = h('option', { attrs: { value }, text: t(key) });
    o.dataset.i18n = key;
    return o;
  };
  const kind = h('select', { attrs: { id: 'response-format' } },
    option('text', 'schema.text'), option('json_object', 'schema.jsonObject'), option('json_schema', 'schema.jsonSchema'));
  const name = h('input', { attrs: { id: 'schema-name', type: 'text', value: 'answer', spellcheck: 'false', maxlength: 64 } });
  const strict = h('input', { attrs: { id: 'schema-strict', type: 'checkbox', checked: true } });
  const area = h('textarea', {
    className: 'schema-json', attrs: { id: 'schema-json', rows: 6, spellcheck: 'false', placeholder: t('schema.placeholder') },
  });
  const check = h('button', { className: 'btn btn-secondary btn-small', attrs: { id: 'schema-check', type: 'button' } });
  check.append(label('schema.check'));
  const saved = label('schema.saved', 'span', 'schema-saved');
  saved.hidden = true;
  const problems = h('div', { className: 'field-error schema-problems', attrs: { id: 'schema-error', role: 'alert', hidden: true } });
  const schemaFields = h('div', { className: 'schema-fields' },
    h('label', { className: 'field field-narrow' }, label('schema.name', 'span', 'field-label'), name),
    h('label', { className: 'schema-strict' }, strict, h('span', { text: ' ' }), label('schema.strict')),
    area, h('div', { className: 'tools-actions' }, check, saved));
  const block = h('details', { className: 'schema-editor', attrs: { id: 'schema-editor' } },
    h('summary', {}, label('schema.title')),
    label('schema.hint', 'p', 'field-hint'),
    h('label', { className: 'field field-narrow' }, label('schema.format', 'span', 'field-label'), kind),
    schemaFields, problems);
  const before = $('conv-settings-error');
  if (before) before.before(block); else panel.append(block);
  ui = { block, kind, name, strict, area, check, saved, problems, schemaFields };
  kind.addEventListener('change', () => {
    showFields();
    // Text and JSON mode need nothing more: saved at once. A schema waits for "Check and save".
    if (kind.value !== 'json_schema') save();
  });
  check.addEventListener('click', () => save());
  for (const el of [name, strict, area]) el.addEventListener('input', () => { saved.hidden = true; });
}

function showFields() {
  ui.schemaFields.hidden = ui.kind.value !== 'json_schema';
}

function showProblems(head, list) {
  ui.problems.replaceChildren();
  ui.problems.hidden = !head;
  if (!head) return;
  ui.problems.append(h('p', { text: head }), h('ul', {}, ...list.map((p) => h('li', { text: p }))));
}

/** Fills the editor from a conversation (or empties it). */
export function loadSchema(conv) {
  if (!ui) return;
  const f = conv?.responseFormat || null;
  ui.kind.value = f?.type || 'text';
  ui.name.value = f?.name || 'answer';
  ui.strict.checked = f ? !!f.strict : true;
  ui.area.value = f?.schema ? JSON.stringify(f.schema, null, 2) : '';
  ui.saved.hidden = true;
  showProblems(null);
  showFields();
  for (const el of [ui.kind, ui.name, ui.strict, ui.area, ui.check]) el.disabled = !conv;
  ui.block.dataset.format = ui.kind.value;
}

/** What the editor holds, or null after showing why it cannot be sent. */
function read() {
  const type = ui.kind.value;
  if (type === 'text') return { format: null };
  if (type === 'json_object') return { format: { type } };
  let schema;
  try {
    schema = JSON.parse(ui.area.value);
  } catch (err) {
    showProblems(t('schema.notJson', { error: err.message }), []);
    return null;
  }
  return { format: { type, name: ui.name.value.trim(), schema, strict: ui.strict.checked } };
}

/** The back end's refusal ("The API would reject this schema: a; b") as a heading and a list. */
function explain(err) {
  const message = String(err?.message ?? err ?? '');
  const at = message.indexOf(': ');
  if (!message.startsWith('The API would reject') || at < 0) return [message, []];
  return [t('schema.rejected'), message.slice(at + 2).split('; ')];
}

async function save() {
  const id = activeId();
  if (!id) return;
  ui.saved.hidden = true;
  const got = read();
  if (!got) { ui.area.setAttribute('aria-invalid', 'true'); return; }
  // A pending edit of the other settings lands first (it keeps this parameter as saved).
  await flushPending();
  try {
    const updated = await api.setConversationResponseFormat(id, got.format);
    upsertConversation(updated);
    emit('conversation-updated', updated);
    ui.area.removeAttribute('aria-invalid');
    showProblems(null);
    ui.saved.hidden = got.format?.type !== 'json_schema';
    ui.block.dataset.format = ui.kind.value;
  } catch (err) {
    ui.area.setAttribute('aria-invalid', 'true');
    const [head, list] = explain(err);
    showProblems(head, list);
  }
  if (state.activeId !== id) loadSchema(findConversation(state.activeId));
}
