// Left sidebar: the conversation list (virtualised: only the rows on screen are in the DOM, so
// 5,000 conversations scroll and update as fast as 5), select, inline rename, delete + undo, sort.
//
// Extending it (folders, tags, pins): `items()` turns state.conversations into the flat list of
// rows shown, in order (add folder rows there: {kind: 'folder', …}); `buildRow(item)` is the one
// function that draws a row (add a pin, tag chips, a folder's chevron there). Every row is ROW_PX
// high; `paint()` draws the rows in view and `updateRow(id)` redraws one.
import { api } from './api.js';
import { h, icon, showToast, showBanner, errorText } from './dom.js';
import { t } from './i18n.js';
import { state, emit, findConversation, upsertConversation } from './state.js';
import { visibleConversations, decorateItem, reloadOrganise } from './folders.js';

/** The height of one row (36px and a 1px gap), kept in step with .conversation in app.css. */
export const ROW_PX = 37;
/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;
const SORT_KEY = 'parley.sidebarSort';
const HIDE_ARENA_KEY = 'parley.hideArena';

const list = () => document.getElementById('conversation-list');
const scroller = () => list().parentElement;
let hooks = { onSelect: () => {} };
let renaming = null; // id being renamed
let renderPending = false;
/** The rows in order (see items()), and each conversation's position among them. */
let rows = [];
let position = new Map();
/** id -> the <li> on screen */
const drawn = new Map();
let frame = 0;
let sort = 'recent';
/** Arena rounds left out of the list (remembered); the open one stays. */
let hideArena = false;

export function conversationTitle(conv) {
  const title = conv && typeof conv.title === 'string' ? conv.title.trim() : '';
  return title || t('conv.untitled');
}

export function initSidebar(opts) {
  hooks = { ...hooks, ...opts };
  try { sort = localStorage.getItem(SORT_KEY) === 'title' ? 'title' : 'recent'; } catch { /* private mode */ }
  const ul = list();
  ul.classList.add('virtual');
  ul.setAttribute('role', 'list');
  scroller().addEventListener('scroll', schedulePaint, { passive: true });
  window.addEventListener('resize', schedulePaint);
  try { hideArena = localStorage.getItem(HIDE_ARENA_KEY) === '1'; } catch { /* private mode */ }
  const arenaBox = document.getElementById('hide-arena');
  if (arenaBox) {
    arenaBox.checked = hideArena;
    arenaBox.addEventListener('change', () => {
      hideArena = arenaBox.checked;
      try { localStorage.setItem(HIDE_ARENA_KEY, hideArena ? '1' : '0'); } catch { /* private mode */ }
      renderConversations();
    });
  }
  const select = document.getElementById('sidebar-sort');
  if (select) {
    select.value = sort;
    select.addEventListener('change', () => {
      sort = select.value === 'title' ? 'title' : 'recent';
      try { localStorage.setItem(SORT_KEY, sort); } catch { /* private mode */ }
      renderConversations();
    });
  }
  ul.addEventListener('click', (e) => {
    const li = e.target.closest('li.conversation');
    if (!li || e.target.closest('.rename-input')) return;
    const id = Number(li.dataset.id);
    if (e.target.closest('button.rename')) { startRename(id); return; }
    if (e.target.closest('button.delete')) { deleteConversation(id); return; }
    if (renaming === id) return;
    hooks.onSelect(id);
  });
  ul.addEventListener('dblclick', (e) => {
    const title = e.target.closest('.conversation-title');
    const li = e.target.closest('li.conversation');
    if (title && li) startRename(Number(li.dataset.id));
  });
  ul.addEventListener('keydown', (e) => {
    const li = e.target;
    if (!(li instanceof HTMLElement) || !li.matches('li.conversation')) return;
    const id = Number(li.dataset.id);
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); hooks.onSelect(id); }
    else if (e.key === 'F2') { e.preventDefault(); startRename(id); }
    else if (e.key === 'Delete') { e.preventDefault(); deleteConversation(id); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusRow((position.get(id) ?? 0) + (e.key === 'ArrowDown' ? 1 : -1));
    }
  });
}

/** The rows to show, in order: the conversations the folder / tag / archive filter lets through
 * (folders.js), pinned ones first. */
