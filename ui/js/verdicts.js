// The LLM judge's verdicts as the window lists them: on a reply (single grades), on a group of
// replies (pairwise), and in the ratings view. Reasoning is model text: render.js only.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { getLang, onLangChange, t } from './i18n.js';
import { renderReplyInto } from './render.js';

// ---------------------------------------------------------------------------------------------
// Loading: every reply and group drawn in one pass asks once (one IPC call for all of them).

let queue = null; // {ids: Set, waiters: [{ids, resolve, reject}]}

/** The verdicts about any of `ids` (newest first); requests made together share one call. */
export function verdictsFor(ids) {
  return new Promise((resolve, reject) => {
    if (!queue) {
      queue = { ids: new Set(), waiters: [] };
      setTimeout(flush, 0);
    }
    for (const id of ids) queue.ids.add(id);
    queue.waiters.push({ ids: new Set(ids), resolve, reject });
  });
}

async function flush() {
  const { ids, waiters } = queue;
  queue = null;
  try {
    const all = await api.verdictsOfMessages([...ids]);
    for (const w of waiters) {
      w.resolve(all.filter((v) => w.ids.has(v.messageId) || w.ids.has(v.otherMessageId)));
    }
  } catch (err) {
    for (const w of waiters) w.reject(err);
  }
}

// ---------------------------------------------------------------------------------------------
// One verdict.

/** A verdict's date and time in the window's language. */
function when(ms) {
  try { return new Date(ms).toLocaleString(getLang()); } catch { return new Date(ms).toLocaleString(); }
}

/** Who judged, with which rubric, when: "test-judge · default v1 · 12/4/2026, 11:40". */
function byline(v) {
  const judge = h('span', { className: 'verdict-judge', text: v.judgeModel });
  // The model the server claimed, when it is not the one asked for (the one asked for ranks).
  if (v.servedModel) judge.title = t('judge.served', { model: v.servedModel });
  return h('span', { className: 'verdict-by' }, judge,
    h('span', { className: 'verdict-rubric', text: ` · ${v.rubricName} v${v.rubricVersion}` }),
    h('span', { className: 'verdict-date', text: ` · ${when(v.createdAt)}` }));
}

function reasoningBlock(text, label) {
  const body = h('div', { className: 'verdict-reasoning', attrs: { dir: 'auto' } });
  renderReplyInto(body, text || '');
  if (!label) return body;
  return h('div', { className: 'verdict-order' }, h('span', { className: 'verdict-order-label hint', text: label }), body);
}

/** The outcome of a pair: who won, in the names `label(id)` gives. */
function pairOutcome(v, label) {
  if (!v.winner) return '';
  if (v.winner === 'tie') return t('judge.tie');
  if (v.winner === 'inconsistent') return t('judge.inconsistent');
  const id = v.winner === 'a' ? v.messageId : v.otherMessageId;
  return t('judge.won', { name: label(id, v) });
}

/** The name of a judged reply: its model, or `#id` when the two have the same model. */
export function replyName(id, v) {
  const model = id === v.messageId ? v.replyModel : v.otherModel;
  const same = v.replyModel && v.replyModel === v.otherModel;
  return !model || same ? t('judge.replyN', { id }) : model;
}

/** What a verdict is about, for a list of many replies' verdicts: "test-model", "a vs b". */
function aboutWhat(v, label) {
  const text = v.kind === 'single' ? (v.replyModel || t('judge.replyN', { id: v.messageId }))
    : `${label(v.messageId, v)} ${t('judge.vs')} ${label(v.otherMessageId, v)}`;
  return h('span', { className: 'verdict-about', text });
}

/** A verdict as a list item. `label(id, v)` names a reply of a pair; `about`: say which reply. */
export function verdictItem(v, label, about = false) {
  label = label || replyName;
  const head = h('div', { className: 'verdict-head' });
  if (about) head.append(aboutWhat(v, label));
  const item = h('li', { className: `verdict verdict-${v.kind}${v.error ? ' failed' : ''}`, dataset: { verdictId: v.id } }, head);
  if (v.error) {
    head.append(h('span', { className: 'verdict-result failed', text: t('judge.notUsed') }), byline(v));
    item.append(h('p', { className: 'verdict-error', text: v.error }));
    if (v.raw) {
      item.append(h('details', { className: 'verdict-raw' },
        h('summary', { text: t('judge.rawAnswer') }), h('pre', { text: v.raw })));
    }
    return item;
  }
  if (v.kind === 'single') {
    head.append(h('span', { className: 'verdict-result verdict-score', text: t('judge.score', { score: v.score }) }), byline(v));
    item.append(reasoningBlock(v.reasoning));
  } else {
    head.append(h('span', { className: 'verdict-result verdict-winner', text: pairOutcome(v, label) }), byline(v));
    item.append(reasoningBlock(v.reasoning, t('judge.orderAb', { a: label(v.messageId, v), b: label(v.otherMessageId, v) })));
    if (v.reasoningBa != null) {
      item.append(reasoningBlock(v.reasoningBa, t('judge.orderBa', { a: label(v.otherMessageId, v), b: label(v.messageId, v) })));
    }
  }
  return item;
}

/** A list of verdicts (hidden while empty). */
export function verdictList(className) {
  return h('ul', { className: `verdict-list ${className}`, attrs: { 'aria-label': t('judge.verdicts'), hidden: true }, dataset: { i18nAriaLabel: 'judge.verdicts' } });
}

/** What each list on screen shows, to draw it again in another language. */
const shown = new WeakMap(); // list -> {verdicts, label}

/** Replaces the list's items; hides it when there are none. */
export function fillList(list, verdicts, label, about = false) {
  shown.set(list, { verdicts, label, about });
  list.replaceChildren(...verdicts.map((v) => verdictItem(v, label, about)));
  list.hidden = !verdicts.length;
}

/** Adds a new verdict at the top of the list. */
export function addToList(list, v, label) {
  const was = shown.get(list);
  fillList(list, [v, ...(was?.verdicts || [])], label || was?.label);
}

onLangChange(() => {
  for (const list of document.querySelectorAll('.verdict-list')) {
    const was = shown.get(list);
    if (was) fillList(list, was.verdicts, was.label, was.about);
  }
});

// ---------------------------------------------------------------------------------------------
// The ratings view's list of verdicts (its tag and since filters apply): the same items as on a
// reply, each naming the reply (or the two) it is about.

/** Fills `el` with the verdicts passing `filter` ({tag, since}), newest first. */
export async function loadVerdictList(el, filter) {
  if (!el) return;
  let rows;
  try {
    rows = await api.listAllVerdicts(filter);
  } catch (err) {
    el.replaceChildren(h('p', { className: 'field-error', text: errorText(err) }));
    return;
  }
  if (!rows.length) { el.replaceChildren(h('p', { className: 'hint', text: t('judge.noVerdicts') })); return; }
  const list = verdictList('all-verdicts');
  fillList(list, rows, replyName, true);
  el.replaceChildren(list);
}
