// Entry point: wires the modules together, loads initial data, shortcuts.
import { api } from './api.js';
import * as chat from './chat.js';
import * as conv from './convsettings.js';
import { hydrateIcons, showBanner, errorText } from './dom.js';
import { applyI18n, onLangChange, t } from './i18n.js';
import * as view from './messages.js';
import * as paging from './paging.js';
import { initSearch, isSearchOpen } from './search.js';
import { initModelTable } from './modeltable.js';
import { initArena } from './arena.js';
import { setJudgeProfiles } from './judge.js';
import { initSlash } from './slash.js';
import { initPrompts } from './prompts.js';
import { loadRenderer } from './markdown.js';
import * as settings from './settings.js';
import * as sidebar from './sidebar.js';
import { initFolders } from './folders.js';
import { initBulk } from './bulk.js';
import { initHistory } from './history.js';
import { initWelcome, needsWelcome, showWelcome } from './welcome.js';
import { initTheme } from './theme.js';
import { initShortcuts } from './shortcuts.js';
import { initJump, updateJumpButton } from './jump.js';
import { initTables } from './tables.js';
import { initLayout, lastConversation, rememberConversation, setDataDir } from './layout.js';
import { state, on, emit, activeConversation, upsertConversation } from './state.js';
import { initFeedback, noteInsertedPrompt } from './feedback.js';
import { keepNotesOf } from './notes.js';
import { initSuiteRuns } from './suiteruns.js';
import { initSuites } from './suites.js';
import { initMemory } from './memory.js';

// index.html loads this file's bundle, ui/app.bundle.js (tools/bundle.sh). The end-to-end tests and
// benches reach the page's own instance of a module through it:
// `import('./app.bundle.js').then((m) => m.i18n)` (importing ./js/i18n.js would make a second one).
export * as api from './api.js';
export * as chat from './chat.js';
export * as frameprobe from './frameprobe.js';
export * as i18n from './i18n.js';
export * as lazymd from './lazymd.js';
export * as markdown from './markdown.js';
export * as memory from './memory.js';
export * as messages from './messages.js';
export * as paging from './paging.js';
export * as render from './render.js';
export * as search from './search.js';
export * as state from './state.js';
export * as sidebar from './sidebar.js';
export * as streams from './streams.js';
export * as suiteruns from './suiteruns.js';
export * as theme from './theme.js';

performance.mark('parley:modules'); // every module imported above has run

const $ = (id) => document.getElementById(id);
let selectSeq = 0;
/** New chats being created: a click on the open conversation meanwhile is a choice too. */
let creating = 0;
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

let profilesCount = 1;

/** Whether to point at Settings for a key: OpenAI with none, or a stored key not confirmed here
 * (a server on this machine usually needs none). */
function needsKey(p) {
  if (!p || p.keySource !== 'none') return false;
  if (p.keyHeldFor || p.keyUnbound) return true;
  try { return new URL(p.effectiveBaseUrl).hostname === 'api.openai.com'; } catch { return false; }
}

function renderEmptyState() {
  const empty = $('empty-state');
  const welcome = !loading && view.count() === 0 && needsWelcome(profilesCount);
  showWelcome(welcome);
  const show = !loading && view.count() === 0 && !welcome;
  empty.hidden = !show;
  $('messages').classList.toggle('is-empty', show || welcome);
  updateJumpButton();
  // Nothing can be sent before a server is chosen: the welcome gets the room.
  document.querySelector('.composer-wrap').hidden = welcome;
  if (!show) return;
  const none = !state.activeId;
  $('empty-title').textContent = t(none ? 'chat.welcomeTitle' : 'chat.emptyTitle');
  $('empty-hint').textContent = t(none ? 'chat.welcomeHint' : 'chat.emptyHint');
  $('empty-key').hidden = !needsKey(state.profile);
}

let staleLoad = false;

/**
 * Select a conversation (null = none). fresh: known to be empty, skip loading. at: a message to
 * show (its branch becomes the shown one) and mark, instead of the end.
 */
