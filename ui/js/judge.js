// Judging from the window: a "Judge" control of its own on every finished reply and a "Judge pair"
// bar on every group of replies (columns, n choices, the arena's pair). Each opens a small panel:
// rubric, judge profile and model, Run and Stop; the verdicts stay listed (verdicts.js).
import { api, newStreamId } from './api.js';
import { errorText, h, icon } from './dom.js';
import { t } from './i18n.js';
import { addToList, fillList, replyName, verdictList, verdictsFor } from './verdicts.js';

let knownProfiles = () => [];
/** fn() → [{id, name}]: the profiles a judge can run on. */
export function setJudgeProfiles(fn) { knownProfiles = fn; }

/** The last choices, kept between panels and restarts (no secret in them). */
const CHOICE_KEY = 'parley.judgeChoice';
function loadChoice() {
  try { return JSON.parse(localStorage.getItem(CHOICE_KEY) || '{}') || {}; } catch { return {}; }
}
function saveChoice(patch) {
  const next = { ...loadChoice(), ...patch };
  try { localStorage.setItem(CHOICE_KEY, JSON.stringify(next)); } catch { /* private mode */ }
}

/** The status line says `key` (kept through a language switch) or an error's own text. */
function say(status, key, error = null) {
  if (key) status.dataset.i18n = key; else delete status.dataset.i18n;
  status.textContent = key ? t(key) : (error || '');
  status.classList.toggle('field-error', !!error);
}

