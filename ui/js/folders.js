// The folder tree and tag filter above the conversation list, the row decorations (pin, tags),
// the row and folder context menus, and drag and drop onto folders.
import { api } from './api.js';
import { h, icon, showBanner, errorText } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { openMenu, askText } from './menu.js';
import { change, moveMenu, tagMenu, deleteMany, exportMenu, isSelecting, selection, setSelecting, markSelected } from './bulk.js';
import { renderConversations, startRename } from './sidebar.js';
import { state, on } from './state.js';

/** What the sidebar shows: all, one folder (and below), one tag, or the archive. */
export const org = {
  folders: [],
  tags: [],
  archived: [],
  filter: { kind: 'all', id: null },
  collapsed: new Set(),
  /** Folders depth first, each with its depth. */
  foldersInOrder() {
    const out = [];
    const walk = (parent, depth) => {
      for (const f of this.folders.filter((x) => (x.parentId ?? null) === parent)) {
        out.push({ ...f, depth });
        walk(f.id, depth + 1);
      }
    };
    walk(null, 0);
    return out;
  },
  /** Folder `id` and every folder below it. */
  subtree(id) {
    const ids = new Set([id]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const f of this.folders) if (f.parentId != null && ids.has(f.parentId) && !ids.has(f.id)) { ids.add(f.id); grew = true; }
    }
    return ids;
  },
  shownList() { return visibleConversations(state.conversations); },
};

const panel = () => document.getElementById('folder-panel');

// Static icon geometry (24x24, stroked), never built from data: no emoji font is needed.
const GLYPHS = {
  folder: ['M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z'],
  archive: ['M3 4h18v4H3z', 'M5 8v12h14V8', 'M10 12h4'],
  pin: ['M12 17v5', 'M9 3h6l-1 7 4 4H6l4-4z'],
};
function glyph(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon org-glyph glyph-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  for (const d of GLYPHS[name]) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    svg.append(p);
  }
  return svg;
}
const fail = (err) => showBanner(errorText(err), 'error');

/** The conversations the list shows under the current filter. */
export function visibleConversations(list) {
  const f = org.filter;
  if (f.kind === 'archived') return org.archived;
  if (f.kind === 'folder') {
    const ids = org.subtree(f.id);
    return list.filter((c) => c.folderId != null && ids.has(c.folderId));
  }
  if (f.kind === 'tag') return list.filter((c) => (c.tags || []).includes(f.id));
  return list;
}

/** Adds the pin mark and tag dots to a row, makes it draggable, marks it selected. */
export function decorateItem(li, conv) {
  li.draggable = true;
  const title = li.querySelector('.conversation-title');
  if (conv.pinned) title?.before(h('span', { className: 'pin-mark', attrs: { title: t('org.pinned'), role: 'img', 'aria-label': t('org.pinned') } }, glyph('pin')));
  const tags = (conv.tags || []).map((id) => org.tags.find((x) => x.id === id)).filter(Boolean);
  if (tags.length) {
    const dots = h('span', { className: 'tag-dots' });
    for (const tag of tags.slice(0, 4)) {
      const dot = h('span', { className: 'tag-dot', attrs: { title: tag.name } });
      dot.style.setProperty('--tag', tag.color);
      dots.append(dot);
    }
    title?.after(dots);
  }
  markSelected(li);
  return li;
}

export async function reloadOrganise() {
  try {
    [org.folders, org.tags] = await Promise.all([api.listFolders(), api.listTags()]);
    if (org.filter.kind === 'archived') org.archived = await api.listArchivedConversations();
  } catch (err) { fail(err); }
  if (org.filter.kind === 'folder' && !org.folders.some((f) => f.id === org.filter.id)) org.filter = { kind: 'all', id: null };
  if (org.filter.kind === 'tag' && !org.tags.some((x) => x.id === org.filter.id)) org.filter = { kind: 'all', id: null };
  renderPanel();
}

async function setFilter(kind, id = null) {
  org.filter = { kind, id };
  if (kind === 'archived') {
    try { org.archived = await api.listArchivedConversations(); } catch (err) { fail(err); }
  }
  if (isSelecting()) setSelecting(false);
  renderPanel();
  renderConversations();
}

