// The saved prompt library: search and sort, edit (every changed save a new version with a
// message), history with diff and rollback, scores per version, favourite, start a conversation
// from a prompt, import (Parley JSON or act,prompt CSV) and export.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { choose } from './slash.js';
import { paramKeys } from './params.js';
import { activeConversation } from './state.js';

const $ = (id) => document.getElementById(id);
let current = null; // the prompt being edited (null = a new one)
let preset = null; // the preset being edited: {model?, profileId?, settings?}
let hooks = { startConversation: async () => {}, inserted: () => {} };

export function initPrompts(opts) {
  hooks = { ...hooks, ...opts };
  $('open-prompts').addEventListener('click', () => openLibrary());
  $('close-prompts').addEventListener('click', () => $('prompts-dialog').close());
  $('prompt-search').addEventListener('input', () => loadList());
  $('prompt-sort').addEventListener('change', () => loadList());
  $('prompt-new').addEventListener('click', () => edit(null));
  $('prompt-save').addEventListener('click', () => save());
  $('prompt-delete').addEventListener('click', () => remove());
  $('prompt-fav').addEventListener('click', () => favourite());
  $('prompt-rename').addEventListener('click', () => rename());
  $('prompt-name').addEventListener('keydown', (e) => {
    if (!current || $('prompt-name').disabled || e.isComposing) return;
    if (e.key === 'Enter') { e.preventDefault(); rename(); }
    if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); $('prompt-name').value = current.name; $('prompt-name').disabled = true; }
  });
  $('prompt-use').addEventListener('click', () => use());
  $('prompt-diff').addEventListener('click', () => showDiff());
  $('prompt-export').addEventListener('click', () => exportAll());
  $('prompt-import').addEventListener('change', (e) => importFile(e.target.files?.[0]));
  $('prompt-preset-from').addEventListener('click', () => presetFromConversation());
}

let formReady = false;

export function openLibrary() {
  $('prompts-dialog').showModal();
  loadList();
  // The form is set up once; a new prompt typed and not saved yet is still there when the
  // library is opened again (it was wiped).
  if (!formReady) { formReady = true; edit(null); }
  $('prompt-search').focus();
}

function status(msg) { $('prompt-status').textContent = msg || ''; }

async function loadList() {
  const ul = $('prompt-list');
  try {
    const list = await api.listPrompts($('prompt-search').value, $('prompt-sort').value);
    ul.replaceChildren(...list.map((p) => h('li', {
      className: current && current.name === p.name ? 'selected' : '',
      dataset: { name: p.name },
    }, h('button', { className: 'prompt-item', attrs: { type: 'button' }, on: { click: () => edit(p) } },
      h('span', { className: 'prompt-item-name', text: `${p.favourite ? '★ ' : ''}/${p.name}` }),
      h('span', { className: 'hint', text: `${p.latest.title} · v${p.latest.version} · ${t('prompts.uses', { n: p.useCount })}` })))));
    if (!list.length) ul.replaceChildren(h('li', { className: 'hint', text: t('prompts.empty') }));
  } catch (err) {
    ul.replaceChildren(h('li', { className: 'field-error', text: errorText(err) }));
  }
}

async function edit(p) {
  current = p;
  const d = p?.latest || { title: '', body: '', systemPrompt: '', tags: [], preset: null };
  $('prompt-name').value = p?.name || '';
  $('prompt-name').disabled = !!p;
  $('prompt-title').value = d.title;
  $('prompt-body').value = d.body;
  $('prompt-system').value = d.systemPrompt || '';
  $('prompt-tags').value = (d.tags || []).join(', ');
  $('prompt-model').value = d.preset?.model || '';
  preset = d.preset ? { ...d.preset } : null;
  showPreset();
  $('prompt-message').value = '';
  $('prompt-fav').textContent = p?.favourite ? t('prompts.unfavourite') : t('prompts.favourite');
  for (const id of ['prompt-delete', 'prompt-fav', 'prompt-use', 'prompt-rename']) $(id).disabled = !p;
  $('prompt-diff-out').replaceChildren();
  status('');
  await loadHistory();
  for (const li of $('prompt-list').querySelectorAll('li')) li.classList.toggle('selected', li.dataset.name === p?.name);
}

