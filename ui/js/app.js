// Entry point: wires the modules together, loads initial data, shortcuts.
import { api } from './api.js';
import * as chat from './chat.js';
import * as conv from './convsettings.js';
import { hydrateIcons, showBanner, errorText } from './dom.js';
import { applyI18n, onLangChange, t } from './i18n.js';
import * as view from './messages.js';
import { initModelTable } from './modeltable.js';
import { initArena } from './arena.js';
import { setProfilesSource } from './rating.js';
import { initSlash } from './slash.js';
import { initPrompts } from './prompts.js';
import { loadRenderer } from './markdown.js';
import * as settings from './settings.js';
import * as sidebar from './sidebar.js';
import { initFolders } from './folders.js';
import { initBulk } from './bulk.js';
import { initHistory } from './history.js';
import { state, on, emit, activeConversation, upsertConversation } from './state.js';

const $ = (id) => document.getElementById(id);
let selectSeq = 0;
let loading = false;

function renderHeader() {
  const c = activeConversation();
  $('chat-title').textContent = c ? sidebar.conversationTitle(c) : '';
  document.title = c ? `${sidebar.conversationTitle(c)} — Parley` : 'Parley';
}

let totalsSeq = 0;
/** Tokens and cost of the whole conversation (every branch), beside its title. */
async function refreshTotals() {
  const id = state.activeId;
  const seq = ++totalsSeq;
  const el = $('conv-totals');
  if (!id) { el.textContent = ''; return; }
  try {
    const tot = await api.conversationTotals(id);
    if (seq !== totalsSeq) return;
    if (!tot.replies) { el.textContent = ''; return; }
    const tokens = tot.promptTokens + tot.completionTokens;
    const cost = tot.costUsd != null ? `$${view.formatCost(tot.costUsd)}` : t('totals.noCost');
    el.textContent = t(tot.replies === 1 ? 'totals.lineOne' : 'totals.line',
      { replies: tot.replies, tokens: tokens.toLocaleString(), cost })
      + (tot.counted ? ` ${t('totals.counted')}` : '');
  } catch {
    if (seq === totalsSeq) el.textContent = '';
  }
}

function renderEmptyState() {
  const empty = $('empty-state');
  const show = !loading && view.count() === 0;
  empty.hidden = !show;
  $('messages').classList.toggle('is-empty', show);
  if (!show) return;
  const none = !state.activeId;
  $('empty-title').textContent = t(none ? 'chat.welcomeTitle' : 'chat.emptyTitle');
  $('empty-hint').textContent = t(none ? 'chat.welcomeHint' : 'chat.emptyHint');
  $('empty-key').hidden = !(state.profile && state.profile.keySource === 'none');
}

let staleLoad = false;

/** Select a conversation (null = none). fresh: known to be empty, skip loading. */
async function selectConversation(id, { fresh = false } = {}) {
  conv.flushPending();
  const seq = ++selectSeq;
  state.activeId = id;
  state.messages = [];
  sidebar.markActive();
  sidebar.scrollActiveIntoView();
  renderHeader();
  refreshTotals();
  conv.loadConversation();
  view.renderAll([]);
  if (!id || fresh) {
    loading = false;
    renderEmptyState();
    chat.reattachStream();
    return;
  }
  loading = true;
  renderEmptyState();
  $('messages').setAttribute('aria-busy', 'true');
  try {
    const messages = await api.getMessages(id);
    if (seq !== selectSeq) return;
    state.messages = Array.isArray(messages) ? messages : [];
    view.renderAll(state.messages);
    chat.reattachStream();
    view.scrollToBottom();
  } catch (err) {
    if (seq === selectSeq) showBanner(errorText(err), 'error');
  } finally {
    if (seq === selectSeq) {
      loading = false;
      $('messages').removeAttribute('aria-busy');
      renderEmptyState();
      if (staleLoad) { staleLoad = false; selectConversation(id); }
    }
  }
}

/** Show the stored thread again (after branches changed), keeping the scroll position. */
async function reloadMessages(id) {
  const seq = selectSeq;
  try {
    const messages = await api.getMessages(id);
    if (seq !== selectSeq || id !== state.activeId) return;
    const el = $('messages');
    const stick = view.isAtBottom();
    const top = el.scrollTop;
    state.messages = Array.isArray(messages) ? messages : [];
    view.renderAll(state.messages);
    chat.reattachStream();
    if (stick) view.scrollToBottom(); else el.scrollTop = top;
  } catch (err) {
    showBanner(errorText(err), 'error');
  }
}

/** A new conversation configured by a saved prompt: its system prompt and preset (model, parameters). */
async function startFromPrompt(prompt) {
  const created = await api.createConversation();
  const d = prompt.latest;
  const preset = d.preset || {};
  const settings = {
    ...created, systemPrompt: d.systemPrompt || '', model: preset.model || null, ...(preset.settings || {}),
  };
  let updated = await api.updateConversation(created.id, settings);
  if (preset.profileId != null) updated = await api.setConversationProfile(created.id, preset.profileId);
  upsertConversation(updated);
  sidebar.renderConversations();
  await selectConversation(updated.id, { fresh: true });
}