function filterRow(label, kind, id, depth, count, extra) {
  const on = org.filter.kind === kind && org.filter.id === id;
  const row = h('button', {
    className: `folder-row${on ? ' active' : ''}`,
    dataset: { kind, id: id ?? '' },
    attrs: { type: 'button', 'aria-pressed': String(on) },
    on: { click: () => setFilter(kind, id) },
  });
  row.style.setProperty('--depth', String(depth));
  if (kind === 'folder' || kind === 'archived') row.append(glyph(kind === 'folder' ? 'folder' : 'archive'));
  if (extra) row.append(extra);
  row.append(h('span', { className: 'folder-name', text: label }));
  if (count != null) row.append(h('span', { className: 'folder-count', text: String(count) }));
  return row;
}

function renderPanel() {
  const el = panel();
  if (!el) return;
  const counts = new Map();
  for (const c of state.conversations) if (c.folderId != null) counts.set(c.folderId, (counts.get(c.folderId) || 0) + 1);
  const head = h('div', { className: 'folder-head' },
    h('span', { className: 'folder-heading', text: t('org.folders') }),
    h('button', {
      className: 'icon-btn', attrs: { type: 'button', id: 'new-folder', title: t('org.newFolder'), 'aria-label': t('org.newFolder') },
      on: { click: () => newFolder(null) },
    }, icon('plus')),
    h('button', {
      className: 'btn btn-ghost select-toggle',
      text: t('org.select'),
      attrs: { type: 'button', id: 'select-toggle', 'aria-pressed': String(isSelecting()) },
      on: { click: () => setSelecting(!isSelecting()) },
    }));
  const tree = h('div', { className: 'folder-tree', attrs: { role: 'group', 'aria-label': t('org.folders') } },
    filterRow(t('org.all'), 'all', null, 0, state.conversations.length));
  for (const f of org.foldersInOrder()) tree.append(filterRow(f.name, 'folder', f.id, f.depth + 1, counts.get(f.id) || 0));
  tree.append(filterRow(t('org.archivedView'), 'archived', null, 0, null));
  const tags = h('div', { className: 'tag-filter', attrs: { role: 'group', 'aria-label': t('org.tags') } });
  for (const tag of org.tags) {
    const on = org.filter.kind === 'tag' && org.filter.id === tag.id;
    const chip = h('button', {
      className: `tag-chip${on ? ' active' : ''}`,
      dataset: { tagId: tag.id },
      attrs: { type: 'button', 'aria-pressed': String(on) },
      on: { click: () => setFilter(on ? 'all' : 'tag', on ? null : tag.id), contextmenu: (e) => { e.preventDefault(); tagContext(tag, e.clientX, e.clientY); } },
    }, h('span', { className: 'tag-dot' }), tag.name);
    chip.firstChild.style.setProperty('--tag', tag.color);
    tags.append(chip);
  }
  el.replaceChildren(head, tree, tags);
}

async function newFolder(parentId) {
  const name = await askText(t('org.newFolder'));
  if (!name) return;
  try { await api.createFolder(name, parentId); } catch (err) { fail(err); }
  await reloadOrganise();
}

function folderContext(folder, x, y) {
  openMenu(x, y, [
    { label: t('org.newSubfolder'), onSelect: () => newFolder(folder.id) },
    { label: t('org.renameFolder'), onSelect: async () => {
      const name = await askText(t('org.renameFolder'), folder.name);
      if (!name) return;
      try { await api.renameFolder(folder.id, name); } catch (err) { fail(err); }
      await reloadOrganise();
    } },
    { label: t('org.moveFolderTop'), onSelect: async () => {
      try { await api.moveFolder(folder.id, null); } catch (err) { fail(err); }
      await reloadOrganise();
    } },
    { label: t('org.exportFolder'), onSelect: () => exportMenu({ folderId: folder.id }, x, y) },
    'separator',
    { label: t('org.deleteFolder'), danger: true, onSelect: async () => {
      try { await api.deleteFolder(folder.id); } catch (err) { fail(err); }
      await reloadOrganise();
      renderConversations();
    } },
  ], { label: folder.name });
}

