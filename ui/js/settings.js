// Settings dialog: connection (base URL, default model), API key, language.
import { api } from './api.js';
import { errorText } from './dom.js';
import { t, getLang, setLang } from './i18n.js';
import { loadModels } from './models.js';
import { state, emit } from './state.js';

const $ = (id) => document.getElementById(id);
let appInfo = null;

export function initSettings() {
  const dialog = $('settings-dialog');
  $('open-settings').addEventListener('click', () => openSettings());
  $('close-settings').addEventListener('click', () => dialog.close());
  // Click on the backdrop closes the dialog.
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    $('api-key').value = '';
    document.getElementById('composer')?.focus();
  });
  $('save-settings').addEventListener('click', () => saveConnection());
  for (const id of ['base-url', 'default-model']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); saveConnection(); }
    });
  }
  $('load-models').addEventListener('click', () => onLoadModels());
  $('save-key').addEventListener('click', () => saveKey());
  $('api-key').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); saveKey(); }
  });
  $('clear-key').addEventListener('click', () => clearKey());
  $('language').value = getLang();
  $('language').addEventListener('change', (e) => setLang(e.target.value));
  relabelSettings();
}

export function setAppInfo(info) {
  appInfo = info;
  renderAbout();
}

function renderAbout() {
  $('about').textContent = appInfo ? t('settings.about', { version: appInfo.version, dir: appInfo.dataDir }) : '';
}

export function isSettingsOpen() { return $('settings-dialog').open; }

export async function openSettings() {
  const dialog = $('settings-dialog');
  for (const id of ['models-status', 'settings-status', 'key-message']) setMsg(id, '');
  $('language').value = getLang();
  if (state.profile) fillProfile(state.profile, true);
  if (!dialog.open) dialog.showModal();
  try {
    applyProfile(await api.getProfile(), true);
  } catch (err) {
    setMsg('settings-status', errorText(err), true);
  }
}

function setMsg(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error-text', !!(text && isError));
}

function applyProfile(profile, fillInputs) {
  state.profile = profile;
  fillProfile(profile, fillInputs);
  emit('profile-changed', profile);
}

/** Show profile state; fillInputs also overwrites the base URL / model inputs. */
function fillProfile(p, fillInputs) {
  if (fillInputs) {
    $('base-url').value = p.baseUrl ?? '';
    $('default-model').value = p.defaultModel ?? '';
  }
  $('effective-url').textContent = p.effectiveBaseUrl ? t('settings.effective', { url: p.effectiveBaseUrl }) : '';
  const warn = $('base-url-warning');
  warn.textContent = p.baseUrlWarning || '';
  warn.hidden = !p.baseUrlWarning;
  renderKeyStatus(p);
}

function renderKeyStatus(p) {
  const source = p.keySource || (p.hasKey ? 'keyring' : 'none');
  const keyStatus = $('key-status');
  keyStatus.dataset.source = source;
  keyStatus.textContent = source === 'keyring' ? t('settings.keyKeyring')
    : source === 'env' ? t('settings.keyEnv') : t('settings.keyNone');
  // A stored key belongs to the server it was saved for; it is never sent to another one.
  if (p.keyHeldFor) keyStatus.textContent += ' ' + t('settings.keyHeldFor', { origin: p.keyHeldFor });
  $('save-key').textContent = source === 'keyring' ? t('settings.replaceKey') : t('settings.saveKey');
  $('clear-key').disabled = source !== 'keyring' && !p.keyHeldFor;
  if (p.keyringError) {
    keyStatus.textContent += ' ' + errorText({ kind: 'keyring', message: p.keyringError });
    keyStatus.classList.add('error');
  } else {
    keyStatus.classList.remove('error');
  }
}

async function saveConnection() {
  const btn = $('save-settings');
  btn.disabled = true;
  setMsg('settings-status', '');
  try {
    const profile = await api.updateProfile({
      baseUrl: $('base-url').value.trim(),
      defaultModel: $('default-model').value.trim(),
    });
    applyProfile(profile, true);
    setMsg('settings-status', t('settings.saved'));
  } catch (err) {
    setMsg('settings-status', errorText(err), true);
  } finally {
    btn.disabled = false;
  }
}

/** Saves the base URL field if it differs from the profile (the key and the model list follow it). */
async function saveBaseUrlIfChanged() {
  const baseUrl = $('base-url').value.trim();
  if (baseUrl === (state.profile?.baseUrl || '')) return;
  applyProfile(await api.updateProfile({ baseUrl, defaultModel: $('default-model').value.trim() }), false);
}

async function onLoadModels() {
  const btn = $('load-models');
  btn.disabled = true;
  setMsg('models-status', t('settings.loadingModels'));
  try {
    // List the models of the server typed in the field, not of the one saved before.
    await saveBaseUrlIfChanged();
    const models = await loadModels();
    setMsg('models-status', models.length ? t('settings.modelsLoaded', { count: models.length }) : t('settings.noModels'));
  } catch (err) {
    setMsg('models-status', errorText(err), true);
  } finally {
    btn.disabled = false;
  }
}

async function saveKey() {
  const input = $('api-key');
  const key = input.value.trim();
  if (!key) { setMsg('key-message', t('settings.keyEmpty'), true); input.focus(); return; }
  $('save-key').disabled = true;
  setMsg('key-message', '');
  try {
    // The key is bound to the server it is saved for: save a changed base URL first.
    await saveBaseUrlIfChanged();
    applyProfile(await api.setApiKey(key), false);
    input.value = '';
    setMsg('key-message', t('settings.keySaved'));
  } catch (err) {
    setMsg('key-message', errorText(err), true);
  } finally {
    $('save-key').disabled = false;
  }
}

async function clearKey() {
  if (!window.confirm(t('settings.confirmClear'))) return;
  setMsg('key-message', '');
  try {
    applyProfile(await api.clearApiKey(), false);
    setMsg('key-message', t('settings.keyCleared'));
  } catch (err) {
    setMsg('key-message', errorText(err), true);
  }
}

/** Re-translate dynamic text after a language switch. */
export function relabelSettings() {
  $('language').value = getLang();
  if (state.profile) fillProfile(state.profile, false);
  else $('save-key').textContent = t('settings.saveKey');
  renderAbout();
}