function items() {
  const convs = visibleConversations(state.conversations)
    .filter((c) => !(hideArena && c.arena && c.id !== state.activeId));
  if (sort === 'title') {
    convs.sort((a, b) => (b.pinned - a.pinned) || conversationTitle(a).localeCompare(conversationTitle(b)) || b.id - a.id);
  } else {
    convs.sort((a, b) => (b.pinned - a.pinned) || (b.updatedAt - a.updatedAt) || (b.id - a.id));
  }
  return convs.map((conv) => ({ kind: 'conversation', id: conv.id, conv }));
}

/** Draws one row (the only place that knows what a row looks like). */
function buildRow(item) {
  const conv = item.conv;
  const active = conv.id === state.activeId;
  const title = conversationTitle(conv);
  // Pin mark, tag dots, drag and the selection mark: folders.js (issue 11).
  return decorateItem(h('li', {
    className: `conversation${active ? ' active' : ''}${state.streams.has(conv.id) ? ' busy' : ''}${conv.arena ? ' arena' : ''}`,
    dataset: { id: conv.id },
    attrs: { tabindex: '0', 'aria-current': active ? 'true' : null, title },
  },
  h('span', { className: 'conversation-title', text: title }),
  conv.arena ? h('span', {
    className: 'arena-badge', text: t('sidebar.arenaBadge'), attrs: { title: t('sidebar.arenaBadgeTitle') },
  }) : null,
  h('span', { className: 'conversation-actions' },
    h('button', {
      className: 'icon-btn rename',
      attrs: { type: 'button', 'aria-label': t('sidebar.rename'), title: t('sidebar.rename'), tabindex: '-1' },
    }, icon('pencil')),
    h('button', {
      className: 'icon-btn delete',
      attrs: { type: 'button', 'aria-label': t('sidebar.delete'), title: t('sidebar.delete'), tabindex: '-1' },
    }, icon('trash')))), conv);
}

function place(li, i) {
  li.style.top = `${i * ROW_PX}px`;
  li.dataset.row = String(i);
}

function schedulePaint() {
  if (frame) return;
  frame = requestAnimationFrame(() => { frame = 0; paint(); });
}

/** Draws the rows in view (and a few around them); drops the rest. */
function paint() {
  const el = scroller();
  const ul = list();
  const top = Math.max(0, el.scrollTop - ul.offsetTop);
  const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + (el.clientHeight || 800)) / ROW_PX) + OVERSCAN);
  const keep = new Set();
  // The DOM follows the on-screen order (screen readers, Tab): only rows out of place move.
  let cursor = ul.firstElementChild;
  for (let i = first; i < last; i += 1) {
    const item = rows[i];
    keep.add(item.id);
    let li = drawn.get(item.id);
    if (!li) {
      li = buildRow(item);
      drawn.set(item.id, li);
    }
    if (li !== cursor) ul.insertBefore(li, cursor);
    else cursor = cursor.nextElementSibling;
    place(li, i);
  }
  for (const [id, li] of drawn) {
    if (keep.has(id) || id === renaming) continue;
    // Keep the focused row (keyboard users) until focus moves on.
    if (li.contains(document.activeElement)) continue;
    li.remove();
    drawn.delete(id);
  }
}

/** Re-sort and redraw what is on screen (deferred while a rename is open). */
export function renderConversations() {
  if (renaming) { renderPending = true; return; }
  renderPending = false;
  rows = items();
  position = new Map(rows.map((item, i) => [item.id, i]));
  for (const li of drawn.values()) li.remove();
  drawn.clear();
  list().style.height = `${rows.length * ROW_PX}px`;
  paint();
  document.getElementById('conversation-empty').hidden = rows.length > 0;
  // The arena filter only where there is an arena round to hide.
  const filter = document.getElementById('hide-arena')?.closest('label');
  if (filter) filter.hidden = !state.conversations.some((c) => c.arena);
}

/** Redraw one conversation's row (its title or activity changed); others only move. */
export function updateRow(id) {
  if (renaming) { renderPending = true; return; }
  rows = items();
  position = new Map(rows.map((item, i) => [item.id, i]));
  const old = drawn.get(id);
  if (old) { old.remove(); drawn.delete(id); }
  list().style.height = `${rows.length * ROW_PX}px`;
  paint();
  document.getElementById('conversation-empty').hidden = rows.length > 0;
}

