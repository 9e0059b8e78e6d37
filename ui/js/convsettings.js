// Per-conversation settings panel: system prompt, model and the sampling parameters.
import { api } from './api.js';
import { debounce, errorText, h } from './dom.js';
import { onLangChange, t } from './i18n.js';
import { loadModels } from './models.js';
import { buildInputs, clearMarks, fillInputs, inputId, markEndpoint, OWN_EDITOR, paramSpec, readInputs } from './params.js';
import { state, upsertConversation, emit, on, activeConversation, findConversation } from './state.js';
import { initToolsEditor, loadTools } from './tools.js';
import { initSchemaEditor, loadSchema } from './schema.js';

const $ = (id) => document.getElementById(id);
/** The parameter inputs' id prefix (built from the back end's table: conv-temperature, conv-stop…). */
const PREFIX = 'conv-';
/** The parameters shown (the back end's table), once built. */
let specs = [];
/** Resolves once the parameter inputs exist. */
export let inputsReady = Promise.resolve();
const MAX_COMPARE = 3;
/** Models side by side, per conversation, for this session (not saved). */
const compareByConversation = new Map();
function fields() { return ['system-prompt', 'conv-model', 'endpoint', ...specs.map((s) => inputId(PREFIX, s))]; }

let modelsTried = false;
let loadedId = null;
let statusTimer = 0;

let inflight = null; // the last save, so a send can wait for it
const saver = debounce((id, settings) => { inflight = save(id, settings); return inflight; }, 600);

// --- Providers: the conversation's profile (issue 3) ---
/** {profiles, defaultId} from list_profiles, or null until loaded */
let profilesOverview = null;

/** The known profiles ([{id, name, …}]), for model@Profile elsewhere (the arena's pool). */
export function knownProfiles() { return profilesOverview?.profiles || []; }

/** The profile a conversation talks to (its own, else the default one). */
function profileOf(conv) {
  const list = profilesOverview?.profiles || [];
  return list.find((p) => p.id === conv?.profileId) || list.find((p) => p.isDefault) || state.profile || null;
}

function renderProfilePicker() {
  const select = $('conv-profile');
  const conv = activeConversation();
  const list = profilesOverview?.profiles || [];
  const def = list.find((p) => p.isDefault) || state.profile;
  select.replaceChildren(
    h('option', { text: t('profiles.convDefault', { name: def?.name ?? '' }), attrs: { value: '' } }),
    // Each profile once: the default one is the first option (unless this chat is pinned to it).
    ...list.filter((p) => p !== def || conv?.profileId === p.id)
      .map((p) => h('option', { text: p.name, attrs: { value: String(p.id) } })));
  const own = list.some((p) => p.id === conv?.profileId) ? String(conv.profileId) : '';
  select.value = own;
  select.disabled = !conv;
}

async function onProfilePicked() {
  const id = loadedId;
  if (!id) return;
  const raw = $('conv-profile').value;
  try {
    const updated = await api.setConversationProfile(id, raw ? Number(raw) : null);
    upsertConversation(updated);
    emit('conversation-updated', updated);
    showError(null);
    updateModelPlaceholder();
    // Another server, other models.
    modelsTried = true;
    loadModels(profileOf(updated)?.id ?? null).catch(() => { /* user can type the model */ });
  } catch (err) {
    showError(errorText(err));
  }
}

/** The profiles as listed at start: app.js counts them too (one call where there were two). */
export let profilesListed = Promise.resolve(null);

async function refreshProfiles(listed = api.listProfiles()) {
  try {
    profilesOverview = await listed;
  } catch { /* the picker keeps the default only */ }
  renderProfilePicker();
  updateModelPlaceholder();
}
// --- end Providers ---

export function initConvSettings() {
  initToolsEditor(api, () => state.activeId);
  initSchemaEditor(() => loadedId, () => flushPending());
  // Another server, other models: list them again next time the panel opens.
  on('profile-changed', () => { modelsTried = false; });
  on('profiles-changed', (overview) => { profilesOverview = overview; renderProfilePicker(); updateModelPlaceholder(); });
  $('conv-profile').addEventListener('change', () => onProfilePicked());
  profilesListed = api.listProfiles();
  refreshProfiles(profilesListed);
  $('toggle-conv-settings').addEventListener('click', () => togglePanel());
  const listen = (ids) => {
    for (const f of ids) {
      const el = $(f);
      el.addEventListener('input', () => schedule(false));
      el.addEventListener('change', () => schedule(true));
    }
  };
  listen(fields());
  // Parameters the chosen endpoint does not take are shown disabled, with the reason.
  $('endpoint').addEventListener('change', () => markRefused());
  onLangChange(() => markRefused());
  inputsReady = buildInputs($('conv-params'), PREFIX, { placeholder: 'convSettings.default' }).then((built) => {
    specs = built;
    listen(specs.map((s) => inputId(PREFIX, s)));
    const conv = findConversation(loadedId);
    fillInputs(specs, PREFIX, conv);
    for (const f of fields()) $(f).disabled = !conv;
    markRefused();
  }).catch((err) => showError(errorText(err)));
  $('compare-models').addEventListener('input', () => {
    if (loadedId) compareByConversation.set(loadedId, $('compare-models').value);
    compareModels(); // shows the problem, if any
  });
  updateModelPlaceholder();
}

/**
 * The other models to answer side by side (from the panel), at most three, as
 * [{model, profileId}]. "model@Profile" asks another profile (when Profile is the exact name of
 * one; otherwise the whole text is the model name, so names with @ still work).
 */
