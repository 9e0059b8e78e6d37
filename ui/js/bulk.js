// Organising actions on one or many conversations (move, tag, pin, archive, export, delete), each
// with Undo, and the multi-select mode with its bulk bar.
import { api } from './api.js';
import { h, showToast, showBanner, errorText } from './dom.js';
import { t } from './i18n.js';
import { openMenu, askText } from './menu.js';
import { org, reloadOrganise } from './folders.js';
import { refreshConversations } from './sidebar.js';
import { emit } from './state.js';

export const selection = new Set();
let selecting = false;

export function isSelecting() { return selecting; }

async function refresh() {
  await reloadOrganise();
  await refreshConversations();
}

function fail(err) { showBanner(errorText(err), 'error'); }

/** Applies a change to `ids` and offers Undo. */
export async function change(ids, ch, doneKey) {
  let before;
  try {
    before = await api.organiseConversations(ids, ch);
  } catch (err) { fail(err); return; }
  await refresh();
  showToast(t(doneKey, { n: ids.length }), {
    actionLabel: t('conv.undo'),
    timeout: 8000,
    onAction: async () => {
      try { await api.undoOrganise(before); } catch (err) { fail(err); return; }
      await refresh();
    },
  });
}

export function moveMenu(ids, x, y) {
  const items = [{ label: t('org.noFolder'), onSelect: () => change(ids, { op: 'move', folderId: null }, 'org.moved') }];
  for (const f of org.foldersInOrder()) {
    items.push({ label: `${'  '.repeat(f.depth)}${f.name}`, onSelect: () => change(ids, { op: 'move', folderId: f.id }, 'org.moved') });
  }
  items.push('separator', {
    label: t('org.newFolder'),
    onSelect: async () => {
      const name = await askText(t('org.newFolder'));
      if (!name) return;
      try {
        const f = await api.createFolder(name, null);
        await change(ids, { op: 'move', folderId: f.id }, 'org.moved');
      } catch (err) { fail(err); }
    },
  });
  openMenu(x, y, items, { label: t('org.moveTo') });
}

export function tagMenu(ids, convs, x, y) {
  const items = org.tags.map((tag) => {
    const all = convs.length > 0 && convs.every((c) => (c.tags || []).includes(tag.id));
    return {
      label: tag.name,
      color: tag.color,
      checked: all,
      onSelect: () => change(ids, { op: all ? 'removeTag' : 'addTag', tagId: tag.id }, all ? 'org.untagged' : 'org.tagged'),
    };
  });
  if (items.length) items.push('separator');
  items.push({
    label: t('org.newTag'),
    onSelect: async () => {
      const got = await askText(t('org.newTag'), '', { withColor: '#4f6bed' });
      if (!got) return;
      try {
        const tag = await api.createTag(got.name, got.color);
        await change(ids, { op: 'addTag', tagId: tag.id }, 'org.tagged');
      } catch (err) { fail(err); }
    },
  });
  openMenu(x, y, items, { label: t('org.tags') });
}

export async function deleteMany(ids) {
  for (const id of ids) emit('conversation-deleting', id);
  try { await api.deleteConversations(ids); } catch (err) { fail(err); return; }
  for (const id of ids) emit('conversation-deleted', id);
  await refresh();
  showToast(t('org.deleted', { n: ids.length }), {
    actionLabel: t('conv.undo'),
    timeout: 8000,
    onAction: async () => {
      try { await api.restoreConversations(ids); } catch (err) { fail(err); return; }
      await refresh();
    },
  });
}

/** Export with the system save dialog; the toast says where it went. */
export async function exportWhat(what, format) {
  try {
    const path = await api.exportConversations(what, format);
    if (path) showToast(t('org.exported', { path }), { timeout: 8000 });
  } catch (err) { fail(err); }
}

export function exportMenu(what, x, y) {
  openMenu(x, y, [
    { label: t('org.exportMd'), onSelect: () => exportWhat(what, 'markdown') },
    { label: t('org.exportJson'), onSelect: () => exportWhat(what, 'json') },
  ], { label: t('org.export') });
}

