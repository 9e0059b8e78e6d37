// The suite editor: name, description, prompts (one box each, {{var}}), providers (typed, or a
// saved profile and model → parley:PROFILE:MODEL) and the table of cases (columns: variables and
// promptfoo's __expected… columns; tab-separated text pasted from a spreadsheet fills it).
// Everything shown from a suite goes in through value / textContent.
import { api } from './api.js';
import { clear, errorText, h, icon } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
/** {id, name, doc} of the suite being edited (id null: not saved yet). */
let current = null;
let profiles = [];

const SPECIAL = { __description: 'suites.colDescription', __threshold: 'suites.colThreshold', __grader: 'suites.colGrader' };
const isExpected = (c) => /^__expected\d*$/.test(c);

/** onSaved(saved) after each save; onRun(id, name) for "Save and run". */
export function initSuiteEditor({ onSaved, onRun }) {
  $('suite-add-prompt').addEventListener('click', () => { current.doc.prompts.push({ text: '', label: null }); renderPrompts(true); });
  $('suite-add-provider').addEventListener('click', () => addPicked());
  $('suite-pick-profile').addEventListener('change', () => showDefaultModel());
  $('suite-add-row').addEventListener('click', () => addRow());
  $('suite-add-var').addEventListener('click', () => addColumn(freeName('var')));
  $('suite-add-expected').addEventListener('click', () => addColumn(nextExpected()));
  $('suite-paste-fill').addEventListener('click', () => fillFrom($('suite-paste-text').value, true));
  $('suite-table-wrap').addEventListener('paste', (e) => {
    const text = e.clipboardData?.getData('text/plain') || '';
    if (!text.includes('\t')) return; // one value: an ordinary paste into the cell
    e.preventDefault();
    fillFrom(text, false);
  });
  $('suite-save').addEventListener('click', async () => { const s = await save(); if (s) onSaved(s); });
  $('suite-save-run').addEventListener('click', async () => {
    const s = await save();
    if (s) { onSaved(s); onRun(s.info.id, s.info.name); }
  });
  $('suite-export').addEventListener('click', async () => {
    const s = await save();
    if (!s) return;
    onSaved(s);
    try {
      const path = await api.exportSuite(s.info.id);
      if (path) status(t('suites.exported', { path }));
    } catch (err) { showError(errorText(err)); }
  });
}

/** Opens `saved` ({info, doc}) in the editor, or a new suite when null. */
export async function editSuite(saved) {
  current = saved
    ? { id: saved.info.id, name: saved.info.name, doc: saved.doc }
    : {
      id: null,
      name: '',
      doc: {
        description: '',
        prompts: [{ text: 'Q: {{question}}', label: null }],
        providers: [],
        table: { columns: ['question', '__expected'], rows: [['', '']] },
        maxConcurrency: null,
      },
    };
  $('suite-name').value = current.name;
  $('suite-description').value = current.doc.description || '';
  showError('');
  status(saved ? t('suites.saved', { cells: saved.cells }) : '');
  render();
  await loadProfiles();
}

/** Redraws what is built in code (after a language change too). */
export function render() {
  if (!current) return;
  renderPrompts(false);
  renderProviders(false);
  renderTable();
}

function showError(msg) {
  $('suite-error').textContent = msg || '';
  $('suite-error').hidden = !msg;
}

function status(msg) { $('suite-status').textContent = msg || ''; }

function removeButton(label, onClick) {
  return h('button', {
    className: 'icon-btn suite-remove',
    attrs: { type: 'button', title: label, 'aria-label': label },
    on: { click: onClick },
  }, icon('close'));
}

function renderPrompts(focusLast) {
  const box = $('suite-prompts');
  clear(box);
  current.doc.prompts.forEach((p, i) => {
    const area = h('textarea', {
      className: 'suite-prompt',
      attrs: { rows: 2, spellcheck: 'false', 'aria-label': t('suites.promptLabel', { n: i + 1 }) },
      on: { input: (e) => { p.text = e.target.value; } },
    });
    area.value = p.text;
    box.append(h('div', { className: 'suite-item' }, area,
      removeButton(t('suites.remove'), () => { current.doc.prompts.splice(i, 1); renderPrompts(false); })));
  });
  if (focusLast) box.querySelector('.suite-item:last-child textarea')?.focus();
}

function renderProviders(focusLast) {
  const box = $('suite-providers');
  clear(box);
  current.doc.providers.forEach((p, i) => {
    const input = h('input', {
      className: 'suite-provider',
      attrs: { type: 'text', spellcheck: 'false', autocomplete: 'off', 'aria-label': t('suites.providerLabel', { n: i + 1 }) },
      on: { input: (e) => { p.id = e.target.value; } },
    });
    input.value = p.id;
    box.append(h('div', { className: 'suite-item' }, input,
      removeButton(t('suites.remove'), () => { current.doc.providers.splice(i, 1); renderProviders(false); })));
  });
  if (focusLast) box.querySelector('.suite-item:last-child input')?.focus();
}

async function loadProfiles() {
  try {
    profiles = (await api.listProfiles()).profiles || [];
  } catch { profiles = []; }
  const select = $('suite-pick-profile');
  clear(select);
  for (const p of profiles) select.append(h('option', { text: p.name, attrs: { value: p.name } }));
  showDefaultModel();
}

function showDefaultModel() {
  const p = profiles.find((x) => x.name === $('suite-pick-profile').value);
  $('suite-pick-model').placeholder = p?.defaultModel || t('suites.pickModel');
}

