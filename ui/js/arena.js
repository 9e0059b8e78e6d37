// The blind arena: one prompt, two models picked at random from a pool, names hidden until the
// vote; and the leaderboard (Bradley–Terry with bootstrap intervals) from every vote.
import { api, newStreamId } from './api.js';
import { debounce, errorText, h } from './dom.js';
import { t } from './i18n.js';
import { appendStreamingText, renderReplyInto } from './render.js';
import { initRatingsView, loadRatingsView } from './ratingsview.js';
import { refreshConversations } from './sidebar.js';
import { pairBar } from './judge.js';

const $ = (id) => document.getElementById(id);
let round = null; // {battleId, streamIds, texts: ['', ''], ids: [a, b], raf}
let profiles = () => [];
/** The pool of the last round, remembered between openings (and restarts). */
const POOL_KEY = 'parley.arenaPool';

/** getProfiles() → [{id, name}] for model@Profile in the pool. */
export function initArena(getProfiles) {
  profiles = getProfiles;
  $('open-arena').addEventListener('click', () => openArena());
  $('close-arena').addEventListener('click', () => $('arena-dialog').close());
  $('arena-start').addEventListener('click', () => start());
  for (const b of document.querySelectorAll('.arena-vote')) b.addEventListener('click', () => vote(b.dataset.winner));
  for (const b of document.querySelectorAll('.arena-stop')) {
    b.addEventListener('click', () => {
      const id = round?.streamIds[Number(b.dataset.side)];
      if (id) api.cancelStream(id).catch(() => {});
    });
  }
  try { $('arena-pool').value = localStorage.getItem(POOL_KEY) || ''; } catch { /* private mode */ }
  $('arena-pool').addEventListener('change', () => rememberPool());
  initRatingsView();
  const reload = debounce(() => { loadLeaderboard(); loadRatingsView(); }, 300);
  $('lb-source').addEventListener('change', () => reload.run());
  $('lb-tag').addEventListener('input', () => reload.run());
  $('lb-since').addEventListener('change', () => reload.run());
  $('save-reasons').addEventListener('click', () => saveReasons());
  $('rubric-pick').addEventListener('change', () => showRubric());
  $('save-rubric').addEventListener('click', () => saveRubric());
}

export function openArena() {
  $('arena-dialog').showModal();
  loadLeaderboard();
  loadRatingsView();
  loadAgreement();
  loadReasons();
  loadRubrics();
  ($('arena-pool').value ? $('arena-prompt') : $('arena-pool')).focus();
}

function rememberPool() {
  try { localStorage.setItem(POOL_KEY, $('arena-pool').value.trim()); } catch { /* private mode */ }
}

function showError(msg) {
  $('arena-error').textContent = msg || '';
  $('arena-error').hidden = !msg;
}

function parsePool() {
  const list = profiles();
  return $('arena-pool').value.split(/[,，\n]/).map((s) => s.trim()).filter(Boolean).map((entry) => {
    const at = entry.lastIndexOf('@');
    const named = at > 0 ? list.find((p) => p.name === entry.slice(at + 1).trim()) : null;
    return named ? { model: entry.slice(0, at).trim(), profileId: named.id } : { model: entry, profileId: null };
  });
}

function setBusy(busy) {
  $('arena-start').disabled = busy;
  for (const b of document.querySelectorAll('.arena-stop')) b.hidden = !busy;
  for (const b of document.querySelectorAll('.arena-vote')) b.disabled = busy || !round || round.voted;
}

async function start() {
  if (round && round.busy) return;
  const content = $('arena-prompt').value;
  if (!content.trim()) { $('arena-prompt').focus(); return; }
  showError(null);
  rememberPool();
  const streamIds = [newStreamId(), newStreamId()];
  round = { battleId: null, streamIds, texts: ['', ''], ids: [], busy: true, voted: false, raf: 0 };
  const ctx = round;
  $('arena-round').hidden = false;
  $('arena-reveal').hidden = true;
  document.querySelector('#arena-round .pair-judge')?.remove();
  $('arena-a').replaceChildren();
  $('arena-b').replaceChildren();
  setBusy(true);
  try {
    const result = await api.arenaRound({ content, pool: parsePool(), streamIds }, (ev) => onEvent(ctx, ev));
    if (ctx !== round) return;
    ctx.battleId = result.battleId;
    renderReplyInto($('arena-a'), result.replyA.content);
    renderReplyInto($('arena-b'), result.replyB.content);
  } catch (err) {
    if (ctx === round) { showError(errorText(err)); if (!ctx.ids.length) $('arena-round').hidden = true; }
  } finally {
    if (ctx === round) { ctx.busy = false; setBusy(false); }
    // The round is a conversation of its own: the sidebar shows it, marked as an arena round.
    if (ctx.ids.length) refreshConversations();
  }
}