async function createConversation() {
  const created = await api.createConversation();
  upsertConversation(created);
  sidebar.renderConversations();
  await selectConversation(created.id, { fresh: true });
  return created.id;
}

async function newChat() {
  try {
    await createConversation();
  } catch (err) {
    showBanner(errorText(err), 'error');
    return;
  }
  $('composer').focus();
}

function onKeydown(e) {
  if (e.defaultPrevented) return;
  const mod = e.ctrlKey || e.metaKey;
  if (mod && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'n') {
    e.preventDefault();
    if (!settings.isSettingsOpen()) newChat();
    return;
  }
  if (e.key === 'Escape' && !e.isComposing) {
    if (settings.isSettingsOpen()) return; // the <dialog> closes itself
    if (chat.isStreamingHere()) { e.preventDefault(); chat.stop(); return; }
    if (conv.isOpen()) { e.preventDefault(); conv.togglePanel(false); $('composer').focus(); }
  }
}

function wireEvents() {
  on('conversations-changed', () => renderHeader());
  on('conversation-deleting', (id) => {
    if (state.stream && state.stream.conversationId === id) chat.stop();
  });
  on('conversation-deleted', (id) => {
    if (state.activeId === id) selectConversation(null);
  });
  on('conversation-restored', (id) => {
    if (!state.activeId) selectConversation(id);
  });
  on('conversation-updated', () => renderHeader());
  // A backup was put in place: the conversation shown may not exist in it.
  on('database-restored', () => selectConversation(null));
  on('stream-started', () => { renderEmptyState(); sidebar.refreshConversations(); });
  on('stream-ended', (id) => {
    renderEmptyState();
    if (id === state.activeId) refreshTotals();
    sidebar.refreshConversations();
    // A load that started before the reply ended holds a stale snapshot: load again after it.
    if (id === state.activeId && loading) staleLoad = true;
  });
  on('profile-changed', () => { conv.updateModelPlaceholder(); renderEmptyState(); });

  onLangChange(() => {
    sidebar.renderConversations();
    renderHeader();
    renderEmptyState();
    view.relabel();
    conv.updateModelPlaceholder();
    settings.relabelSettings();
    refreshTotals();
  });
}

async function loadInitial() {
  const [info, profile, conversations] = await Promise.allSettled([
    api.appInfo(), api.getProfile(), api.listConversations(),
  ]);
  const errors = new Set();
  for (const r of [info, profile, conversations]) if (r.status === 'rejected') errors.add(errorText(r.reason));
  for (const msg of errors) showBanner(msg, 'error');
  if (info.status === 'fulfilled' && info.value) {
    settings.setAppInfo(info.value);
    for (const notice of info.value.notices || []) showBanner(String(notice), 'notice');
  }
  if (profile.status === 'fulfilled' && profile.value) {
    state.profile = profile.value;
    conv.updateModelPlaceholder();
    if (profile.value.baseUrlWarning) showBanner(profile.value.baseUrlWarning, 'warning');
  }
  if (conversations.status === 'fulfilled') {
    state.conversations = Array.isArray(conversations.value) ? conversations.value : [];
    emit('conversations-changed');
  }
  sidebar.renderConversations();
  renderEmptyState();
}

function init() {
  hydrateIcons(document);
  applyI18n(document);
  view.initMessages();
  sidebar.initSidebar({ onSelect: (id) => { if (id !== state.activeId) selectConversation(id); } });
  initFolders();
  initBulk();
  initHistory();
  conv.initConvSettings();
  settings.initSettings();
  chat.initChat({
    ensureConversation: async () => state.activeId || createConversation(),
    beforeSend: () => conv.flushPending(),
    reload: (id) => { if (id === state.activeId) reloadMessages(id); },
    compareModels: () => conv.compareModels(),
  });
  initModelTable();
  const inserted = (prompt, error) => {
    if (error) showBanner(error, 'error');
    chat.autoGrow();
    $('composer').focus();
  };
  initSlash(inserted);
  initPrompts({ startConversation: startFromPrompt, inserted });
  initArena(() => conv.knownProfiles());
  setProfilesSource(() => conv.knownProfiles());
  $('new-chat').addEventListener('click', () => newChat());
  $('empty-open-settings').addEventListener('click', () => settings.openSettings());
  document.addEventListener('keydown', onKeydown);
  wireEvents();
  conv.loadConversation();
  renderHeader();
  chat.autoGrow();
  const rendererLoaded = loadRenderer().then((ok) => { if (ok) view.rerenderReplies(); });
  loadInitial().finally(() => {
    $('composer').focus();
    // Everything is wired, the first data is in and replies render as Markdown (the end-to-end
    // tests wait for this).
    rendererLoaded.finally(() => { document.documentElement.dataset.ready = 'true'; });
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
