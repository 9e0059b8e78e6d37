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

  listConversations: () => call('list_conversations'),
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
   * request: {conversationId, content, streamId, editOf?, targets?: [{model, profile, streamId}]};
   * onEvent(streamEvent). Resolves to every reply (one per model and choice).
   */
  sendMessage: (request, onEvent) => streamCall('send_message', request, onEvent),
  /** request: {conversationId, userMessageId, streamId, targets?}; onEvent(streamEvent). */
  retryMessage: (request, onEvent) => streamCall('retry_message', request, onEvent),
  cancelStream: (streamId) => call('cancel_stream', { streamId }),

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
  setAppProxy: (proxy) => call('set_app_proxy', { proxy }),
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
  /** Writes a CSV or JSON file to the Downloads folder; resolves to its path. */
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
