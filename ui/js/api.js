import { t } from './i18n.js';

// The only module that touches window.__TAURI__. Every backend command gets a
// small wrapper; rejections are normalised to {kind, message, retryAfterSecs?}.

function core() {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core || typeof tauri.core.invoke !== 'function') {
    throw { kind: 'unavailable', message: t('error.noTauri') };
  }
  return tauri.core;
}

/** Turn whatever a rejected invoke carries into {kind, message, retryAfterSecs?}. */
export function normalizeError(err) {
  if (err && typeof err === 'object') {
    const message = typeof err.message === 'string' && err.message
      ? err.message
      : (typeof err.error === 'string' ? err.error : JSON.stringify(err));
    const out = { kind: typeof err.kind === 'string' ? err.kind : 'unknown', message };
    if (typeof err.retryAfterSecs === 'number') out.retryAfterSecs = err.retryAfterSecs;
    return out;
  }
  return { kind: 'unknown', message: String(err ?? 'Unknown error') };
}

async function call(cmd, args) {
  try {
    return await core().invoke(cmd, args);
  } catch (err) {
    throw normalizeError(err);
  }
}

/** A file's bytes as the raw body of the call, its name percent-encoded in a header. */
async function fileCall(cmd, file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  try {
    return await core().invoke(cmd, bytes, { headers: { 'x-parley-name': encodeURIComponent(file.name || '') } });
  } catch (err) {
    throw normalizeError(err);
  }
}

async function streamCall(cmd, request, onEvent) {
  let channel;
  try {
    channel = new (core().Channel)();
  } catch (err) {
    throw normalizeError(err);
  }
  channel.onmessage = (ev) => {
    try { onEvent(ev); } catch (e) { console.error('stream event handler failed', e); }
  };
  return call(cmd, { request, onEvent: channel });
}

