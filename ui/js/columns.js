// Replies made together (n choices, models side by side): each in its own column of a group, with
// a Stop, "Continue with this" or "current" in its head; the group collapses when the next turn starts.
import { h, icon } from './dom.js';
import { t } from './i18n.js';
import { buildMessage, dropEntry, fillTools, getEntry, messagesContainer } from './messages.js';
import { pairBar, refreshPairBar } from './judge.js';

function columnLabel(m, sameModel, manyProfiles) {
  const n = (m.choiceIndex ?? 0) + 1;
  if (sameModel && !manyProfiles) return t('group.choice', { n });
  const model = m.model || t('chat.assistant');
  return manyProfiles && m.profileName ? `${model} · ${m.profileName}` : model;
}

/** Replies made together (n choices, models side by side), each in its own column. */
export function buildGroup(group, activeId, siblingIds) {
  const sameModel = new Set(group.map((g) => g.model)).size === 1;
  const manyProfiles = new Set(group.map((g) => g.profileName)).size > 1;
  const el = h('div', { className: 'reply-group', dataset: { groupId: group[0].groupId } });
  for (const m of group) el.append(buildColumn({ ...m, siblingIds }, columnLabel(m, sameModel, manyProfiles), activeId));
  el.style.setProperty('--columns', String(Math.min(group.length, 4)));
  return el;
}

function buildColumn(m, label, activeId, streamId) {
  const head = h('div', { className: 'column-head' }, h('span', { className: 'column-label', text: label }));
  const col = h('div', { className: 'reply-column', dataset: { id: m.id, streamId } }, head);
  const msg = buildMessage(m);
  const entry = getEntry(m.id);
  entry.inGroup = true;
  entry.column = col;
  fillTools(entry);
  col.append(msg);
  fillColumnHead(entry, activeId);
  return col;
}

export function fillColumnHead(entry, activeId) {
  const head = entry.column.querySelector('.column-head');
  for (const old of head.querySelectorAll('button, .current-badge')) old.remove();
  const m = entry.message;
  entry.column.classList.toggle('current', m.id === activeId);
  if (m.status === 'streaming') {
    if (entry.column.dataset.streamId) {
      head.append(h('button', { className: 'btn btn-secondary btn-small column-stop', attrs: { type: 'button' } },
        icon('stop'), h('span', { text: t('group.stop') })));
    }
  } else if (m.id === activeId) {
    head.append(h('span', { className: 'current-badge', text: t('group.current') }));
  } else {
    head.append(h('button', { className: 'btn btn-secondary btn-small choose-reply', attrs: { type: 'button' }, text: t('group.continue') }));
  }
  if (m.status !== 'streaming') refreshBar(entry.column);
}

/**
 * A new turn follows a group: the group collapses to the reply it continues from (the others
 * stay reachable with ‹ ›).
 */
export function collapseGroups(activeMessage) {
  for (const el of messagesContainer().querySelectorAll('.group-metrics, .pair-judge')) el.remove();
  for (const el of messagesContainer().querySelectorAll('.reply-group')) {
    // The column's own copy holds what was done there (a rating given in the column): the
    // collapsed reply is built from it, not from the list's older copy.
    const shown = getEntry(activeMessage.id)?.message;
    if (shown) Object.assign(activeMessage, { rating: shown.rating, referenceScore: shown.referenceScore });
    for (const col of el.querySelectorAll('.reply-column')) dropEntry(Number(col.dataset.id));
    const { group, ...m } = activeMessage;
    el.replaceWith(buildMessage(m));
  }
}

/** Automatic metrics of replies made together: how different they are from each other. */
export function diversityLine(d) {
  const f = (x) => (x == null ? '—' : x.toFixed(2));
  return h('p', {
    className: 'group-metrics hint',
    attrs: { title: t('metrics.diversityTitle') },
    text: t('metrics.diversity', { d1: f(d.distinct1), d2: f(d.distinct2), sim: f(d.selfSimilarity) }),
  });
}

/** A new, empty group for replies that are about to stream. */
export function appendGroup(groupId) {
  const el = h('div', { className: 'reply-group', dataset: { groupId } });
  messagesContainer().append(el, groupBar(el));
  return el;
}

/** A streaming reply as a column of its group. */
export function appendColumn(groupId, m, label, streamId) {
  const el = messagesContainer().querySelector(`.reply-group[data-group-id="${CSS.escape(groupId)}"]`) || appendGroup(groupId);
  el.append(buildColumn(m, label, null, streamId));
  el.style.setProperty('--columns', String(Math.min(el.children.length, 4)));
}

/** The "Judge pair" bar of a group: its finished replies, named as their columns are. */
export function groupBar(group) {
  return pairBar(() => [...group.querySelectorAll('.reply-column')]
    .filter((col) => col.querySelector('.message[data-status=done]'))
    .map((col) => ({ id: Number(col.dataset.id), label: col.querySelector('.column-label')?.textContent || `#${col.dataset.id}` })));
}

/** A column finished: its group's bar may now have a pair to judge. */
function refreshBar(column) {
  const bar = column.closest('.reply-group')?.nextElementSibling;
  if (bar?.classList.contains('pair-judge')) refreshPairBar(bar);
}