/** Update only the active marker (cheap, used on selection). */
export function markActive() {
  for (const li of drawn.values()) {
    const on = Number(li.dataset.id) === state.activeId;
    li.classList.toggle('active', on);
    if (on) li.setAttribute('aria-current', 'true'); else li.removeAttribute('aria-current');
  }
}

function scrollToRow(i) {
  const el = scroller();
  const y = list().offsetTop + i * ROW_PX;
  if (y < el.scrollTop) el.scrollTop = y;
  else if (y + ROW_PX > el.scrollTop + el.clientHeight) el.scrollTop = y + ROW_PX - el.clientHeight;
  paint();
}

/** Marks the conversations with a reply running (each streams on its own). */
export function markBusy() {
  for (const li of list().querySelectorAll('li.conversation')) {
    li.classList.toggle('busy', state.streams.has(Number(li.dataset.id)));
  }
}

export function scrollActiveIntoView() {
  const i = position.get(state.activeId);
  if (i != null) scrollToRow(i);
}

function focusRow(i) {
  if (i < 0 || i >= rows.length) return;
  scrollToRow(i);
  drawn.get(rows[i].id)?.focus();
}

/** Reload the whole list from the backend. */
export async function refreshConversations() {
  try {
    state.conversations = await api.listConversations();
  } catch (err) {
    showBanner(errorText(err), 'error');
    return;
  }
  renderConversations();
  emit('conversations-changed');
}

/** Reload one conversation (a message was sent or a reply ended in it). */
export async function refreshConversation(id) {
  if (id == null) return;
  try {
    upsertConversation(await api.getConversation(id));
  } catch (err) {
    if (err && err.kind === 'not_found') return;
    showBanner(errorText(err), 'error');
    return;
  }
  updateRow(id);
  emit('conversations-changed');
}

export function startRename(id) {
  if (renaming) return;
  const li = drawn.get(id);
  const conv = state.conversations.find((c) => c.id === id) || visibleConversations(state.conversations).find((c) => c.id === id);
  if (!li || !conv) return;
  renaming = id;
  const titleEl = li.querySelector('.conversation-title');
  const input = h('input', {
    className: 'rename-input',
    attrs: {
      type: 'text', 'aria-label': t('sidebar.renameInput'), placeholder: t('conv.untitled'),
      maxlength: '200', spellcheck: 'false',
    },
  });
  input.value = conv.title || '';
  titleEl.replaceWith(input);
  li.classList.add('renaming');
  input.focus();
  input.select();

  let finished = false;
  const finish = async (save) => {
    if (finished) return;
    finished = true;
    const value = input.value.trim();
    renaming = null;
    if (save && value && value !== (conv.title || '')) {
      try {
        const updated = await api.renameConversation(id, value);
        // An archived one is renamed where it is listed (it went back into the main list).
        if (conv.archived) {
          Object.assign(conv, updated, { archived: true });
          if (state.offList.has(id)) state.offList.set(id, { ...state.offList.get(id), ...updated });
        } else upsertConversation(updated);
        emit('conversations-changed');
      } catch (err) {
        showBanner(errorText(err), 'error');
      }
    }
    renderConversations();
    drawn.get(id)?.focus();
  };
  input.addEventListener('keydown', (e) => {
    if (e.isComposing) return;
    if (e.key === 'Enter') { e.preventDefault(); finish(true); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); finish(false); }
    e.stopPropagation();
  });
  input.addEventListener('blur', () => finish(true));
}

export async function deleteConversation(id) {
  const conv = findConversation(id);
  if (!conv) return;
  emit('conversation-deleting', id);
  try {
    await api.deleteConversation(id);
  } catch (err) {
    showBanner(errorText(err), 'error');
    return;
  }
  state.conversations = state.conversations.filter((c) => c.id !== id);
  // An archived one goes from the archived view too.
  if (state.offList.delete(id) || conv.archived) await reloadOrganise();
  renderConversations();
  emit('conversation-deleted', id);
  showToast(t('conv.deleted'), {
    actionLabel: t('conv.undo'),
    timeout: 8000,
    onAction: async () => {
      try {
        await api.restoreConversation(id);
      } catch (err) {
        showBanner(errorText(err), 'error');
        return;
      }
      await refreshConversations();
      emit('conversation-restored', id);
    },
  });
}