export const api = {
  appInfo: () => call('app_info'),
  /** The request parameters' table: [{name, key, kind, min, max, step, doc, endpoints, profileDefault}]. */
  paramSpec: () => call('param_spec'),

  listConversations: () => call('list_conversations'),
  /** One conversation (the sidebar refreshes just its row). */
  getConversation: (id) => call('get_conversation', { id }),
  createConversation: () => call('create_conversation'),
  renameConversation: (id, title) => call('rename_conversation', { id, title }),
  updateConversation: (id, settings) => call('update_conversation', { id, settings }),
  deleteConversation: (id) => call('delete_conversation', { id }),
  restoreConversation: (id) => call('restore_conversation', { id }),

  /** The active path: messages with siblingIds (and group for the last reply made with others). */
  getMessages: (conversationId) => call('get_messages', { conversationId }),
  /** Show the branch through messageId; returns the new active path. */
  selectBranch: (messageId) => call('select_branch', { messageId }),
  conversationTotals: (conversationId) => call('conversation_totals', { conversationId }),
  /**
   * A page of the active path: {total, start, messages}. at: {start} from a position, {around: messageId},
   * or {} for the last page.
   */
  getThreadPage: (conversationId, at, limit) =>
    call('get_thread_page', { conversationId, start: at.start ?? null, around: at.around ?? null, limit }),
  /** Show the branch through messageId; resolves to the page with it in the middle. */
  openAtMessage: (messageId, limit) => call('open_at_message', { messageId, limit }),
  /**
   * Every message of every conversation. filter: {model?, profileId?, since?, until?, folderId?, tagId?,
   * rated?: bool, arena?: bool}. Hits: {messageId, conversationId, title, role, model, createdAt, archived,
   * snippet: [{text, hit}]} (snippet text is untrusted: textContent only).
   */
  searchMessages: (query, filter = {}, limit = 50) => call('search_messages', { query, filter, limit }),
  /** What the search filters offer: {models, folders: [{id, name, parentId}], tags: [{id, name, color}]}. */
  searchFacets: () => call('search_facets'),
  /**
   * request: {conversationId, content, streamId, editOf?, targets?: [{model, profileId, streamId}]};
   * onEvent(streamEvent). Resolves to every reply (one per model and choice).
   */
  sendMessage: (request, onEvent) => streamCall('send_message', request, onEvent),
  /** request: {conversationId, userMessageId, streamId, targets?}; onEvent(streamEvent). */
  retryMessage: (request, onEvent) => streamCall('retry_message', request, onEvent),
  cancelStream: (streamId) => call('cancel_stream', { streamId }),
  /** The function tools a conversation offers: [{name, description, parameters}]. */
  getConversationTools: (conversationId) => call('get_conversation_tools', { conversationId }),
  /** Checked (names, JSON-schema parameters) and saved; [] removes them. */
  setConversationTools: (conversationId, tools) => call('set_conversation_tools', { conversationId, tools }),
  /** Token probabilities: null = not asked for, n = n alternatives per token (0–20). */
  getConversationLogprobs: (conversationId) => call('get_conversation_logprobs', { conversationId }),
  setConversationLogprobs: (conversationId, top) => call('set_conversation_logprobs', { conversationId, top }),

  // Provider profiles. profileId null/undefined = the default profile.
  getProfile: (profileId = null) => call('get_profile', { profileId }),
  updateProfile: (update, profileId = null) => call('update_profile', { profileId, update }),
  setApiKey: (key, profileId = null) => call('set_api_key', { profileId, key }),
  clearApiKey: (profileId = null) => call('clear_api_key', { profileId }),
  confirmApiKey: (profileId = null) => call('confirm_api_key', { profileId }),
  listModels: (profileId = null) => call('list_models', { profileId }),
  listProfiles: () => call('list_profiles'),
  createProfile: (update) => call('create_profile', { update }),
  deleteProfile: (profileId) => call('delete_profile', { profileId }),
  setDefaultProfile: (profileId) => call('set_default_profile', { profileId }),
  /** proxy: {mode: 'system'|'none'} or {mode: 'custom', url} */
  /** proxyLocal: servers on this machine go through the proxy too (absent: unchanged). */
  setAppProxy: (proxy, proxyLocal) => call('set_app_proxy', { proxy, proxyLocal }),
  findLocalServers: () => call('find_local_servers'),
  setConversationProfile: (id, profileId) => call('set_conversation_profile', { id, profileId }),

  // Rating replies (issue 4).
  rateReply: (messageId, rating) => call('rate_reply', { messageId, rating }),
  getRating: (messageId) => call('get_rating', { messageId }),
  listRatingReasons: () => call('list_rating_reasons'),
  setRatingReasons: (reasons) => call('set_rating_reasons', { reasons }),
  /** "Continue with this" among replies made together; resolves to the new active path. */
  chooseReply: (messageId) => call('choose_reply', { messageId }),
  /** request: {content, pool: [{model, profileId}], streamIds: [a, b]}; resolves to the blind round. */
  arenaRound: (request, onEvent) => streamCall('arena_round', request, onEvent),
  arenaVote: (battleId, winner) => call('arena_vote', { battleId, winner }),
  /** filter: {source?: 'arena'|'choice', tag?, since?, until?}; Bradley–Terry rows with intervals. */
  leaderboard: (filter) => call('leaderboard', { filter }),
  /** filter: {tag?, since?, until?}; per model: rated, thumbs, scores[5], meanScore, trend, tags. */
  ratingsByModel: (filter) => call('ratings_by_model', { filter }),
  /** Ratings, votes and verdicts as CSV or JSON, saved with the system dialog; resolves to the path or null. */
  exportRatings: (filter, format) => call('export_ratings', { filter, format }),
  /** Per judge model and rubric: {judgeModel, rubric, rubricVersion, scores: {items, spearman}, pairwise: {items, percentAgreement, kappa}}. */
  judgeAgreement: () => call('judge_agreement'),

  // Saved prompts (issue 5). sort: 'uses' | 'recent' | 'name'.
  listPrompts: (query = '', sort = 'uses') => call('list_prompts', { query, sort }),
  /** draft: {title, body, systemPrompt, tags, preset}; a changed save is a new version. */
  savePrompt: (name, draft, message = '') => call('save_prompt', { name, draft, message }),
  promptVersions: (name) => call('prompt_versions', { name }),
  rollbackPrompt: (name, version) => call('rollback_prompt', { name, version }),
  deletePrompt: (name) => call('delete_prompt', { name }),
  setPromptFavourite: (name, favourite) => call('set_prompt_favourite', { name, favourite }),
  promptDiff: (name, from, to) => call('prompt_diff', { name, from, to }),
  promptScores: (name) => call('prompt_scores', { name }),
  /** Resolves to {text, versionId}; clipboard only when the prompt uses {{clipboard}}. */
  fillPrompt: (name, values, clipboard = null) => call('fill_prompt', { name, values, clipboard }),
  importPrompts: (text) => call('import_prompts', { text }),
  exportPrompts: () => call('export_prompts'),
  /** Resolves to the renamed prompt (its history goes with it). */
  renamePrompt: (name, newName) => call('rename_prompt', { name, newName }),

  /** The editable model table: [{model, inputPerM, outputPerM, contextWindow}]. */
  listModelTable: () => call('list_model_table'),
  saveModelInfo: (info) => call('save_model_info', { info }),
  removeModelInfo: (model) => call('remove_model_info', { model }),

  // Links from replies (W7): check first (nothing opens), then open after the user confirms.
  checkLink: (url) => call('check_link', { url }),
  openLink: (url) => call('open_link', { url }),

  // LLM judge (issue 4). judge = {profileId?, model?}; rubricId null = the default rubric.
  // A verdict: {score} (single) or {winner: 'a'|'b'|'tie'|'inconsistent', winnerAb, winnerBa,
  // consistent} (pair, a = the first id), with reasoning, raw and error (a failed run is stored).
  listRubrics: () => call('list_rubrics'),
  saveRubric: (name, kind, body) => call('save_rubric', { name, kind, body }),
  judgeReply: (messageId, judge = {}, rubricId = null) =>
    call('judge_reply', { messageId, rubricId, judge }),
  judgePair: (aId, bId, judge = {}, rubricId = null) =>
    call('judge_pair', { aId, bId, rubricId, judge }),
  listVerdicts: (messageId) => call('list_verdicts', { messageId }),

  // Organising (issue 11): folders, tags, pin, archive; bulk changes resolve to the state before,
  // which undoOrganise puts back. change: {op: 'move', folderId} | {op: 'addTag'|'removeTag', tagId}
  // | {op: 'pin', pinned} | {op: 'archive', archived}.
  listArchivedConversations: () => call('list_archived_conversations'),
  listFolders: () => call('list_folders'),
  createFolder: (name, parentId = null) => call('create_folder', { name, parentId }),
  renameFolder: (id, name) => call('rename_folder', { id, name }),
  moveFolder: (id, parentId) => call('move_folder', { id, parentId }),
  deleteFolder: (id) => call('delete_folder', { id }),
  listTags: () => call('list_tags'),
  createTag: (name, color = null) => call('create_tag', { name, color }),
  updateTag: (id, name, color) => call('update_tag', { id, name, color }),
  deleteTag: (id) => call('delete_tag', { id }),
  organiseConversations: (ids, change) => call('organise_conversations', { ids, change }),
  undoOrganise: (states) => call('undo_organise', { states }),
  deleteConversations: (ids) => call('delete_conversations', { ids }),
  restoreConversations: (ids) => call('restore_conversations', { ids }),
  /** what: {ids} | {folderId} | {all: true}; format 'markdown' | 'json'. The save dialog is shown
   * by the back end; resolves to the path written, or null if the user cancelled. */
  exportConversations: (what, format) => call('export_conversations', { what, format }),
  /** Open dialog, then an all-or-nothing import; onProgress({bytesRead, totalBytes, conversations}).
   * Resolves to {format, conversations, messages, duplicates, skippedParts, skippedMessages} or null. */
  importConversations: (onProgress) => {
    let channel;
    try {
      channel = new (core().Channel)();
    } catch (err) {
      return Promise.reject(normalizeError(err));
    }
    channel.onmessage = (p) => { try { onProgress(p); } catch (e) { console.error(e); } };
    return call('import_conversations', { onProgress: channel });
  },
  cancelImport: () => call('cancel_import'),
  /** [{name, path, bytes, takenAt}], newest first. */
  listBackups: () => call('list_backups'),
  /** Resolves to where the replaced database was moved. */
  restoreBackup: (name) => call('restore_backup', { name }),
  // Structured outputs and token branches (issue 12)
  /** format: null | {type: 'json_object'} | {type: 'json_schema', name, schema, strict}; resolves to the conversation. */
  setConversationResponseFormat: (conversationId, format) => call('set_conversation_response_format', { conversationId, format }),
  /** request: {conversationId, replyId, tokenIndex, alternative, streamId}; onEvent(streamEvent). */
  continueFromToken: (request, onEvent) => streamCall('continue_from_token', request, onEvent),

  // Attachments (images and text files in the composer).
  /** File → {sha256, name, detail, width, height, thumb (data: URL), downscaled}: checked, downscaled, stored once. */
  attachImage: (file) => fileCall('attach_image', file),
  /** File → {name, text}: UTF-8 and size checked; sent as a fenced block. */
  attachFile: (file) => fileCall('attach_file', file),
  /** {maxImageBytes, maxFileBytes, maxAttachments, maxEdge, minMaxEdge, maxMaxEdge} */
  attachmentLimits: () => call('attachment_limits'),
  setImageMaxEdge: (edge) => call('set_image_max_edge', { edge }),
  /** SQLite VACUUM; resolves to {bytesBefore, bytesAfter, indexRebuilt}. */
  compactDatabase: () => call('compact_database'),

  // Suite runs (issue 13, branch suitegrid): the runs list, a run's grid, cells as replies, compare.
  /** [{id, description, status, total, done, passed, createdAt, grid: {prompts, providers, tests}}], newest first. */
  listSuiteRuns: () => call('list_suite_runs'),
  /** {run, columns: [{prompt, provider, promptLabel, providerLabel}], tests, cells, summaries}. */
  suiteRunGrid: (runId) => call('suite_run_grid', { runId }),
  /** The cell as a rateable reply (made once, reused): {conversationId, messageId}. */
  openSuiteCell: (runId, prompt, provider, test) => call('open_suite_cell', { runId, prompt, provider, test }),
  /** The other runs with the same prompts and providers, newest first. */
  suiteRunsLike: (runId) => call('suite_runs_like', { runId }),
  /** {before, after, columns, tests, cells: [{prompt, provider, test, delta, before, after}], comparison}. */
  compareSuiteRuns: (before, after) => call('compare_suite_runs', { before, after }),
  // The judge on a reply and on a group (branch judge). judge = {profileId?, model?, runId?}:
  // runId is what cancelStream(runId) stops. A verdict also carries servedModel (the model the
  // server claimed, when it differs from judgeModel, the one asked for).
  /** Every verdict about any of these replies, newest first (one call per page of a conversation). */
  verdictsOfMessages: (messageIds) => call('verdicts_of_messages', { messageIds }),
  /** filter: {tag?, since?, kind?: 'single'|'pairwise'}; newest first, at most 500. */
  listAllVerdicts: (filter = {}) => call('list_all_verdicts', { filter }),
  // The suite library in the window (branch suitewin).
  /** [{id, name, bytes, updatedAt}] by name. */
  listSuites: () => call('list_suites'),
  /** {info, doc: {description, prompts: [{text, label}], providers: [{id, label, config}], table: {columns, rows}, maxConcurrency}, yaml, cells}. */
  loadSuite: (id) => call('load_suite', { id }),
  /** id null: a new suite. Resolves to the saved suite, as loadSuite. */
  saveSuite: (id, name, doc) => call('save_suite', { id, name, doc }),
  deleteSuite: (id) => call('delete_suite', { id }),
  /** Tab-separated text (first row = headers) → {columns, rows}. */
  pasteSuiteTable: (text) => call('paste_suite_table', { text }),
  /** The open dialog; resolves to the imported suite's {id, name, …}, or null if cancelled. */
  importSuite: () => call('import_suite'),
  /** The save dialog; resolves to the path written, or null if cancelled. */
  exportSuite: (id) => call('export_suite', { id }),
  /** request {suiteId, concurrency?, useCache?, runKey}; onProgress({done, total, passed, failed, errors, cached, elapsedMs, etaMs});
   *  resolves to {runId, progress, cancelled}. Stop: cancelStream(runKey). */
  runLibrarySuite: (request, onProgress) => {
    let channel;
    try {
      channel = new (core().Channel)();
    } catch (err) {
      return Promise.reject(normalizeError(err));
    }
    channel.onmessage = (p) => { try { onProgress(p); } catch (e) { console.error(e); } };
    return call('run_library_suite', { request, onProgress: channel });
  },
  // Start-up (branch start): the page's first paint with its data in (the "page loaded" trace mark).
  pageShown: (marks) => call('page_shown', { marks }),
  /** A full garbage collection in the web process: `{ beforeKib, afterKib, ms }`, or null. */
  releaseMemory: () => call('release_memory'),
  /** The window's own process only (its caches, the pages start-up read): `{ beforeKib, afterKib }`
   *  of its executable resident. */
  releaseWindowMemory: () => call('release_window_memory'),
};

export function newStreamId() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
  const b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40; // version 4
  b[8] = (b[8] & 0x3f) | 0x80; // variant
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export default api;
