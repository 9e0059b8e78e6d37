// Suite runs: the list of evaluation runs, a run's grid (rows = tests, columns = prompt × provider,
// paged), its summaries, a cell opened as a rateable reply, and two runs compared cell by cell.
// Model output reaches the DOM only through textContent (h()).
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { formatCost } from './meta.js';
import { getLang, onLangChange, t } from './i18n.js';

/** Tests per page of the grid: a 1,000-case run renders 100 rows at a time. */
export const PAGE_ROWS = 100;

let opts = { open: null };
let dialog = null;
let body = null;
let status = null;
/** What the dialog shows: {view: 'list'} | {view: 'run', id, page} | {view: 'compare', before, after, page, all}. */
let current = { view: 'list' };

/** open(conversationId, messageId): shows a conversation in the chat view (app.js). */
export function initSuiteRuns(options = {}) {
  opts = { ...opts, ...options };
  document.getElementById('open-suite-runs')?.addEventListener('click', () => showRuns());
  onLangChange(() => { if (dialog?.open) redraw(); });
}

function ensureDialog() {
  if (dialog) return;
  const close = h('button', { className: 'btn btn-ghost', text: t('settings.close'), attrs: { type: 'button', id: 'close-suite-runs' }, dataset: { i18n: 'settings.close' } });
  close.addEventListener('click', () => dialog.close());
  status = h('p', { className: 'field-error sr-error', attrs: { role: 'alert', hidden: true } });
  body = h('div', { className: 'sr-body' });
  dialog = h('dialog', { className: 'settings-dialog suiteruns-dialog', attrs: { id: 'suiteruns-dialog', 'aria-labelledby': 'suiteruns-heading' } },
    h('div', { className: 'settings-form' },
      h('header', { className: 'dialog-head' },
        h('h2', { attrs: { id: 'suiteruns-heading' }, text: t('suiteRuns.title'), dataset: { i18n: 'suiteRuns.title' } }), close),
      status, body));
  document.body.append(dialog);
}

function openDialog() {
  ensureDialog();
  if (!dialog.open) dialog.showModal();
}

/** Puts the view's parts in the body (absent parts are null). */
function fill(...parts) {
  body.replaceChildren(...parts.filter(Boolean));
}

function showError(err) {
  status.hidden = !err;
  status.textContent = err ? errorText(err) : '';
}

/** The view again in the new language (the heading and Close follow applyI18n). */
function redraw() {
  if (current.view === 'run') renderRun(current.id, current.page);
  else if (current.view === 'compare') showCompare(current.before, current.after, current.page);
  else showRuns();
}

const pct = (x) => (x == null ? '—' : `${(x * 100).toFixed(0)}%`);
const num = (x, d = 2) => (x == null ? '—' : x.toFixed(d));
const when = (ms) => new Date(ms).toLocaleString(getLang());

function statusText(s) {
  switch (s) {
    case 'running': return t('suiteRuns.status.running');
    case 'done': return t('suiteRuns.status.done');
    case 'cancelled': return t('suiteRuns.status.cancelled');
    default: return t('suiteRuns.status.error');
  }
}

function runTitle(run) {
  return `#${run.id} · ${run.description || t('suiteRuns.untitled')}`;
}

/** The runs list: date, description, status, pass rate. */
export async function showRuns() {
  current = { view: 'list' };
  openDialog();
  showError(null);
  let runs;
  try { runs = await api.listSuiteRuns(); } catch (err) { showError(err); return; }
  if (current.view !== 'list') return;
  if (!runs.length) {
    body.replaceChildren(h('p', { className: 'hint sr-empty', text: t('suiteRuns.empty') }));
    return;
  }
  const head = h('tr', {}, ...['suiteRuns.date', 'suiteRuns.description', 'suiteRuns.statusCol', 'suiteRuns.cells', 'suiteRuns.passRate']
    .map((k) => h('th', { attrs: { scope: 'col' }, text: t(k) })));
  const rows = runs.map((r) => {
    const open = h('button', { className: 'sr-link', text: runTitle(r), attrs: { type: 'button' } });
    open.addEventListener('click', () => showRun(r.id));
    return h('tr', { className: 'sr-run-row', dataset: { runId: r.id } },
      h('td', { className: 'sr-nowrap', text: when(r.createdAt) }),
      h('td', { className: 'sr-desc' }, open),
      h('td', { className: `sr-status sr-status-${r.status}`, text: statusText(r.status) }),
      h('td', { className: 'num', text: `${r.done}/${r.total}` }),
      h('td', { className: 'num', text: r.done ? pct(r.passed / r.done) : '—' }));
  });
  body.replaceChildren(h('div', { className: 'sr-scroll' },
    h('table', { className: 'sr-table sr-runs' }, h('thead', {}, head), h('tbody', {}, ...rows))));
}