function tagContext(tag, x, y) {
  openMenu(x, y, [
    { label: t('org.editTag'), onSelect: async () => {
      const got = await askText(t('org.editTag'), tag.name, { withColor: tag.color.length === 7 ? tag.color : '#6b7280' });
      if (!got) return;
      try { await api.updateTag(tag.id, got.name, got.color); } catch (err) { fail(err); }
      await reloadOrganise();
      renderConversations();
    } },
    { label: t('org.deleteTag'), danger: true, onSelect: async () => {
      try { await api.deleteTag(tag.id); } catch (err) { fail(err); }
      await reloadOrganise();
      renderConversations();
    } },
  ], { label: tag.name });
}

/** The row menu: rename, pin, move, tags, archive, export, delete. */
export function rowContext(id, x, y) {
  const conv = org.shownList().find((c) => c.id === id);
  if (!conv) return;
  const ids = [id];
  openMenu(x, y, [
    { label: t('sidebar.rename'), onSelect: () => startRename(id) },
    { label: conv.pinned ? t('org.unpin') : t('org.pin'), onSelect: () => change(ids, { op: 'pin', pinned: !conv.pinned }, conv.pinned ? 'org.unpinned' : 'org.pinnedDone') },
    { label: t('org.moveTo'), onSelect: () => moveMenu(ids, x, y) },
    { label: t('org.tags'), onSelect: () => tagMenu(ids, [conv], x, y) },
    { label: conv.archived ? t('org.unarchive') : t('org.archive'), onSelect: () => change(ids, { op: 'archive', archived: !conv.archived }, conv.archived ? 'org.unarchived' : 'org.archived') },
    { label: t('org.export'), onSelect: () => exportMenu({ ids }, x, y) },
    'separator',
    { label: t('sidebar.delete'), danger: true, onSelect: () => deleteMany(ids) },
  ], { label: conv.title || t('conv.untitled') });
}

export function initFolders() {
  const nav = document.querySelector('.conversation-nav');
  const el = h('div', { className: 'folder-panel', attrs: { id: 'folder-panel' } });
  nav.before(el);
  // The headings ("Folders", "All conversations", "Archived") follow a language switch.
  onLangChange(() => renderPanel());
  const list = document.getElementById('conversation-list');
  list.addEventListener('contextmenu', (e) => {
    const li = e.target.closest('li.conversation');
    if (!li) return;
    e.preventDefault();
    rowContext(Number(li.dataset.id), e.clientX, e.clientY);
  });
  list.addEventListener('keydown', (e) => {
    const li = e.target.closest?.('li.conversation');
    if (!li || !(e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10'))) return;
    e.preventDefault();
    const r = li.getBoundingClientRect();
    rowContext(Number(li.dataset.id), r.left + 16, r.bottom);
  });
  list.addEventListener('dragstart', (e) => {
    const li = e.target.closest('li.conversation');
    if (!li) return;
    const id = Number(li.dataset.id);
    const ids = isSelecting() && selection.has(id) ? [...selection] : [id];
    e.dataTransfer.setData('application/x-parley-conversations', JSON.stringify(ids));
    e.dataTransfer.effectAllowed = 'move';
  });
  el.addEventListener('dragover', (e) => {
    const row = e.target.closest('.folder-row');
    if (!row || !e.dataTransfer.types.includes('application/x-parley-conversations')) return;
    if (row.dataset.kind === 'archived') return;
    e.preventDefault();
    row.classList.add('drop');
  });
  el.addEventListener('dragleave', (e) => e.target.closest('.folder-row')?.classList.remove('drop'));
  el.addEventListener('drop', (e) => {
    const row = e.target.closest('.folder-row');
    if (!row) return;
    row.classList.remove('drop');
    e.preventDefault();
    let ids = [];
    try { ids = JSON.parse(e.dataTransfer.getData('application/x-parley-conversations')).filter(Number.isInteger); } catch { return; }
    if (!ids.length) return;
    const folderId = row.dataset.kind === 'folder' ? Number(row.dataset.id) : null;
    change(ids, { op: 'move', folderId }, 'org.moved');
  });
  el.addEventListener('contextmenu', (e) => {
    const row = e.target.closest('.folder-row[data-kind="folder"]');
    if (!row) return;
    e.preventDefault();
    const folder = org.folders.find((f) => f.id === Number(row.dataset.id));
    if (folder) folderContext(folder, e.clientX, e.clientY);
  });
  on('conversations-changed', () => renderPanel());
  reloadOrganise().then(() => renderConversations());
}