async function selectConversation(id, { fresh = false, at = null } = {}) {
  conv.flushPending();
  const seq = ++selectSeq;
  state.activeId = id;
  keepNotesOf(id);
  rememberConversation(id);
  state.messages = [];
  // Off the list (archived, opened from its view or a search hit): read it, so its title,
  // settings and delete work (it opened with none of them).
  if (id && !activeConversation()) {
    try {
      const c = await api.getConversation(id);
      if (seq !== selectSeq) return;
      state.offList.set(id, { ...c, archived: true });
    } catch { /* shown as it can be */ }
  }
  sidebar.markActive();
  sidebar.scrollActiveIntoView();
  renderHeader();
  conv.loadConversation();
  paging.clear();
  if (!id || fresh) {
    refreshTotals();
    loading = false;
    renderEmptyState();
    chat.reattachStream();
    return;
  }
  loading = true;
  $('conv-totals').textContent = '';
  renderEmptyState();
  $('messages').setAttribute('aria-busy', 'true');
  try {
    // Only the last page is read: a 10,000-message conversation opens as fast as a short one.
    const page = at != null ? await api.openAtMessage(at, paging.PAGE)
      : await api.getThreadPage(id, {}, paging.PAGE);
    if (seq !== selectSeq) return;
    if (at == null) paging.showEnd(page); else paging.showPage(page);
    chat.reattachStream();
    if (at == null || !view.highlight(at)) view.scrollToBottom();
  } catch (err) {
    if (seq === selectSeq) showBanner(errorText(err), 'error');
  } finally {
    if (seq === selectSeq) {
      // After the page: the totals read the whole conversation and would hold the database first.
      refreshTotals();
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
    // Read at the end: the last page, as an open shows it. Else the same part of the path as shown.
    const end = paging.atEnd();
    const tail = end && view.isAtBottom();
    const len = tail ? paging.PAGE : Math.min(paging.MAX, Math.max(paging.PAGE, state.messages.length + 2));
    const page = await api.getThreadPage(id, end ? {} : { start: view.thread.start }, len);
    if (seq !== selectSeq || id !== state.activeId) return;
    const el = $('messages');
    const stick = view.isAtBottom();
    const top = el.scrollTop;
    if (tail && stick) paging.showEnd(page); else paging.showPage(page);
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
  const before = selectSeq;
  creating += 1;
  let created;
  try {
    created = await api.createConversation();
  } finally {
    creating -= 1;
  }
  upsertConversation(created);
  sidebar.renderConversations();
  // A conversation was clicked while this one was being created: the later click wins.
  if (selectSeq === before) await selectConversation(created.id, { fresh: true });
  return created.id;
}

async function newChat() {
  // An empty "New chat" is not kept twice: the open one is still empty, so it is the new chat.
  if (state.activeId && !loading && !state.stream && state.messages.length === 0 && view.count() === 0) {
    $('composer').focus();
    return;
  }
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
    // Any open dialog or menu takes its own Esc (it closes itself): never the reply or the panel
    // behind it.
    if (settings.isSettingsOpen() || isSearchOpen() || document.querySelector('dialog[open]')) return;
    if (e.target instanceof Element && e.target.closest('.org-menu')) return;
    if (chat.isStreamingHere()) { e.preventDefault(); chat.stop(); return; }
    if (conv.isOpen()) { e.preventDefault(); conv.togglePanel(false); $('composer').focus(); }
  }
}

function wireEvents() {
  on('conversations-changed', () => renderHeader());
  on('conversation-deleting', (id) => {
    if (state.streams.has(id)) chat.stop(id);
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
  // Only the row of the conversation that changed is redrawn (5,000 conversations stay smooth).
  on('stream-started', (id) => { renderEmptyState(); sidebar.refreshConversation(id); });
  on('stream-ended', (id) => {
    renderEmptyState();
    if (id === state.activeId) refreshTotals();
    sidebar.refreshConversation(id);
    // A load that started before the reply ended holds a stale snapshot: load again after it.
    if (id === state.activeId && loading) staleLoad = true;
  });
  on('profile-changed', () => { conv.updateModelPlaceholder(); renderEmptyState(); });
  on('streams-changed', () => sidebar.markBusy());
  on('profiles-changed', (overview) => { profilesCount = overview.profiles.length; renderEmptyState(); });

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
  // Three calls at once; the default profile is the one the list marks (no call of its own).
  const [info, conversations, profiles] = await Promise.allSettled([
    api.appInfo(), api.listConversations(), conv.profilesListed,
  ]);
  performance.mark('parley:data');
  const overview = profiles.status === 'fulfilled' ? profiles.value : null;
  if (overview) profilesCount = overview.profiles.length;
  const profile = { status: profiles.status, value: overview?.profiles.find((p) => p.isDefault) ?? null };
  const errors = new Set();
  for (const r of [info, profiles, conversations]) if (r.status === 'rejected') errors.add(errorText(r.reason));
  for (const msg of errors) showBanner(msg, 'error');
  if (info.status === 'fulfilled' && info.value) {
    settings.setAppInfo(info.value);
    setDataDir(info.value.dataDir ?? null);
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
  // The conversation that was open when the window closed.
  const last = lastConversation();
  if (last != null && state.conversations.some((c) => c.id === last)) {
    startRenderer(); // its replies are Markdown: the libraries load while the thread is read
    await selectConversation(last);
  } else renderEmptyState();
}

let rendererLoaded = null;
/** The Markdown libraries (~550 KB of script), once: replies shown before they arrive render again. */
function startRenderer() {
  rendererLoaded ??= loadRenderer().then((ok) => { if (ok) view.rerenderReplies(); });
  return rendererLoaded;
}

/**
 * Once the first view with its data (sidebar, last conversation) has been painted: tells the back
 * end (its "page loaded" start-up mark) and the page (`parley:shown`, which the Chromium anchor of
 * tests/bench.sh times). A timeout queued from an animation frame runs after that frame's paint.
 */
function reportShown() {
  return new Promise((resolve) => {
    let done = false;
    const report = () => {
      if (done) return;
      done = true;
      performance.mark('parley:shown');
      document.dispatchEvent(new Event('parley:shown'));
      const now = performance.now();
      const marks = performance.getEntriesByType('mark')
        .filter((m) => m.name.startsWith('parley:'))
        .map((m) => [m.name, now - m.startTime]);
      marks.unshift(['(navigation start)', now]);
      api.pageShown(marks).catch(() => {});
      resolve();
    };
    requestAnimationFrame(() => setTimeout(report, 0));
    setTimeout(report, 2000); // a window opened hidden gets no frames: go on without one
  });
}

function init() {
  performance.mark('parley:init');
  initTheme();
  hydrateIcons(document);
  applyI18n(document);
  initShortcuts();
  initJump();
  initTables();
  initLayout();
  initMemory();
  view.initMessages();
  paging.initPaging();
  sidebar.initSidebar({ onSelect: (id) => { if (id !== state.activeId || creating) selectConversation(id); } });
  initFolders();
  initBulk();
  initHistory();
  conv.initConvSettings();
  settings.initSettings();
  initWelcome(() => { renderEmptyState(); $('composer').focus(); });
  chat.initChat({
    ensureConversation: async () => state.activeId || createConversation(),
    beforeSend: async (kind) => {
      await conv.flushPending();
      // New messages go at the end of the path: show it first when the window is above it. An
      // edit or a regenerate starts a branch at a message on screen: the window stays there (the
      // new reply found no place in the end's window and was shown under the wrong messages).
      if ((kind === 'send' || kind === 'tools') && state.activeId && !paging.atEnd()) {
        const id = state.activeId;
        const page = await api.getThreadPage(id, {}, paging.PAGE);
        if (id !== state.activeId) return; // left meanwhile: never draw it over another
        paging.showPage(page);
        view.scrollToBottom();
      }
    },
    reload: (id) => { if (id === state.activeId) reloadMessages(id); },
    compareModels: () => conv.compareModels(),
  });
  initModelTable();
  initFeedback({ ensureConversation: async () => state.activeId || createConversation() });
  const inserted = (prompt, error) => {
    if (error) showBanner(error, 'error');
    else noteInsertedPrompt(prompt);
    chat.autoGrow();
    $('composer').focus();
  };
  initSlash(inserted);
  initPrompts({ startConversation: startFromPrompt, inserted });
  initArena(() => conv.knownProfiles());
  initSuites();
  initSearch({
    open: (conversationId, messageId) => selectConversation(conversationId, { at: messageId }),
    profiles: () => conv.knownProfiles(),
  });
  initSuiteRuns({ open: (conversationId, messageId) => selectConversation(conversationId, { at: messageId }) });
  setJudgeProfiles(() => conv.knownProfiles());
  $('new-chat').addEventListener('click', () => newChat());
  $('empty-open-settings').addEventListener('click', () => settings.openSettings());
  document.addEventListener('keydown', onKeydown);
  wireEvents();
  conv.loadConversation();
  renderHeader();
  chat.autoGrow();
  performance.mark('parley:wired');
  loadInitial().finally(() => {
    performance.mark('parley:data-shown');
    $('composer').focus();
    // With no conversation open, the libraries wait until the first view is on screen.
    const shown = reportShown().then(startRenderer);
    // Everything is wired, the first data is in, the parameter inputs are built and replies render
    // as Markdown (the end-to-end tests wait for this).
    Promise.allSettled([shown, conv.inputsReady, settings.inputsReady])
      .then(() => { document.documentElement.dataset.ready = 'true'; });
  });
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