async function loadHistory() {
  const el = $('prompt-history');
  if (!current) { el.replaceChildren(); return; }
  try {
    const [versions, scores] = await Promise.all([api.promptVersions(current.name), api.promptScores(current.name)]);
    const byVersion = new Map(scores.map((s) => [s.version, s]));
    const f = (x) => (x == null ? '—' : x.toFixed(1));
    const head = h('tr', {}, ...['prompts.version', 'prompts.message2', 'prompts.usedIn', 'prompts.rating', 'prompts.judge', 'prompts.suite', '']
      .map((k) => h('th', { attrs: { scope: 'col' }, text: k ? t(k) : '' })));
    const rows = versions.map((v) => {
      const s = byVersion.get(v.version) || {};
      return h('tr', { dataset: { version: v.version } },
        h('td', {}, h('label', {}, h('input', { className: 'diff-pick', attrs: { type: 'checkbox', value: v.version } }), ` v${v.version}`)),
        h('td', { text: v.message || '' }),
        h('td', { className: 'num', text: String(s.uses ?? 0) }),
        h('td', { className: 'num', text: s.rated ? `${f(s.meanScore)} (${s.rated}; +${s.thumbsUp} −${s.thumbsDown})` : '—' }),
        h('td', { className: 'num', text: s.judged ? `${f(s.meanJudgeScore)}/10 (${s.judged})` : '—' }),
        suiteCell(s, v.version),
        h('td', {}, v.version === versions[0].version ? ''
          : h('button', { className: 'btn btn-ghost btn-small prompt-rollback', attrs: { type: 'button' }, text: t('prompts.rollback'), on: { click: () => rollback(v.version) } })));
    });
    el.replaceChildren(h('table', { className: 'leaderboard' }, h('thead', {}, head), h('tbody', {}, ...rows)));
  } catch (err) {
    el.replaceChildren(h('p', { className: 'field-error', text: errorText(err) }));
  }
}

/** A version's evaluation-suite pass rate: its latest run's cells passed, and the runs that used it. */
function suiteCell(s, version) {
  if (!s.suiteCells) return h('td', { className: 'num suite-rate', text: '—' });
  const rate = `${Math.round((100 * s.suitePassed) / s.suiteCells)}%`;
  return h('td', {
    className: 'num suite-rate',
    text: t('prompts.suiteRate', { rate, run: s.suiteLatestRun, runs: s.suiteRuns }),
    attrs: { title: t('prompts.suiteRateTitle', { passed: s.suitePassed, cells: s.suiteCells, name: current.name, version }) },
  });
}

/** What a preset keeps of a conversation: its parameters (the back end's table) and endpoint. */
const presetKeys = () => [...paramKeys(), 'endpoint'];

function showPreset() {
  const parts = [];
  if (preset?.profileId != null) parts.push(t('prompts.presetProfile', { id: preset.profileId }));
  const shown = (v) => {
    if (Array.isArray(v)) return v.map((x) => (typeof x === 'object' ? x?.name ?? '…' : x)).join('|');
    return v && typeof v === 'object' ? (v.name || v.type || '…') : v;
  };
  for (const [k, v] of Object.entries(preset?.settings || {})) parts.push(`${k}=${shown(v)}`);
  $('prompt-preset').textContent = parts.length ? t('prompts.presetIs', { list: parts.join(', ') }) : '';
}

/** The preset = the active conversation's profile, model and parameters. */
function presetFromConversation() {
  const conv = activeConversation();
  if (!conv) { status(t('prompts.noConversation')); return; }
  const settings = {};
  for (const k of presetKeys()) {
    const v = conv[k];
    if (v != null && !(Array.isArray(v) && !v.length) && !(k === 'endpoint' && v === 'chat')) settings[k] = v;
  }
  preset = { profileId: conv.profileId ?? null, settings };
  if (conv.model) $('prompt-model').value = conv.model;
  showPreset();
}