function addPicked() {
  const profile = $('suite-pick-profile').value;
  const p = profiles.find((x) => x.name === profile);
  const model = $('suite-pick-model').value.trim() || p?.defaultModel || '';
  if (!profile || !model) { $('suite-pick-model').focus(); return; }
  current.doc.providers.push({ id: `parley:${profile}:${model}`, label: null, config: null });
  $('suite-pick-model').value = '';
  renderProviders(false);
}

// ----- the table of cases -----

function columnTitle(c) {
  if (isExpected(c)) return t('suites.expected');
  return SPECIAL[c] ? t(SPECIAL[c]) : c;
}

function renderTable() {
  const { columns, rows } = current.doc.table;
  const head = $('suite-table').tHead;
  const body = $('suite-table').tBodies[0];
  clear(head);
  clear(body);
  const tr = h('tr');
  columns.forEach((c, ci) => {
    const removeCol = removeButton(t('suites.removeColumn', { name: columnTitle(c) }), () => removeColumn(ci));
    let title;
    if (isExpected(c) || SPECIAL[c]) {
      title = h('span', { className: 'suite-col-title', text: columnTitle(c) });
    } else {
      title = h('input', {
        className: 'suite-col-name',
        attrs: { type: 'text', spellcheck: 'false', autocomplete: 'off', 'aria-label': t('suites.varName') },
        on: { change: (e) => { columns[ci] = e.target.value.trim(); } },
      });
      title.value = c;
    }
    tr.append(h('th', { className: isExpected(c) ? 'suite-col expected' : 'suite-col', attrs: { scope: 'col' } },
      h('div', { className: 'suite-col-head' }, title, removeCol)));
  });
  tr.append(h('th', { className: 'suite-row-tools', attrs: { scope: 'col' } }));
  head.append(tr);
  rows.forEach((row, ri) => {
    const r = h('tr');
    columns.forEach((c, ci) => {
      const cell = h('textarea', {
        className: 'suite-cell',
        attrs: { rows: 1, spellcheck: 'false', 'aria-label': `${columnTitle(c)} ${ri + 1}` },
        on: { input: (e) => { row[ci] = e.target.value; } },
      });
      cell.value = row[ci] ?? '';
      r.append(h('td', {}, cell));
    });
    r.append(h('td', { className: 'suite-row-tools' },
      removeButton(t('suites.removeRow', { n: ri + 1 }), () => { rows.splice(ri, 1); renderTable(); })));
    body.append(r);
  });
}

function addRow() {
  const { columns, rows } = current.doc.table;
  rows.push(columns.map(() => ''));
  renderTable();
  $('suite-table').tBodies[0].lastElementChild?.querySelector('textarea')?.focus();
}

function freeName(base) {
  const taken = new Set(current.doc.table.columns);
  let n = 1;
  while (taken.has(`${base}${n}`)) n += 1;
  return `${base}${n}`;
}

function nextExpected() {
  const taken = new Set(current.doc.table.columns);
  if (!taken.has('__expected')) return '__expected';
  let n = 2;
  while (taken.has(`__expected${n}`)) n += 1;
  return `__expected${n}`;
}

function addColumn(name) {
  const { columns, rows } = current.doc.table;
  // Variables before the expected columns, as promptfoo's CSV files have them.
  const at = isExpected(name) ? columns.length : columns.findIndex((c) => c.startsWith('__'));
  const i = at < 0 ? columns.length : at;
  columns.splice(i, 0, name);
  for (const r of rows) r.splice(i, 0, '');
  renderTable();
}

function removeColumn(i) {
  const { columns, rows } = current.doc.table;
  columns.splice(i, 1);
  for (const r of rows) r.splice(i, 1);
  renderTable();
}

const blank = (rows) => rows.every((r) => r.every((c) => !String(c).trim()));

/** Pasted text → rows: into an empty table as it is; else appended, columns matched by name. */
async function fillFrom(text, fromBox) {
  if (!text.trim()) return;
  let pasted;
  try {
    pasted = await api.pasteSuiteTable(text);
  } catch (err) { showError(errorText(err)); return; }
  showError('');
  const table = current.doc.table;
  if (blank(table.rows)) {
    current.doc.table = pasted;
  } else {
    for (const c of pasted.columns) {
      if (!table.columns.includes(c)) {
        table.columns.push(c);
        for (const r of table.rows) r.push('');
      }
    }
    for (const p of pasted.rows) {
      table.rows.push(table.columns.map((c) => {
        const j = pasted.columns.indexOf(c);
        return j < 0 ? '' : p[j];
      }));
    }
  }
  if (fromBox) $('suite-paste-text').value = '';
  renderTable();
  status(t('suites.pasted', { n: pasted.rows.length }));
}

/** Saves the editor's suite; resolves to the saved suite, or null (the error is shown). */
export async function save() {
  const name = $('suite-name').value.trim();
  if (!name) { showError(t('suites.unsaved')); $('suite-name').focus(); return null; }
  current.doc.description = $('suite-description').value;
  // A renamed column is read when it loses focus; read them all now.
  for (const input of document.querySelectorAll('#suite-table .suite-col-name')) input.dispatchEvent(new Event('change'));
  try {
    const saved = await api.saveSuite(current.id, name, current.doc);
    current = { id: saved.info.id, name: saved.info.name, doc: saved.doc };
    showError('');
    status(t('suites.saved', { cells: saved.cells }));
    render();
    return saved;
  } catch (err) {
    showError(errorText(err));
    return null;
  }
}
