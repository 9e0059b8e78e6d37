// Ratings per model: a table, the 1–5 distribution and the weekly trend as charts (Chart.js,
// loaded when first needed), and export to CSV / JSON.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { getLang, t } from './i18n.js';
import { loadVerdictList } from './verdicts.js';

const $ = (id) => document.getElementById(id);
let chartLib = null;
let charts = [];

function loadChartJs() {
  if (!chartLib) {
    chartLib = new Promise((resolve) => {
      if (window.Chart) { resolve(window.Chart); return; }
      const s = document.createElement('script');
      s.src = 'vendor/lib/chart.umd.min.js';
      s.addEventListener('load', () => resolve(window.Chart || null));
      s.addEventListener('error', () => resolve(null));
      document.head.append(s);
    });
  }
  return chartLib;
}

export function initRatingsView() {
  $('export-csv').addEventListener('click', () => exportAs('csv'));
  $('export-json').addEventListener('click', () => exportAs('json'));
  // Axes and labels follow the theme (Chart.js draws grey on a canvas, unreadable in dark).
  document.addEventListener('parley-theme', () => recolour());
  window.matchMedia?.('(prefers-color-scheme: dark)').addEventListener?.('change', () => recolour());
}

/** The theme's colours for chart text, ticks and grid lines, as the page resolves them (the
 * variables hold light-dark() pairs, which a canvas cannot read: a probe element resolves them). */
function themeColours() {
  const probe = document.createElement('span');
  probe.hidden = true;
  document.body.append(probe);
  const v = (name) => { probe.style.color = `var(${name})`; return getComputedStyle(probe).color; };
  const out = { text: v('--text'), ticks: v('--muted'), grid: v('--border') };
  probe.remove();
  return out;
}

/** Sets a chart's text, axis and grid colours from the theme. */
function paintAxes(chart) {
  const c = themeColours();
  const o = chart.options;
  o.color = c.text;
  o.plugins.title.color = c.text;
  o.plugins.legend.labels.color = c.text;
  for (const axis of Object.values(o.scales)) {
    axis.ticks.color = c.ticks;
    axis.grid.color = c.grid;
    axis.border.color = c.grid;
  }
}

function recolour() {
  for (const chart of charts) { paintAxes(chart); chart.update('none'); }
}

/**
 * The day the user's weeks start on, 1 = Monday … 7 = Sunday: the locale's week (Intl.Locale
 * weekInfo where the webview has it), else Sunday for en-US and Monday elsewhere (zh-CN, ISO).
 */
export function firstDayOfWeek(lang = getLang(), browser = navigator.language) {
  const tag = lang === 'en' && browser?.startsWith('en') ? browser : (lang === 'en' ? 'en-US' : lang);
  try {
    const loc = new Intl.Locale(tag);
    const info = typeof loc.getWeekInfo === 'function' ? loc.getWeekInfo() : loc.weekInfo;
    if (info && info.firstDay >= 1 && info.firstDay <= 7) return info.firstDay;
  } catch { /* fall through */ }
  return /^en-US$|^en$/.test(tag) ? 7 : 1;
}

function filter() {
  return { tag: $('lb-tag').value.trim() || null, firstDay: firstDayOfWeek() };
}

async function exportAs(format) {
  const status = $('export-status');
  status.textContent = '';
  try {
    const path = await api.exportRatings(filter(), format);
    // null: the save dialog was cancelled.
    if (path) status.textContent = t('ratings.exported', { path });
  } catch (err) {
    status.textContent = errorText(err);
  }
}

const fmt = (x, d = 1) => (x == null ? '—' : x.toFixed(d));

/** The judge's verdicts under the ratings, with the same tag and since filters. */
function loadVerdicts() {
  const day = $('lb-since')?.value;
  loadVerdictList($('verdicts-view'), { tag: $('lb-tag').value.trim() || null, since: day ? new Date(`${day}T00:00:00`).getTime() : null });
}

export async function loadRatingsView() {
  loadVerdicts();
  const el = $('ratings-view');
  let models;
  try {
    models = await api.ratingsByModel(filter());
  } catch (err) {
    el.replaceChildren(h('p', { className: 'field-error', text: errorText(err) }));
    return;
  }
  charts.forEach((c) => c.destroy());
  charts = [];
  if (!models.length) { el.replaceChildren(h('p', { className: 'hint', text: t('ratings.empty') })); return; }
  const head = h('tr', {}, ...['lb.model', 'ratings.rated', 'ratings.up', 'ratings.down', 'ratings.mean', 'ratings.topTags']
    .map((k) => h('th', { attrs: { scope: 'col' }, text: t(k) })));
  const rows = models.map((m) => h('tr', { dataset: { model: m.model } },
    h('td', { className: 'rv-model', text: m.model }),
    h('td', { className: 'num rv-rated', text: String(m.rated) }),
    h('td', { className: 'num', text: String(m.thumbsUp) }),
    h('td', { className: 'num', text: String(m.thumbsDown) }),
    h('td', { className: 'num rv-mean', text: fmt(m.meanScore, 2) }),
    h('td', { text: Object.entries(m.tags).sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} (${n})`).join(', ') })));
  const dist = h('canvas', { className: 'lb-chart', attrs: { id: 'ratings-dist', role: 'img', 'aria-label': t('ratings.distChart') } });
  const trend = h('canvas', { className: 'lb-chart', attrs: { id: 'ratings-trend', role: 'img', 'aria-label': t('ratings.trendChart') } });
  el.replaceChildren(h('table', { className: 'leaderboard' }, h('thead', {}, head), h('tbody', {}, ...rows)),
    h('div', { className: 'chart-box' }, dist), h('div', { className: 'chart-box' }, trend));
  const Chart = await loadChartJs();
  if (!Chart) return; // the table says it all
  const palette = ['#4f6bed', '#e0a100', '#2e9d6a', '#c4302b', '#8a4fed', '#1aa3b8', '#777'];
  const color = (i) => palette[i % palette.length];
  charts.push(new Chart(dist, {
    type: 'bar',
    data: {
      labels: ['1', '2', '3', '4', '5'],
      datasets: models.map((m, i) => ({ label: m.model, data: m.scores, backgroundColor: color(i) })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: t('ratings.distChart') } },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  }));
  paintAxes(charts[charts.length - 1]);
  charts[charts.length - 1].update('none');
  const weeks = [...new Set(models.flatMap((m) => m.trend.map(([w]) => w)))].sort((a, b) => a - b);
  charts.push(new Chart(trend, {
    type: 'line',
    data: {
      labels: weeks.map((w) => new Date(w).toLocaleDateString()),
      datasets: models.map((m, i) => {
        const byWeek = new Map(m.trend.map(([w, mean]) => [w, mean]));
        return { label: m.model, data: weeks.map((w) => byWeek.get(w) ?? null), borderColor: color(i), spanGaps: true };
      }),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { title: { display: true, text: t('ratings.trendChart') } },
      scales: { y: { min: 1, max: 5 } },
    },
  }));
  paintAxes(charts[charts.length - 1]);
  charts[charts.length - 1].update('none');
}