/** The form shared by both panels: rubric of `kind`, profile, model; Run / Stop; a status line. */
function judgeForm(kind, run, extra = []) {
  const chosen = loadChoice();
  const rubric = h('select', { className: 'judge-rubric', attrs: { 'aria-label': t('judge.rubric') } },
    h('option', { attrs: { value: '' }, dataset: { i18n: 'judge.defaultRubric' }, text: t('judge.defaultRubric') }));
  api.listRubrics().then((list) => {
    for (const r of list.filter((x) => x.kind === kind)) {
      rubric.append(h('option', { attrs: { value: String(r.id) }, dataset: { name: r.name }, text: `${r.name} v${r.version}` }));
    }
    const want = chosen[`rubric_${kind}`];
    const match = [...rubric.options].find((o) => o.dataset.name === want);
    if (match) rubric.value = match.value;
  }).catch(() => {});
  const profile = h('select', { className: 'judge-profile', attrs: { 'aria-label': t('judge.profile') } },
    h('option', { attrs: { value: '' }, dataset: { i18n: 'judge.defaultProfile' }, text: t('judge.defaultProfile') }),
    ...knownProfiles().map((p) => h('option', { attrs: { value: String(p.id) }, text: p.name })));
  if ([...profile.options].some((o) => o.value === String(chosen.profileId ?? ''))) profile.value = String(chosen.profileId ?? '');
  const model = h('input', {
    className: 'judge-model',
    attrs: { type: 'text', list: 'model-options', placeholder: t('judge.modelPlaceholder'), 'aria-label': t('judge.modelLabel'), spellcheck: 'false', autocomplete: 'off' },
    dataset: { i18nPlaceholder: 'judge.modelPlaceholder', i18nAriaLabel: 'judge.modelLabel' },
  });
  model.value = chosen.model || '';
  const runBtn = h('button', { className: 'btn btn-primary btn-small judge-run', attrs: { type: 'button' }, dataset: { i18n: 'judge.runIt' }, text: t('judge.runIt') });
  const stopBtn = h('button', { className: 'btn btn-secondary btn-small judge-stop', attrs: { type: 'button', hidden: true } },
    icon('stop'), h('span', { dataset: { i18n: 'judge.stop' }, text: t('judge.stop') }));
  const status = h('p', { className: 'judge-status hint', attrs: { 'aria-live': 'polite' } });
  const form = h('div', { className: 'judge-form' },
    ...extra,
    h('label', { className: 'judge-field' }, h('span', { className: 'field-label', dataset: { i18n: 'judge.rubric' }, text: t('judge.rubric') }), rubric),
    h('label', { className: 'judge-field' }, h('span', { className: 'field-label', dataset: { i18n: 'judge.profile' }, text: t('judge.profile') }), profile),
    h('label', { className: 'judge-field judge-field-model' }, h('span', { className: 'field-label', dataset: { i18n: 'judge.modelLabel' }, text: t('judge.modelLabel') }), model),
    h('div', { className: 'judge-actions' }, status, stopBtn, runBtn));
  let runId = null;
  stopBtn.addEventListener('click', () => { if (runId) api.cancelStream(runId).catch(() => {}); });
  runBtn.addEventListener('click', async () => {
    const rubricOpt = rubric.selectedOptions[0];
    saveChoice({ [`rubric_${kind}`]: rubricOpt?.dataset.name || null, profileId: profile.value || null, model: model.value.trim() });
    const target = { profileId: profile.value ? Number(profile.value) : null, model: model.value.trim() || null, runId: newStreamId() };
    runId = target.runId;
    runBtn.disabled = true;
    stopBtn.hidden = false;
    say(status, 'judge.running');
    try {
      const v = await run(target, rubric.value ? Number(rubric.value) : null);
      say(status, v.error ? 'judge.storedFailed' : null);
    } catch (err) {
      if (err?.kind === 'cancelled') say(status, 'judge.stopped');
      else say(status, null, errorText(err));
    } finally {
      runId = null;
      runBtn.disabled = false;
      stopBtn.hidden = true;
    }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// One reply.

/** The reply's "Judge" button (in its tools row, beside the rating). */
export function judgeButton(m) {
  return h('button', {
    className: 'btn btn-ghost btn-small judge-open',
    attrs: { type: 'button', 'aria-expanded': 'false', title: t('judge.openTitle') },
    dataset: { messageId: m.id },
    text: t('judge.open'),
  });
}

/** The reply's verdict list, filled from the database; pairs() → list its pairwise verdicts too. */
export function replyVerdicts(m, pairs) {
  const list = verdictList('reply-verdicts');
  list.dataset.messageId = String(m.id);
  verdictsFor([m.id]).then((vs) => fillList(list, vs.filter((v) => pairs() || v.kind === 'single'))).catch(() => {});
  return list;
}

/** Opens or closes the judge panel of the reply whose button was clicked. */
function toggleReplyPanel(btn) {
  const root = btn.closest('.message');
  const open = root.querySelector('.judge-panel.judge-single');
  if (open) { open.remove(); btn.setAttribute('aria-expanded', 'false'); return; }
  const id = Number(btn.dataset.messageId);
  const list = root.querySelector('.reply-verdicts');
  const form = judgeForm('single', async (target, rubricId) => {
    const v = await api.judgeReply(id, target, rubricId);
    if (list) addToList(list, v);
    return v;
  });
  const panel = h('div', { className: 'judge-panel judge-single', attrs: { role: 'group', 'aria-label': t('judge.panel') }, dataset: { i18nAriaLabel: 'judge.panel' } }, form);
  (root.querySelector('.message-tools') || root.lastChild).after(panel);
  btn.setAttribute('aria-expanded', 'true');
  panel.querySelector('.judge-model').focus();
}

/** Click handling for the judge buttons inside `container` (the message list). */
export function initJudge(container) {
  container.addEventListener('click', (e) => {
    const btn = e.target.closest('button.judge-open');
    if (btn) toggleReplyPanel(btn);
  });
}

// ---------------------------------------------------------------------------------------------
// A pair out of a group of replies.

const bars = new WeakMap(); // bar element -> getReplies

/**
 * The "Judge pair" bar of a group. getReplies() → [{id, label}] of its finished replies, in order;
 * the bar's pairwise verdicts among them are listed under it.
 */
export function pairBar(getReplies) {
  const list = verdictList('pair-verdicts');
  const bar = h('div', { className: 'pair-judge' },
    h('div', { className: 'pair-judge-head' },
      h('button', {
        className: 'btn btn-ghost btn-small judge-pair-open',
        attrs: { type: 'button', 'aria-expanded': 'false', title: t('judge.pairTitle') },
        dataset: { i18n: 'judge.pair', i18nTitle: 'judge.pairTitle' },
        text: t('judge.pair'),
      })),
    list);
  bars.set(bar, getReplies);
  bar.querySelector('.judge-pair-open').addEventListener('click', () => togglePairPanel(bar));
  refreshPairBar(bar);
  return bar;
}

function labeller(bar) {
  const replies = bars.get(bar)?.() || [];
  return (id, v) => replies.find((r) => r.id === id)?.label || replyName(id, v);
}

/** Lists the pairwise verdicts between replies of the bar's group. */
export function refreshPairBar(bar) {
  const replies = bars.get(bar)?.() || [];
  const ids = replies.map((r) => r.id).filter((id) => typeof id === 'number');
  const list = bar.querySelector('.pair-verdicts');
  bar.hidden = ids.length < 2;
  if (ids.length < 2) return;
  const inGroup = new Set(ids);
  verdictsFor(ids).then((vs) => fillList(list,
    vs.filter((v) => v.kind === 'pairwise' && inGroup.has(v.messageId) && inGroup.has(v.otherMessageId)),
    labeller(bar))).catch(() => {});
}

function togglePairPanel(bar) {
  const btn = bar.querySelector('.judge-pair-open');
  const open = bar.querySelector('.judge-panel');
  if (open) { open.remove(); btn.setAttribute('aria-expanded', 'false'); return; }
  const replies = (bars.get(bar)?.() || []).filter((r) => typeof r.id === 'number');
  const pick = (cls, key, index) => {
    const sel = h('select', { className: cls, attrs: { 'aria-label': t(key) }, dataset: { i18nAriaLabel: key } },
      ...replies.map((r) => h('option', { attrs: { value: String(r.id) }, text: r.label })));
    if (replies[index]) sel.value = String(replies[index].id);
    return h('label', { className: 'judge-field' }, h('span', { className: 'field-label', dataset: { i18n: key }, text: t(key) }), sel);
  };
  // Two replies: that pair; more (n choices, several models): the two to compare.
  const extra = replies.length > 2 ? [pick('judge-a', 'judge.replyA', 0), pick('judge-b', 'judge.replyB', 1)] : [];
  const form = judgeForm('pairwise', async (target, rubricId) => {
    const a = replies.length > 2 ? Number(bar.querySelector('.judge-a').value) : replies[0].id;
    const b = replies.length > 2 ? Number(bar.querySelector('.judge-b').value) : replies[1].id;
    const v = await api.judgePair(a, b, target, rubricId);
    addToList(bar.querySelector('.pair-verdicts'), v, labeller(bar));
    return v;
  }, extra);
  const panel = h('div', { className: 'judge-panel judge-pairwise', attrs: { role: 'group', 'aria-label': t('judge.pairPanel') }, dataset: { i18nAriaLabel: 'judge.pairPanel' } }, form);
  bar.querySelector('.pair-judge-head').after(panel);
  btn.setAttribute('aria-expanded', 'true');
}
