// Left sidebar: conversation list with select, inline rename, delete + undo.
import { api } from './api.js';
import { h, icon, showToast, showBanner, errorText } from './dom.js';
import { t } from './i18n.js';
import { state, emit, upsertConversation } from './state.js';

const list = () => document.getElementById('conversation-list');
let hooks = { onSelect: () => {} };
let renaming = null; // id being renamed
let renderPending = false;

export function conversationTitle(conv) {
  const title = conv && typeof conv.title === 'string' ? conv.title.trim() : '';
  return title || t('conv.untitled');
}

export function initSidebar(opts) {
  hooks = { ...hooks, ...opts };
  const ul = list();
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
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); hooks.onSelect(Number(li.dataset.id)); }
    else if (e.key === 'F2') { e.preventDefault(); startRename(Number(li.dataset.id)); }
    else if (e.key === 'Delete') { e.preventDefault(); deleteConversation(Number(li.dataset.id)); }
    else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const next = e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling;
      next?.focus();
    }
  });
}

function buildItem(conv) {
  const active = conv.id === state.activeId;
  const title = conversationTitle(conv);
  return h('li', {
    className: `conversation${active ? ' active' : ''}${state.streams.has(conv.id) ? ' busy' : ''}`,
    dataset: { id: conv.id },
    attrs: { tabindex: '0', 'aria-current': active ? 'true' : null, title },
  },
  h('span', { className: 'conversation-title', text: title }),
  h('span', { className: 'conversation-actions' },
    h('button', {
      className: 'icon-btn rename',
      attrs: { type: 'button', 'aria-label': t('sidebar.rename'), title: t('sidebar.rename'), tabindex: '-1' },
    }, icon('pencil')),
    h('button', {
      className: 'icon-btn delete',
      attrs: { type: 'button', 'aria-label': t('sidebar.delete'), title: t('sidebar.delete'), tabindex: '-1' },
    }, icon('trash'))));
}

/** Rebuild the list from state.conversations (deferred while a rename is open). */
export function renderConversations() {
  if (renaming) { renderPending = true; return; }
  renderPending = false;
  const ul = list();
  const frag = document.createDocumentFragment();
  for (const conv of state.conversations) frag.append(buildItem(conv));
  ul.replaceChildren(frag);
  document.getElementById('conversation-empty').hidden = state.conversations.length > 0;
}

/** Update only the active marker (cheap, used on selection). */
export function markActive() {
  for (const li of list().querySelectorAll('li.conversation')) {
    const on = Number(li.dataset.id) === state.activeId;
    li.classList.toggle('active', on);
    if (on) li.setAttribute('aria-current', 'true'); else li.removeAttribute('aria-current');
  }
}

/** Marks the conversations with a reply running (each streams on its own). */
export function markBusy() {
  for (const li of list().querySelectorAll('li.conversation')) {
    li.classList.toggle('busy', state.streams.has(Number(li.dataset.id)));
  }
}

export function scrollActiveIntoView() {
  list().querySelector('li.conversation.active')?.scrollIntoView({ block: 'nearest' });
}

/** Reload the list from the backend. */
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

export function startRename(id) {
  if (renaming) return;
  const li = list().querySelector(`li.conversation[data-id="${CSS.escape(id)}"]`);
  const conv = state.conversations.find((c) => c.id === id);
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
        upsertConversation(updated);
        emit('conversations-changed');
      } catch (err) {
        showBanner(errorText(err), 'error');
      }
    }
    renderConversations();
    list().querySelector(`li.conversation[data-id="${CSS.escape(id)}"]`)?.focus();
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
  const conv = state.conversations.find((c) => c.id === id);
  if (!conv) return;
  emit('conversation-deleting', id);
  try {
    await api.deleteConversation(id);
  } catch (err) {
    showBanner(errorText(err), 'error');
    return;
  }
  state.conversations = state.conversations.filter((c) => c.id !== id);
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