function backButton(label, fn) {
  const b = h('button', { className: 'btn btn-ghost btn-small sr-back', text: label, attrs: { type: 'button' } });
  b.addEventListener('click', fn);
  return b;
}

function pager(page, pages, total, go) {
  if (pages <= 1) return null;
  const prev = h('button', { className: 'btn btn-ghost btn-small sr-prev', text: t('suiteRuns.prev'), attrs: { type: 'button', disabled: page === 0 } });
  const next = h('button', { className: 'btn btn-ghost btn-small sr-next', text: t('suiteRuns.next'), attrs: { type: 'button', disabled: page >= pages - 1 } });
  prev.addEventListener('click', () => go(page - 1));
  next.addEventListener('click', () => go(page + 1));
  const from = page * PAGE_ROWS + 1;
  const to = Math.min(total, (page + 1) * PAGE_ROWS);
  return h('div', { className: 'sr-pager' }, prev,
    h('span', { className: 'hint', text: t('suiteRuns.rows', { from, to, total }) }), next);
}

function summaryTable(summaries) {
  const keys = ['suiteRuns.prompt', 'suiteRuns.provider', 'suiteRuns.passRate', 'suiteRuns.meanScore',
    'suiteRuns.accuracy', 'suiteRuns.fluency', 'suiteRuns.diversity', 'suiteRuns.latency', 'suiteRuns.cost'];
  const head = h('tr', {}, ...keys.map((k) => h('th', { attrs: { scope: 'col' }, text: t(k) })));
  const rows = summaries.map((s) => h('tr', { className: 'sr-summary-row' },
    h('td', { className: 'sr-label', text: s.prompt, attrs: { title: s.prompt } }),
    h('td', { className: 'sr-label', text: s.provider, attrs: { title: s.provider } }),
    h('td', { className: 'num', text: `${pct(s.passRate)} (${s.passed}/${s.cells})` }),
    h('td', { className: 'num', text: num(s.meanScore) }),
    h('td', { className: 'num', text: pct(s.accuracy) }),
    h('td', { className: 'num', text: s.fluency == null ? '—' : pct(s.fluency) }),
    h('td', { className: 'num', text: num(s.diversity) }),
    h('td', { className: 'num', text: s.meanLatencyMs == null ? '—' : t('unit.ms', { n: Math.round(s.meanLatencyMs) }) }),
    h('td', { className: 'num', text: s.costUsd == null ? '—' : `$${formatCost(s.costUsd)}` })));
  return h('div', { className: 'sr-scroll' },
    h('table', { className: 'sr-table sr-summaries' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}

function columnHeads(columns) {
  return h('tr', {}, h('th', { className: 'sr-test-col', attrs: { scope: 'col' }, text: t('suiteRuns.test') }),
    ...columns.map((c) => h('th', { attrs: { scope: 'col', title: `${c.promptLabel} · ${c.providerLabel}` } },
      h('span', { className: 'sr-col-provider', text: c.providerLabel }),
      h('span', { className: 'sr-col-prompt', text: c.promptLabel }))));
}

function cellMeta(c) {
  const parts = [];
  if (c.latencyMs != null) parts.push(t('unit.ms', { n: Math.round(c.latencyMs) }));
  if (c.promptTokens != null || c.completionTokens != null) {
    parts.push(t('suiteRuns.tokens', { prompt: c.promptTokens ?? '?', completion: c.completionTokens ?? '?' }));
  }
  if (c.costUsd != null) parts.push(`$${formatCost(c.costUsd)}`);
  if (c.cached) parts.push(t('suiteRuns.cached'));
  return parts.join(' · ');
}

async function openCell(runId, c) {
  showError(null);
  try {
    const at = await api.openSuiteCell(runId, c.prompt, c.provider, c.test);
    if (opts.open) { dialog.close(); await opts.open(at.conversationId, at.messageId); }
  } catch (err) {
    showError(err);
  }
}

function gridCell(runId, c) {
  if (!c) return h('td', { className: 'sr-cell sr-missing', text: '—' });
  const verdict = c.error ? t('suiteRuns.error') : c.pass ? t('suiteRuns.pass') : t('suiteRuns.fail');
  const why = c.error || c.failed.join('\n');
  const button = h('button', {
    className: 'sr-cell-btn',
    attrs: { type: 'button', title: why ? `${t('suiteRuns.openCell')}\n${why}` : t('suiteRuns.openCell') },
  },
  h('span', { className: 'sr-cell-top' },
    h('span', { className: `sr-verdict ${c.pass ? 'sr-pass' : 'sr-fail'}`, text: verdict }),
    h('span', { className: 'sr-score', text: num(c.score) })),
  h('span', { className: 'sr-excerpt', text: c.excerpt || (c.error ? c.error : '') }),
  h('span', { className: 'sr-meta', text: cellMeta(c) }));
  button.addEventListener('click', () => openCell(runId, c));
  return h('td', { className: 'sr-cell', dataset: { pass: String(c.pass), test: c.test } }, button);
}

/** One run: its summaries, its grid, and a second run to compare it with (suitewin.js calls this
 * when a run finishes). */
export function showRun(runId) {
  return renderRun(runId, 0);
}

async function renderRun(runId, page) {
  current = { view: 'run', id: runId, page };
  openDialog();
  showError(null);
  let grid;
  let like;
  try {
    [grid, like] = await Promise.all([api.suiteRunGrid(runId), api.suiteRunsLike(runId)]);
  } catch (err) { showError(err); return; }
  if (current.view !== 'run' || current.id !== runId) return;
  const run = grid.run;
  const byKey = new Map(grid.cells.map((c) => [`${c.test}:${c.prompt}:${c.provider}`, c]));
  const pages = Math.max(1, Math.ceil(grid.tests.length / PAGE_ROWS));
  page = Math.min(page, pages - 1);
  const rows = [];
  for (let i = page * PAGE_ROWS; i < Math.min(grid.tests.length, (page + 1) * PAGE_ROWS); i++) {
    rows.push(h('tr', { className: 'sr-grid-row' },
      h('th', { className: 'sr-test-col', attrs: { scope: 'row', title: grid.tests[i] }, text: grid.tests[i] }),
      ...grid.columns.map((col) => gridCell(runId, byKey.get(`${i}:${col.prompt}:${col.provider}`)))));
  }
  const pick = h('select', { attrs: { id: 'sr-compare-with', 'aria-label': t('suiteRuns.compareWith') } },
    ...like.map((r) => h('option', { attrs: { value: r.id }, text: `${runTitle(r)} · ${when(r.createdAt)}` })));
  const compare = h('button', { className: 'btn btn-secondary btn-small', text: t('suiteRuns.compare'), attrs: { type: 'button', id: 'sr-compare', disabled: !like.length } });
  // The older run is "before", whichever was picked first.
  compare.addEventListener('click', () => {
    const other = Number(pick.value);
    if (other) showCompare(Math.min(other, runId), Math.max(other, runId));
  });
  const passed = grid.cells.filter((c) => c.pass).length;
  fill(
    h('div', { className: 'sr-bar' }, backButton(t('suiteRuns.allRuns'), () => showRuns()),
      h('h3', { className: 'sr-run-title', text: runTitle(run) }),
      h('span', { className: 'hint sr-run-meta', text: `${when(run.createdAt)} · ${statusText(run.status)} · ${t('suiteRuns.passedOf', { passed, total: grid.cells.length })}` })),
    summaryTable(grid.summaries),
    h('div', { className: 'sr-bar sr-compare-bar' },
      like.length ? h('label', { className: 'sr-compare-label' }, h('span', { text: t('suiteRuns.compareWith') }), pick)
        : h('span', { className: 'hint', text: t('suiteRuns.noComparable') }), compare),
    pager(page, pages, grid.tests.length, (p) => renderRun(runId, p)),
    h('div', { className: 'sr-scroll sr-grid-wrap' },
      h('table', { className: 'sr-table sr-grid' }, h('thead', {}, columnHeads(grid.columns)), h('tbody', {}, ...rows))));
}

const DELTAS = ['fixed', 'broken', 'better', 'worse', 'unchanged'];

function deltaLabel(d) {
  switch (d) {
    case 'fixed': return t('suiteRuns.fixed');
    case 'broken': return t('suiteRuns.broken');
    case 'better': return t('suiteRuns.better');
    case 'worse': return t('suiteRuns.worse');
    default: return t('suiteRuns.unchanged');
  }
}

function deltaCell(runId, c) {
  if (!c) return h('td', { className: 'sr-cell sr-missing', text: '—' });
  const side = ([pass, score]) => `${pass ? t('suiteRuns.pass') : t('suiteRuns.fail')} ${num(score)}`;
  const button = h('button', { className: 'sr-cell-btn', attrs: { type: 'button', title: t('suiteRuns.openCell') } },
    h('span', { className: `sr-delta sr-delta-${c.delta}`, text: deltaLabel(c.delta) }),
    h('span', { className: 'sr-meta', text: `${side(c.before)} → ${side(c.after)}` }));
  button.addEventListener('click', () => openCell(runId, c));
  return h('td', { className: 'sr-cell', dataset: { delta: c.delta, test: c.test } }, button);
}

/** Two runs compared: counts at the top, then the second run's grid by what changed. */
export async function showCompare(before, after, page = 0, all = false) {
  current = { view: 'compare', before, after, page, all };
  openDialog();
  showError(null);
  let cmp;
  try { cmp = await api.compareSuiteRuns(before, after); } catch (err) { showError(err); return; }
  if (current.view !== 'compare' || current.before !== before || current.after !== after) return;
  const k = cmp.comparison;
  const counts = { fixed: k.fixed.length, broken: k.broken.length, better: k.better.length, worse: k.worse.length, unchanged: k.unchanged };
  const byKey = new Map(cmp.cells.map((c) => [`${c.test}:${c.prompt}:${c.provider}`, c]));
  // Rows: the tests with a change (all tests when asked).
  const changed = new Set(cmp.cells.filter((c) => c.delta !== 'unchanged').map((c) => c.test));
  const tests = cmp.tests.map((name, i) => ({ name, i })).filter((r) => all || changed.has(r.i));
  const pages = Math.max(1, Math.ceil(tests.length / PAGE_ROWS));
  page = Math.min(page, pages - 1);
  const rows = tests.slice(page * PAGE_ROWS, (page + 1) * PAGE_ROWS).map(({ name, i }) => h('tr', { className: 'sr-grid-row' },
    h('th', { className: 'sr-test-col', attrs: { scope: 'row', title: name }, text: name }),
    ...cmp.columns.map((col) => deltaCell(after, byKey.get(`${i}:${col.prompt}:${col.provider}`)))));
  const toggle = h('label', { className: 'sr-toggle' },
    h('input', { attrs: { type: 'checkbox', id: 'sr-show-all', checked: all } }), h('span', { text: t('suiteRuns.showUnchanged') }));
  toggle.querySelector('input').addEventListener('change', (e) => showCompare(before, after, 0, e.target.checked));
  const extra = [];
  if (k.onlyBefore) extra.push(t('suiteRuns.onlyBefore', { n: k.onlyBefore }));
  if (k.onlyAfter) extra.push(t('suiteRuns.onlyAfter', { n: k.onlyAfter }));
  fill(
    h('div', { className: 'sr-bar' }, backButton(t('suiteRuns.backToRun'), () => showRun(after)),
      h('h3', { className: 'sr-run-title', text: t('suiteRuns.comparing', { before: `#${cmp.before.id}`, after: `#${cmp.after.id}` }) })),
    h('div', { className: 'sr-counts', attrs: { role: 'status' } },
      ...DELTAS.map((d) => h('span', { className: `sr-count sr-delta-${d}`, dataset: { count: d } },
        h('strong', { text: String(counts[d]) }), ` ${deltaLabel(d)}`))),
    extra.length ? h('p', { className: 'hint', text: extra.join(' · ') }) : null,
    h('div', { className: 'sr-bar' }, toggle),
    pager(page, pages, tests.length, (p) => showCompare(before, after, p, all)),
    tests.length ? h('div', { className: 'sr-scroll sr-grid-wrap' },
      h('table', { className: 'sr-table sr-grid sr-compare' }, h('thead', {}, columnHeads(cmp.columns)), h('tbody', {}, ...rows)))
      : h('p', { className: 'hint sr-empty', text: t('suiteRuns.nothingChanged') }));
}