export function compareModels() {
  const profiles = profilesOverview?.profiles || [];
  const list = $('compare-models').value.split(/[,，\n]/).map((m) => m.trim()).filter(Boolean).map((entry) => {
    const at = entry.lastIndexOf('@');
    const named = at > 0 ? profiles.find((p) => p.name === entry.slice(at + 1).trim()) : null;
    return named ? { model: entry.slice(0, at).trim(), profileId: named.id } : { model: entry, profileId: null };
  });
  const tooMany = list.length > MAX_COMPARE;
  markInvalid('compare-models', tooMany);
  if (tooMany) showError(t('convSettings.compareTooMany'));
  else if ($('conv-settings-error').textContent === t('convSettings.compareTooMany')) showError(null);
  return list.slice(0, MAX_COMPARE);
}

/** Disables (with the reason) the parameters the chosen endpoint does not take. */
function markRefused() {
  markEndpoint(specs, PREFIX, $('endpoint').value || 'chat', $('conv-params-note'), loadedId != null);
}

export function isOpen() { return !$('conv-settings').hidden; }

export function togglePanel(force) {
  const panel = $('conv-settings');
  const open = force ?? panel.hidden;
  panel.hidden = !open;
  $('toggle-conv-settings').setAttribute('aria-expanded', String(open));
  $('toggle-conv-settings').classList.toggle('active', open);
  if (open) {
    if (!modelsTried) {
      modelsTried = true;
      loadModels(profileOf(activeConversation())?.id ?? null).catch(() => { /* user can type the model */ });
    }
    if (state.activeId) $('system-prompt').focus();
  } else {
    saver.flush();
  }
}

/** Fill the panel from the active conversation (or disable it). */
export function loadConversation() {
  const conv = activeConversation();
  saver.flush();
  // Same conversation again (a reload after a reply): the form already holds what the user typed.
  if (conv && conv.id === loadedId) return;
  loadedId = conv ? conv.id : null;
  loadTools(loadedId);
  loadSchema(conv);
  $('system-prompt').value = conv?.systemPrompt ?? '';
  $('conv-model').value = conv?.model ?? '';
  fillInputs(specs, PREFIX, conv);
  $('endpoint').value = conv?.endpoint ?? 'chat';
  $('compare-models').value = (conv && compareByConversation.get(conv.id)) || '';
  $('compare-models').disabled = !conv;
  for (const f of fields()) $(f).disabled = !conv;
  markRefused();
  renderProfilePicker();
  updateModelPlaceholder();
  modelsTried = false;
  $('toggle-conv-settings').disabled = !conv;
  if (!conv && isOpen()) togglePanel(false);
  showError(null);
  setStatus('');
  clearMarks(specs, PREFIX);
}

/** Sets the open conversation's system prompt, as if typed in the panel, and saves it now. */
export function setSystemPrompt(text) {
  if (!loadedId) return Promise.resolve();
  $('system-prompt').value = text;
  schedule(true);
  return flushPending();
}

/** Saves pending edits now; resolves once the last save has landed (a send waits for this). */
export function flushPending() {
  saver.flush();
  return inflight || Promise.resolve();
}

export function updateModelPlaceholder() {
  const model = profileOf(activeConversation())?.defaultModel;
  $('conv-model').setAttribute('placeholder',
    model ? t('convSettings.modelPlaceholder', { model }) : t('convSettings.modelPlaceholderNone'));
}

function markInvalid(id, bad) {
  const el = $(id);
  if (bad) el.setAttribute('aria-invalid', 'true'); else el.removeAttribute('aria-invalid');
}

function showError(msg) {
  const el = $('conv-settings-error');
  el.textContent = msg || '';
  el.hidden = !msg;
}

function setStatus(text) {
  clearTimeout(statusTimer);
  $('conv-save-status').textContent = text;
}

/** Read + validate the form: the settings to save (and the problems shown). A field out of range
 *  keeps its saved value and the others are saved as typed (while one was bad, every other edit
 *  was dropped: a system prompt typed then was lost on a switch and not used by a send). */
function readForm() {
  const { values, errors } = readInputs(specs, PREFIX);
  showError(errors.map((e) => e.message).join(' '));
  const conv = findConversation(loadedId);
  for (const e of errors) values[e.key] = conv?.[e.key] ?? null;
  const model = $('conv-model').value.trim();
  // Parameters with their own editor (tools, response format) are kept as saved.
  const kept = {};
  for (const s of paramSpec()) if (OWN_EDITOR.has(s.kind)) kept[s.key] = conv?.[s.key] ?? null;
  return { ...kept, systemPrompt: $('system-prompt').value, model: model || null, endpoint: $('endpoint').value, ...values };
}

function schedule(now) {
  if (!loadedId) return;
  const settings = readForm();
  if (!settings) { saver.cancel(); return; }
  saver.run(loadedId, settings);
  if (now) saver.flush();
}

/** The saved fields of a conversation or a form, in one order, for "did anything change?". */
function comparable(x) {
  const out = { systemPrompt: x.systemPrompt ?? '', model: x.model ?? null, endpoint: x.endpoint ?? 'chat' };
  for (const s of specs) {
    const v = x[s.key] ?? null;
    out[s.key] = Array.isArray(v) && !v.length ? null : v;
  }
  return out;
}

async function save(id, settings) {
  const conv = findConversation(id);
  if (conv && JSON.stringify(comparable(conv)) === JSON.stringify(comparable(settings))) return;
  if (id === loadedId) setStatus(t('convSettings.saving'));
  try {
    const updated = await api.updateConversation(id, settings);
    upsertConversation(updated);
    emit('conversation-updated', updated);
    if (id === loadedId) {
      setStatus(t('convSettings.saved'));
      statusTimer = setTimeout(() => setStatus(''), 2000);
    }
  } catch (err) {
    if (id === loadedId) { setStatus(''); showError(errorText(err)); }
  }
}
