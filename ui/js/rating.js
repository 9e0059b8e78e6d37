// Rating a reply by hand: 👍/👎, a 1–5 score, reasons from an editable list, a comment and tags.
// Changing a rating keeps the earlier one (the back end keeps the history). The judge has its
// own control beside these (judge.js).
import { api } from './api.js';
import { errorText, h, icon } from './dom.js';
import { t } from './i18n.js';

let reasonList = null;
let onRated = () => {};

async function reasons() {
  if (!reasonList) {
    try { reasonList = await api.listRatingReasons(); } catch { reasonList = []; }
  }
  return reasonList;
}

/** Calls fn(messageId, rating|null) after every saved change. */
export function setRatedHandler(fn) { onRated = fn; }

/** The rating row of a reply: thumbs, score and a button for the rest. */
export function ratingControls(message) {
  const r = message.rating || {};
  // SVG like every other icon (emoji render as empty boxes without an emoji font).
  const thumb = (value, label, name) => h('button', {
    className: `icon-btn rate-thumb${r.thumb === value ? ' on' : ''}`,
    attrs: { type: 'button', title: t(label), 'aria-label': t(label), 'aria-pressed': String(r.thumb === value) },
    dataset: { thumb: value },
  }, icon(name));
  const scores = h('span', { className: 'rate-scores', attrs: { role: 'group', 'aria-label': t('rate.score') } },
    ...[1, 2, 3, 4, 5].map((n) => h('button', {
      className: `rate-score${r.score != null && n <= r.score ? ' on' : ''}`,
      attrs: { type: 'button', title: t('rate.scoreN', { n }), 'aria-pressed': String(r.score === n) },
      dataset: { score: n },
      text: '★',
    })));
  const detail = (r.reasons?.length || r.comment || r.tags?.length) ? ' •' : '';
  return h('span', { className: 'rating', dataset: { messageId: message.id } },
    thumb(1, 'rate.up', 'thumbUp'), thumb(-1, 'rate.down', 'thumbDown'), scores,
    h('button', { className: 'btn btn-ghost btn-small rate-more', attrs: { type: 'button', 'aria-expanded': 'false' }, text: t('rate.more') + detail }));
}

async function save(root, message, patch) {
  const rating = {
    thumb: null, score: null, reasons: [], comment: '', tags: [], reference: '', ...(message.rating || {}), ...patch,
  };
  try {
    const st = await api.rateReply(message.id, rating);
    message.rating = st.rating || null;
    message.referenceScore = st.referenceScore ?? null;
    onRated(message.id, message.rating);
    root.querySelector('.rating-error')?.remove();
  } catch (err) {
    root.querySelector('.rating-error')?.remove();
    root.append(h('p', { className: 'field-error rating-error', attrs: { role: 'alert' }, text: errorText(err) }));
  }
}

/** The details panel: reasons, comment, tags. refresh() redraws the reply's rating row. */
async function openDetails(root, message, refresh) {
  const existing = root.querySelector('.rating-details');
  if (existing) { existing.remove(); return; }
  const r = message.rating || {};
  const chosen = new Set(r.reasons || []);
  const chips = h('div', { className: 'rate-reasons', attrs: { role: 'group', 'aria-label': t('rate.reasons') } },
    ...(await reasons()).map((reason) => h('button', {
      className: `chip${chosen.has(reason) ? ' on' : ''}`,
      attrs: { type: 'button', 'aria-pressed': String(chosen.has(reason)) },
      dataset: { reason },
      text: reason,
    })));
  const comment = h('textarea', { className: 'rate-comment', attrs: { rows: 2, placeholder: t('rate.comment'), 'aria-label': t('rate.comment') } });
  comment.value = r.comment || '';
  const tags = h('input', { className: 'rate-tags', attrs: { type: 'text', placeholder: t('rate.tags'), 'aria-label': t('rate.tags') } });
  tags.value = (r.tags || []).join(', ');
  const reference = h('textarea', { className: 'rate-reference', attrs: { rows: 2, placeholder: t('rate.reference'), 'aria-label': t('rate.reference') } });
  reference.value = r.reference || '';
  const panel = h('div', { className: 'rating-details' }, chips, comment, tags, reference,
    h('div', { className: 'editor-actions' },
      h('button', { className: 'btn btn-primary btn-small rate-save', attrs: { type: 'button' }, text: t('rate.save') })));
  root.append(panel);
  chips.addEventListener('click', (e) => {
    const b = e.target.closest('button.chip');
    if (!b) return;
    const on = !b.classList.contains('on');
    b.classList.toggle('on', on);
    b.setAttribute('aria-pressed', String(on));
  });
  panel.querySelector('.rate-save').addEventListener('click', async () => {
    const picked = [...chips.querySelectorAll('button.chip.on')].map((b) => b.dataset.reason);
    await save(root, message, {
      reasons: picked,
      comment: comment.value,
      tags: tags.value.split(/[,，]/).map((s) => s.trim()).filter(Boolean),
      reference: reference.value,
    });
    // The row's marker (More •) shows the saved details at once.
    refresh();
    if (!root.querySelector('.rating-error')) panel.remove();
  });
}

/**
 * Click handling for rating rows inside `container`. getMessage(id) returns the message object
 * (kept up to date with its rating); refresh(id) redraws the row.
 */
export function initRating(container, getMessage, refresh) {
  container.addEventListener('click', async (e) => {
    const row = e.target.closest('.rating');
    if (!row) return;
    const message = getMessage(Number(row.dataset.messageId));
    if (!message) return;
    const root = row.closest('.message') || row.parentElement;
    const thumbBtn = e.target.closest('button.rate-thumb');
    const scoreBtn = e.target.closest('button.rate-score');
    if (thumbBtn) {
      const v = Number(thumbBtn.dataset.thumb);
      await save(root, message, { thumb: message.rating?.thumb === v ? null : v });
      refresh(message.id);
    } else if (scoreBtn) {
      const n = Number(scoreBtn.dataset.score);
      await save(root, message, { score: message.rating?.score === n ? null : n });
      refresh(message.id);
    } else if (e.target.closest('button.rate-more')) {
      await openDetails(root, message, () => refresh(message.id));
    }
  });
}