function onEvent(ctx, ev) {
  if (ctx !== round || !ev) return;
  if (ev.type === 'started') {
    ctx.ids[ev.choiceIndex === 1 ? 1 : 0] = ev.assistantMessageId;
  } else if (ev.type === 'delta') {
    const side = ctx.ids.indexOf(ev.replyId);
    if (side < 0) return;
    ctx.texts[side] += ev.text ?? '';
    if (!ctx.raf) {
      ctx.raf = requestAnimationFrame(() => {
        ctx.raf = 0;
        appendStreamingText($('arena-a'), ctx.texts[0], 0);
        appendStreamingText($('arena-b'), ctx.texts[1], 0);
      });
    }
  }
}

async function vote(winner) {
  if (!round || round.busy || round.voted || round.battleId == null) return;
  try {
    const { battle } = await api.arenaVote(round.battleId, winner);
    round.voted = true;
    setBusy(false);
    $('arena-reveal').textContent = t('arena.reveal', { a: battle.modelA, b: battle.modelB });
    $('arena-reveal').hidden = false;
    // Once the names are out, the pair can go to the judge as well.
    const pair = [{ id: round.ids[0], label: battle.modelA }, { id: round.ids[1], label: battle.modelB }];
    $('arena-reveal').after(pairBar(() => pair));
    $('arena-start').textContent = t('arena.next');
    loadLeaderboard();
  } catch (err) {
    showError(errorText(err));
  }
}

function pct(x) { return x == null ? '—' : `${Math.round(x * 100)}%`; }
function num(x) { return x == null || !Number.isFinite(x) ? '—' : Math.round(x).toString(); }

export async function loadLeaderboard() {
  const el = $('leaderboard');
  const sinceDay = $('lb-since').value; // yyyy-mm-dd, local midnight
  const since = sinceDay ? new Date(`${sinceDay}T00:00:00`).getTime() : null;
  const filter = { source: $('lb-source').value || null, tag: $('lb-tag').value.trim() || null, since };
  try {
    const board = await api.leaderboard(filter);
    if (!board.rows.length) { el.replaceChildren(h('p', { className: 'hint', text: t('lb.empty') })); return; }
    const head = h('tr', {}, ...['lb.rank', 'lb.model', 'lb.rating', 'lb.ci', 'lb.battles', 'lb.winRate', 'lb.elo']
      .map((k) => h('th', { attrs: { scope: 'col' }, text: t(k) })));
    const rows = board.rows.map((r, i) => h('tr', { dataset: { model: r.model } },
      h('td', { className: 'num', text: String(i + 1) }),
      h('td', { className: 'lb-model', text: r.model }),
      h('td', { className: 'num lb-rating', text: num(r.rating) }),
      h('td', { className: 'num', text: `${num(r.ciLow)} – ${num(r.ciHigh)}` }),
      h('td', { className: 'num lb-battles', text: String(r.battles) }),
      h('td', { className: 'num', text: pct(r.winRate) }),
      h('td', { className: 'num', text: num(r.elo) })));
    el.replaceChildren(h('table', { className: 'leaderboard' }, h('thead', {}, head), h('tbody', {}, ...rows)));
    renderMatrix(board);
  } catch (err) {
    el.replaceChildren(h('p', { className: 'field-error', text: errorText(err) }));
    $('win-matrix').replaceChildren();
  }
}

