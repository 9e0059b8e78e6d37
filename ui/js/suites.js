// Evaluation suites in the window: the library (new, import a promptfooconfig.yaml, edit, export,
// delete) and runs with a progress bar, the time left and Stop (finished cells are kept). When a
// run ends, the runs view (suiteruns.js, when present) shows it; else a summary line does.
import { api, newStreamId } from './api.js';
import { clear, errorText, h, showToast } from './dom.js';
import { getLang, onLangChange, t } from './i18n.js';
import { editSuite, initSuiteEditor, render as renderEditor } from './suiteedit.js';
import { showRun } from './suiteruns.js';

const $ = (id) => document.getElementById(id);
let suites = [];
/** The run in progress: {key, name, progress}, or null. */
let running = null;
let lastLine = '';

export function initSuites() {
  initSuiteEditor({ onSaved: () => loadList(), onRun: (id, name) => runSuite(id, name) });
  $('open-suites').addEventListener('click', () => openSuites());
  $('close-suites').addEventListener('click', () => $('suites-dialog').close());
  $('suites-back').addEventListener('click', () => showLibrary());
  $('suite-new').addEventListener('click', () => openEditor(null));
  $('suite-import').addEventListener('click', () => importSuite());
  $('suite-run-cancel').addEventListener('click', () => { if (running) api.cancelStream(running.key).catch(() => {}); });
  onLangChange(() => { renderList(); renderEditor(); showProgress(); headings(); });
}

export function openSuites() {
  if (!$('suites-dialog').open) $('suites-dialog').showModal();
  // A suite being edited when the dialog was closed (Esc) is still there, unsaved work and all;
  // Back goes to the library.
  if (inEditor()) headings();
  else showLibrary();
}

function inEditor() { return !$('suite-editor').hidden; }

function headings() {
  $('suites-heading').textContent = t(inEditor() ? 'suites.editTitle' : 'suites.title');
}

function showLibrary() {
  $('suite-editor').hidden = true;
  $('suites-library').hidden = false;
  $('suites-back').hidden = true;
  headings();
  loadList();
}

async function openEditor(id) {
  let saved = null;
  if (id != null) {
    try {
      saved = await api.loadSuite(id);
    } catch (err) { showToast(errorText(err)); return; }
  }
  $('suites-library').hidden = true;
  $('suite-editor').hidden = false;
  $('suites-back').hidden = false;
  headings();
  await editSuite(saved);
  $('suite-name').focus();
}

async function loadList() {
  try {
    suites = await api.listSuites();
  } catch (err) {
    suites = [];
    showToast(errorText(err));
  }
  renderList();
}

function when(ms) {
  try {
    return new Date(ms).toLocaleString(getLang(), { dateStyle: 'medium', timeStyle: 'short' });
  } catch { return new Date(ms).toISOString(); }
}

function renderList() {
  const list = $('suite-list');
  clear(list);
  $('suite-empty').hidden = suites.length > 0;
  for (const s of suites) {
    const button = (key, cls, onClick) => h('button', {
      className: `btn btn-small ${cls}`, text: t(key), attrs: { type: 'button' }, on: { click: onClick },
    });
    const del = button('suites.delete', 'btn-danger suite-delete', () => confirmDelete(del, s));
    list.append(h('li', { className: 'suite-row', dataset: { id: s.id } },
      h('div', { className: 'suite-row-text' },
        h('span', { className: 'suite-row-name', text: s.name }),
        h('span', { className: 'hint', text: t('suites.meta', { kb: Math.max(1, Math.round(s.bytes / 1024)), when: when(s.updatedAt) }) })),
      h('div', { className: 'suite-row-actions' },
        Object.assign(button('suites.run', 'btn-primary suite-run-btn', () => runSuite(s.id, s.name)), { disabled: !!running }),
        button('suites.edit', 'btn-secondary suite-edit', () => openEditor(s.id)),
        button('suites.export', 'btn-secondary suite-export', () => exportSuite(s.id)),
        del)));
  }
}

/** Delete asks once more on the button itself, for four seconds. */
function confirmDelete(button, s) {
  if (button.dataset.armed) {
    api.deleteSuite(s.id).then(() => loadList()).catch((err) => showToast(errorText(err)));
    return;
  }
  button.dataset.armed = '1';
  button.textContent = `${t('suites.delete')}?`;
  setTimeout(() => {
    if (!button.isConnected) return;
    delete button.dataset.armed;
    button.textContent = t('suites.delete');
  }, 4000);
}

async function importSuite() {
  try {
    const info = await api.importSuite();
    if (!info) return;
    showToast(t('suites.imported', { name: info.name }));
    await loadList();
  } catch (err) {
    showToast(errorText(err), { timeout: 20000 });
  }
}

async function exportSuite(id) {
  try {
    const path = await api.exportSuite(id);
    if (path) showToast(t('suites.exported', { path }));
  } catch (err) { showToast(errorText(err)); }
}

function duration(ms) {
  const s = Math.max(1, Math.round(ms / 1000));
  return s < 90 ? t('suites.seconds', { n: s }) : t('suites.minutes', { n: Math.round(s / 60) });
}

function showProgress() {
  const box = $('suite-run');
  for (const b of document.querySelectorAll('#suite-list .suite-run-btn, #suite-save-run')) b.disabled = !!running;
  if (!running) {
    box.hidden = !lastLine;
    $('suite-run-cancel').hidden = true;
    $('suite-run-name').textContent = '';
    $('suite-run-text').textContent = lastLine;
    return;
  }
  const p = running.progress;
  box.hidden = false;
  $('suite-run-cancel').hidden = false;
  $('suite-run-name').textContent = t('suites.running', { name: running.name });
  const bar = $('suite-run-bar');
  bar.max = Math.max(1, p.total);
  bar.value = p.done;
  let text = t('suites.progress', p);
  if (p.etaMs != null) text += ` · ${t('suites.eta', { time: duration(p.etaMs) })}`;
  $('suite-run-text').textContent = text;
}

/** Runs a saved suite; one run at a time from the window. */
export async function runSuite(id, name) {
  if (running) { showToast(t('suites.busy')); return; }
  running = { key: newStreamId(), name, progress: { done: 0, total: 0, passed: 0, failed: 0, etaMs: null } };
  $('suite-run').dataset.state = 'running';
  showProgress();
  let summary = null;
  try {
    summary = await api.runLibrarySuite({ suiteId: id, runKey: running.key }, (p) => {
      if (!running) return;
      running.progress = p;
      showProgress();
    });
  } catch (err) {
    lastLine = errorText(err);
  }
  running = null;
  if (summary) {
    const p = summary.progress;
    lastLine = t(summary.cancelled ? 'suites.stopped' : 'suites.finished', { id: summary.runId, ...p });
    $('suite-run-bar').value = p.done;
  }
  $('suite-run').dataset.state = summary ? (summary.cancelled ? 'stopped' : 'done') : 'error';
  if (summary) $('suite-run').dataset.runId = String(summary.runId);
  showProgress();
  if (summary) showRunView(summary.runId);
}

/** The finished (or stopped) run opens as its grid; the summary line stays under it either way. */
function showRunView(runId) {
  showRun(runId);
}
