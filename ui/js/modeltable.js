// The model table dialog: prices per million tokens and context windows, one editable row per model.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
let statusTimer = 0;

export function initModelTable() {
  $('open-models').addEventListener('click', () => openModelTable());
  $('close-models').addEventListener('click', () => $('models-dialog').close());
  $('add-model-row').addEventListener('click', () => {
    const row = buildRow({ model: '', inputPerM: null, outputPerM: null, contextWindow: null });
    $('model-table-body').prepend(row);
    row.querySelector('input').focus();
  });
}

export async function openModelTable() {
  showError(null);
  $('models-dialog').showModal();
  try {
    const rows = await api.listModelTable();
    $('model-table-body').replaceChildren(...rows.map(buildRow));
  } catch (err) {
    showError(errorText(err));
  }
}

function numberInput(cls, value, attrs) {
  const el = h('input', { className: cls, attrs: { type: 'number', min: 0, inputmode: 'decimal', ...attrs } });
  el.value = value ?? '';
  return el;
}

function buildRow(info) {
  const model = h('input', {
    className: 'mt-model', attrs: { type: 'text', spellcheck: 'false', autocomplete: 'off', 'aria-label': t('models.model') },
  });
  model.value = info.model;
  const input = numberInput('mt-input', info.inputPerM, { step: '0.01', 'aria-label': t('models.input') });
  const output = numberInput('mt-output', info.outputPerM, { step: '0.01', 'aria-label': t('models.output') });
  const context = numberInput('mt-context', info.contextWindow, { step: '1', min: 1, 'aria-label': t('models.context') });
  const remove = h('button', { className: 'btn btn-ghost btn-small mt-remove', attrs: { type: 'button' }, text: t('models.remove') });
  const row = h('tr', { dataset: { saved: info.model } },
    h('td', {}, model), h('td', {}, input), h('td', {}, output), h('td', {}, context), h('td', {}, remove));
  for (const el of [model, input, output, context]) el.addEventListener('change', () => saveRow(row));
  remove.addEventListener('click', () => removeRow(row));
  return row;
}

function num(el) {
  const raw = el.value.trim();
  return raw === '' ? null : Number(raw);
}

async function saveRow(row) {
  const name = row.querySelector('.mt-model').value.trim();
  if (!name) return;
  const info = {
    model: name,
    inputPerM: num(row.querySelector('.mt-input')),
    outputPerM: num(row.querySelector('.mt-output')),
    contextWindow: num(row.querySelector('.mt-context')),
  };
  try {
    const saved = await api.saveModelInfo(info);
    // Renamed: the old row goes, so one model never has two prices.
    const old = row.dataset.saved;
    if (old && old !== saved.model) await api.removeModelInfo(old).catch(() => {});
    row.dataset.saved = saved.model;
    showError(null);
    clearTimeout(statusTimer);
    $('model-table-status').textContent = t('models.saved');
    statusTimer = setTimeout(() => { $('model-table-status').textContent = ''; }, 2000);
  } catch (err) {
    showError(errorText(err));
  }
}

async function removeRow(row) {
  try {
    if (row.dataset.saved) await api.removeModelInfo(row.dataset.saved);
    row.remove();
    showError(null);
  } catch (err) {
    showError(errorText(err));
  }
}

function showError(msg) {
  const el = $('model-table-error');
  el.textContent = msg || '';
  el.hidden = !msg;
}