// ----- multi-select -----

const bar = () => document.getElementById('bulk-bar');

export function setSelecting(on) {
  selecting = on;
  selection.clear();
  document.body.classList.toggle('selecting', on);
  document.getElementById('select-toggle')?.setAttribute('aria-pressed', String(on));
  renderBar();
  for (const li of document.querySelectorAll('#conversation-list li.conversation')) markSelected(li);
}

export function markSelected(li) {
  const on = selection.has(Number(li.dataset.id));
  li.classList.toggle('selected', on);
  if (selecting) li.setAttribute('aria-selected', String(on)); else li.removeAttribute('aria-selected');
}

function renderBar() {
  const el = bar();
  if (!el) return;
  el.hidden = !selecting;
  el.querySelector('.bulk-count').textContent = t('org.selected', { n: selection.size });
  for (const b of el.querySelectorAll('button[data-needs]')) b.disabled = selection.size === 0;
}

export function initBulk() {
  const sidebar = document.querySelector('.sidebar');
  const el = h('div', { className: 'bulk-bar', attrs: { id: 'bulk-bar', role: 'toolbar', 'aria-label': t('org.bulkLabel') } },
    h('span', { className: 'bulk-count', attrs: { 'aria-live': 'polite' } }));
  el.hidden = true;
  const ids = () => [...selection];
  const convs = () => org.shownList().filter((c) => selection.has(c.id));
  const button = (key, fn, needs = true) => el.append(h('button', {
    className: 'btn btn-ghost bulk-btn',
    text: t(key),
    dataset: { i18n: key, needs: needs ? '1' : null },
    attrs: { type: 'button' },
    on: { click: (e) => fn(e.currentTarget.getBoundingClientRect()) },
  }));
  button('org.selectAll', () => { for (const c of org.shownList()) selection.add(c.id); setMarks(); }, false);
  button('org.moveTo', (r) => moveMenu(ids(), r.left, r.top - 8));
  button('org.tags', (r) => tagMenu(ids(), convs(), r.left, r.top - 8));
  button('org.archive', () => {
    const archived = org.filter.kind === 'archived';
    change(ids(), { op: 'archive', archived: !archived }, archived ? 'org.unarchived' : 'org.archived').then(() => setSelecting(false));
  });
  button('org.export', (r) => exportMenu({ ids: ids() }, r.left, r.top - 8));
  button('org.delete', () => { const list = ids(); setSelecting(false); deleteMany(list); });
  button('org.done', () => setSelecting(false), false);
  sidebar.append(el);

  // In select mode a click toggles the row instead of opening it (capture: before the sidebar).
  document.getElementById('conversation-list').addEventListener('click', (e) => {
    if (!selecting) return;
    const li = e.target.closest('li.conversation');
    if (!li) return;
    e.stopPropagation();
    e.preventDefault();
    const id = Number(li.dataset.id);
    if (selection.has(id)) selection.delete(id); else selection.add(id);
    markSelected(li);
    renderBar();
  }, true);
  // In select mode the keys act on the selection (Delete took the focused row, which a click
  // had just focused, even when that click deselected it; Space opened it).
  document.getElementById('conversation-list').addEventListener('keydown', (e) => {
    if (!selecting || e.isComposing) return;
    const li = e.target instanceof Element ? e.target.closest('li.conversation') : null;
    if (!li) return;
    if (e.key === 'Delete') {
      e.preventDefault();
      e.stopPropagation();
      const list = [...selection];
      if (!list.length) return;
      setSelecting(false);
      deleteMany(list);
    } else if (e.key === ' ' || e.key === 'Enter') {
      e.preventDefault();
      e.stopPropagation();
      li.click();
    }
  }, true);
  document.addEventListener('keydown', (e) => {
    if (selecting && e.key === 'Escape') setSelecting(false);
  });
}

function setMarks() {
  for (const li of document.querySelectorAll('#conversation-list li.conversation')) markSelected(li);
  renderBar();
}