/** Row model's win rate against the column model (ties as half), with the battle count. */
function renderMatrix(board) {
  const el = $('win-matrix');
  const models = board.models || [];
  if (models.length < 2 || !board.winMatrix) { el.replaceChildren(); return; }
  const head = h('tr', {}, h('th', { attrs: { scope: 'col' }, text: t('lb.matrix') }),
    ...models.map((m) => h('th', { attrs: { scope: 'col' }, text: m })));
  const body = models.map((m, i) => h('tr', {}, h('th', { attrs: { scope: 'row' }, text: m }),
    ...models.map((_, j) => {
      const rate = board.winMatrix[i]?.[j];
      const n = board.battleCounts?.[i]?.[j] ?? 0;
      return h('td', { className: 'num', text: i === j || rate == null ? '—' : `${pct(rate)} (${n})` });
    })));
  el.replaceChildren(h('table', { className: 'leaderboard win-matrix' }, h('thead', {}, head), h('tbody', {}, ...body)));
}

async function loadReasons() {
  try {
    $('reason-list').value = (await api.listRatingReasons()).join('\n');
  } catch (err) {
    $('reason-status').textContent = errorText(err);
  }
}

async function saveReasons() {
  try {
    const saved = await api.setRatingReasons($('reason-list').value.split('\n'));
    $('reason-list').value = saved.join('\n');
    $('reason-status').textContent = t('models.saved');
  } catch (err) {
    $('reason-status').textContent = errorText(err);
  }
}

/** Per judge and rubric: does the judge agree with you? */
export async function loadAgreement() {
  const el = $('agreement');
  try {
    const rows = await api.judgeAgreement();
    if (!rows.length) { el.replaceChildren(h('p', { className: 'hint', text: t('agree.empty') })); return; }
    const f = (x, d = 2) => (x == null ? '—' : x.toFixed(d));
    const head = h('tr', {}, ...['agree.judge', 'agree.rubric', 'agree.scored', 'agree.spearman', 'agree.pairs', 'agree.percent', 'agree.kappa']
      .map((k) => h('th', { attrs: { scope: 'col' }, text: t(k) })));
    const body = rows.map((r) => h('tr', {},
      h('td', { text: r.judgeModel }),
      h('td', { text: `${r.rubric} v${r.rubricVersion}` }),
      h('td', { className: 'num', text: String(r.scores.items) }),
      h('td', { className: 'num', text: f(r.scores.spearman) }),
      h('td', { className: 'num', text: String(r.pairwise.items) }),
      h('td', { className: 'num', text: pct(r.pairwise.percentAgreement) }),
      h('td', { className: 'num', text: f(r.pairwise.kappa) })));
    el.replaceChildren(h('table', { className: 'leaderboard' }, h('thead', {}, head), h('tbody', {}, ...body)),
      h('p', { className: 'hint', text: t('agree.note') }));
  } catch (err) {
    el.replaceChildren(h('p', { className: 'field-error', text: errorText(err) }));
  }
}

// Judge rubrics: editable, and every save is a new version (verdicts keep the version they used).
let rubrics = [];

async function loadRubrics(selectName = null) {
  try {
    rubrics = await api.listRubrics();
    const pick = $('rubric-pick');
    pick.replaceChildren(...rubrics.map((r) => h('option', { attrs: { value: String(r.id) }, text: `${r.name} v${r.version} (${t(`rubric.${r.kind}`)})` })));
    const chosen = rubrics.find((r) => r.name === selectName) || rubrics[0];
    if (chosen) pick.value = String(chosen.id);
    showRubric();
  } catch (err) {
    $('rubric-status').textContent = errorText(err);
  }
}

function showRubric() {
  const r = rubrics.find((x) => String(x.id) === $('rubric-pick').value);
  if (!r) return;
  $('rubric-name').value = r.name;
  $('rubric-kind').value = r.kind;
  $('rubric-body').value = r.body;
  $('rubric-status').textContent = '';
}

async function saveRubric() {
  try {
    const saved = await api.saveRubric($('rubric-name').value.trim(), $('rubric-kind').value, $('rubric-body').value);
    await loadRubrics(saved.name);
    $('rubric-status').textContent = t('rubric.saved', { version: saved.version });
  } catch (err) {
    $('rubric-status').textContent = errorText(err);
  }
}
