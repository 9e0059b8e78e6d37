// Per-conversation settings panel: system prompt, model, temperature, max tokens.
import { api } from './api.js';
import { debounce, errorText } from './dom.js';
import { t } from './i18n.js';
import { loadModels } from './models.js';
import { state, upsertConversation, emit, on, activeConversation } from './state.js';

const $ = (id) => document.getElementById(id);
const FIELDS = ['system-prompt', 'conv-model', 'temperature', 'max-tokens'];
let modelsTried = false;
let loadedId = null;
let statusTimer = 0;

let inflight = null; // the last save, so a send can wait for it
const saver = debounce((id, settings) => { inflight = save(id, settings); return inflight; }, 600);

export function initConvSettings() {
  // Another server, other models: list them again next time the panel opens.
  on('profile-changed', () => { modelsTried = false; });
  $('toggle-conv-settings').addEventListener('click', () => togglePanel());
  for (const f of FIELDS) {
    const el = $(f);
    el.addEventListener('input', () => schedule(false));
    el.addEventListener('change', () => schedule(true));
  }
  updateModelPlaceholder();
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
      loadModels().catch(() => { /* user can type the model */ });
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
  loadedId = conv ? conv.id : null;
  $('system-prompt').value = conv?.systemPrompt ?? '';
  $('conv-model').value = conv?.model ?? '';
  $('temperature').value = conv?.temperature ?? '';
  $('max-tokens').value = conv?.maxTokens ?? '';
  for (const f of FIELDS) $(f).disabled = !conv;
  $('toggle-conv-settings').disabled = !conv;
  if (!conv && isOpen()) togglePanel(false);
  showError(null);
  setStatus('');
  markInvalid('temperature', false);
  markInvalid('max-tokens', false);
}

/** Saves pending edits now; resolves once the last save has landed (a send waits for this). */
export function flushPending() {
  saver.flush();
  return inflight || Promise.resolve();
}

export function updateModelPlaceholder() {
  const model = state.profile?.defaultModel;
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

/** Read + validate the form. Returns settings or null (and shows the problem). */
function readForm() {
  const tempRaw = $('temperature').value.trim();
  const maxRaw = $('max-tokens').value.trim();
  const tempBad = $('temperature').validity.badInput;
  const maxBad = $('max-tokens').validity.badInput;
  let temperature = null;
  let maxTokens = null;
  const errors = [];
  if (tempRaw || tempBad) {
    temperature = Number(tempRaw);
    const bad = tempBad || !tempRaw || !Number.isFinite(temperature) || temperature < 0 || temperature > 2;
    markInvalid('temperature', bad);
    if (bad) errors.push(t('convSettings.tempRange'));
  } else markInvalid('temperature', false);
  if (maxRaw || maxBad) {
    maxTokens = Number(maxRaw);
    const bad = maxBad || !maxRaw || !Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > 1000000;
    markInvalid('max-tokens', bad);
    if (bad) errors.push(t('convSettings.maxTokensRange'));
  } else markInvalid('max-tokens', false);
  showError(errors.join(' '));
  if (errors.length) return null;
  const model = $('conv-model').value.trim();
  return { systemPrompt: $('system-prompt').value, model: model || null, temperature, maxTokens };
}

function schedule(now) {
  if (!loadedId) return;
  const settings = readForm();
  if (!settings) { saver.cancel(); return; }
  saver.run(loadedId, settings);
  if (now) saver.flush();
}

async function save(id, settings) {
  const conv = state.conversations.find((c) => c.id === id);
  if (conv && conv.systemPrompt === settings.systemPrompt && (conv.model ?? null) === settings.model
      && (conv.temperature ?? null) === settings.temperature && (conv.maxTokens ?? null) === settings.maxTokens) {
    return;
  }
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