function draft() {
  const model = $('prompt-model').value.trim();
  const p = { ...(preset || {}) };
  if (model) p.model = model; else delete p.model;
  if (p.profileId == null) delete p.profileId;
  if (p.settings && !Object.keys(p.settings).length) delete p.settings;
  return {
    title: $('prompt-title').value,
    body: $('prompt-body').value,
    systemPrompt: $('prompt-system').value,
    tags: $('prompt-tags').value.split(/[,，]/).map((s) => s.trim()).filter(Boolean),
    preset: Object.keys(p).length ? p : null,
  };
}

async function save() {
  try {
    const saved = await api.savePrompt($('prompt-name').value.trim(), draft(), $('prompt-message').value);
    const newVersion = !current || saved.latest.version !== current.latest.version;
    await edit(saved);
    status(newVersion ? t('prompts.saved', { version: saved.latest.version }) : t('prompts.unchanged'));
    loadList();
  } catch (err) {
    status(errorText(err));
  }
}

async function rollback(version) {
  try {
    const saved = await api.rollbackPrompt(current.name, version);
    await edit(saved);
    status(t('prompts.saved', { version: saved.latest.version }));
    loadList();
  } catch (err) { status(errorText(err)); }
}

async function remove() {
  if (!current || !window.confirm(t('prompts.confirmDelete', { name: current.name }))) return;
  try {
    await api.deletePrompt(current.name);
    await edit(null);
    loadList();
  } catch (err) { status(errorText(err)); }
}

/** First click: the name becomes editable; second click (or Enter): the prompt takes it. */
async function rename() {
  if (!current) return;
  const field = $('prompt-name');
  if (field.disabled) {
    field.disabled = false;
    field.focus();
    field.select();
    status(t('prompts.renamePrompt', { name: current.name }));
    return;
  }
  const name = field.value.trim();
  if (!name || name === current.name) { field.value = current.name; field.disabled = true; status(''); return; }
  try {
    const renamed = await api.renamePrompt(current.name, name);
    await edit(renamed);
    status(t('prompts.renamed', { name: renamed.name }));
    loadList();
  } catch (err) { status(errorText(err)); field.focus(); }
}

async function favourite() {
  try {
    await edit(await api.setPromptFavourite(current.name, !current.favourite));
    loadList();
  } catch (err) { status(errorText(err)); }
}

/** Starts a conversation configured by the prompt's preset, then inserts it (asking for its variables). */
async function use() {
  if (!current) return;
  const p = current;
  $('prompts-dialog').close();
  try {
    await hooks.startConversation(p);
    await choose(p, hooks.inserted);
  } catch (err) { status(errorText(err)); }
}

async function showDiff() {
  const picked = [...document.querySelectorAll('.diff-pick:checked')].map((c) => Number(c.value)).sort((a, b) => a - b);
  if (picked.length !== 2) { status(t('prompts.pickTwo')); return; }
  try {
    const lines = await api.promptDiff(current.name, picked[0], picked[1]);
    const mark = { equal: '  ', delete: '− ', insert: '+ ' };
    $('prompt-diff-out').replaceChildren(...lines.map((l) => h('div', { className: `diff-${l.tag}`, text: mark[l.tag] + l.text })));
    status(t('prompts.diffOf', { a: picked[0], b: picked[1] }));
  } catch (err) { status(errorText(err)); }
}

async function exportAll() {
  try {
    const path = await api.exportPrompts();
    if (path) status(t('ratings.exported', { path }));
  } catch (err) { status(errorText(err)); }
}

async function importFile(file) {
  if (!file) return;
  try {
    const report = await api.importPrompts(await file.text());
    status(t('prompts.imported', { n: report.imported.length, d: report.duplicates.length }));
    loadList();
  } catch (err) { status(errorText(err)); }
  $('prompt-import').value = '';
}

// A language switch redraws the version history (its headings and suite rates are built with t()).
onLangChange(() => { if (current) loadHistory(); });
