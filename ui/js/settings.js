// Settings dialog: provider profiles (list, add, edit, remove, default, local servers), the selected
// profile's connection / key / proxy / timeouts / default parameters, the app-wide proxy, language.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { t, getLang, setLang } from './i18n.js';
import { loadModels } from './models.js';
import { buildInputs, fillInputs as fillParamInputs, readInputs } from './params.js';
import { state, emit, on, activeConversation } from './state.js';

const $ = (id) => document.getElementById(id);
let appInfo = null;
/** {profiles, defaultId, appProxy} from list_profiles */
let overview = null;
/** id of the profile shown in the form */
let selectedId = null;
/** a profile being added: {name, kind}; saved on Save (or before its key is saved) */
let draft = null;
/** the form as last filled / saved, to tell whether it changed */
let savedForm = '';
/** Profile operations run one after another (a key saved right after Save goes to the new profile). */
let queue = Promise.resolve();
function serial(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

/** The profile defaults' input id prefix (pd-temperature…); the inputs come from the back end's table. */
const PREFIX = 'pd-';
let defaultSpecs = [];
/** Resolves once the default parameters' inputs exist. */
export let inputsReady = Promise.resolve();

export function initSettings() {
  inputsReady = buildInputs($('pd-params'), PREFIX, { profileOnly: true })
    .then((built) => { defaultSpecs = built; })
    .catch((err) => setMsg('profiles-status', errorText(err), true));
  const dialog = $('settings-dialog');
  $('open-settings').addEventListener('click', () => openSettings());
  $('close-settings').addEventListener('click', () => dialog.close());
  // Click on the backdrop closes the dialog.
  dialog.addEventListener('click', (e) => { if (e.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    $('api-key').value = '';
    document.getElementById('composer')?.focus();
  });
  $('save-settings').addEventListener('click', () => serial(saveConnection));
  for (const id of ['base-url', 'default-model', 'azure-deployment', 'api-version']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); serial(saveConnection); }
    });
  }
  $('profile-kind').addEventListener('change', () => showKindFields($('profile-kind').value));
  $('profile-proxy-mode').addEventListener('change', () => showProxyUrl());
  $('app-proxy-mode').addEventListener('change', () => showProxyUrl());
  $('load-models').addEventListener('click', () => serial(onLoadModels));
  $('save-key').addEventListener('click', () => serial(saveKey));
  $('api-key').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); serial(saveKey); }
  });
  $('clear-key').addEventListener('click', () => serial(clearKey));
  $('confirm-key').addEventListener('click', () => serial(confirmKey));
  // "Check the key in Settings" and the like: the settings of the open conversation's profile.
  on('open-settings', () => openSettings(activeConversation()?.profileId ?? null));
  // A backup was put in place: its profiles replace the ones shown (Save would have written the
  // form of before the restore over them).
  on('database-restored', async () => {
    try {
      await refreshProfiles();
      const def = overview.profiles.find((p) => p.isDefault) || overview.profiles[0];
      draft = null;
      if (def) { selectedId = def.id; renderProfileList(); fillProfile(def, true); }
    } catch (err) {
      setMsg('connection-message', errorText(err), true);
    }
  });
  $('add-profile').addEventListener('click', () => serial(startDraft));
  $('new-profile-name').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); serial(startDraft); }
  });
  $('find-local').addEventListener('click', () => serial(findLocal));
  $('save-app-proxy').addEventListener('click', () => serial(saveAppProxy));
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

export async function openSettings(profileId = null) {
  const dialog = $('settings-dialog');
  for (const id of ['models-status', 'settings-status', 'key-message', 'profiles-status', 'app-proxy-status']) setMsg(id, '');
  $('local-servers').replaceChildren();
  $('language').value = getLang();
  draft = null;
  if (state.profile && selectedId == null) fillProfile(state.profile, true);
  if (!dialog.open) dialog.showModal();
  try {
    await refreshProfiles();
    if (profileId != null) selectedId = profileId;
    const keep = overview.profiles.find((p) => p.id === selectedId);
    selectProfile(keep ? keep.id : overview.defaultId);
  } catch (err) {
    setMsg('settings-status', errorText(err), true);
  }
}

function setMsg(id, text, isError = false) {
  const el = $(id);
  el.textContent = text;
  el.classList.toggle('error-text', !!(text && isError));
}

function selectedView() {
  return overview?.profiles.find((p) => p.id === selectedId) || null;
}

/** Reloads the profile list; tells the rest of the app about the default profile. */
async function refreshProfiles() {
  overview = await api.listProfiles();
  renderProfileList();
  fillAppProxy(overview.appProxy, overview.proxyLocal);
  const def = overview.profiles.find((p) => p.isDefault);
  if (def) {
    state.profile = def;
    emit('profile-changed', def);
  }
  emit('profiles-changed', overview);
}

/** Puts a fresh view of one profile into the list (after a save or a key change). */
async function applyView(view, fillInputs) {
  await refreshProfiles();
  selectedId = view.id;
  renderProfileList();
  fillProfile(selectedView() || view, fillInputs);
}

function renderProfileList() {
  const list = $('profile-list');
  if (!overview) { list.replaceChildren(); return; }
  list.replaceChildren(...overview.profiles.map((p) => {
    const kind = t(`profiles.kind${p.kind === 'openai' ? 'Openai' : p.kind === 'azure' ? 'Azure' : 'Compatible'}`);
    const info = [kind, p.hasKey ? t('profiles.hasKey') : t('profiles.noKey')];
    if (p.isDefault) info.unshift(t('profiles.isDefault'));
    return h('li', { className: `profile-item${p.id === selectedId && !draft ? ' selected' : ''}`, dataset: { profileId: p.id, name: p.name } },
      h('span', { className: 'profile-name', text: p.name }),
      h('span', { className: 'profile-info hint', text: info.join(' · ') }),
      h('span', { className: 'profile-actions' },
        h('button', { className: 'btn btn-ghost profile-edit', text: t('profiles.edit'), attrs: { type: 'button' }, on: { click: () => serial(() => selectProfile(p.id)) } }),
        p.isDefault ? null : h('button', { className: 'btn btn-ghost profile-default', text: t('profiles.makeDefault'), attrs: { type: 'button' }, on: { click: () => serial(() => makeDefault(p.id)) } }),
        h('button', { className: 'btn btn-ghost btn-danger profile-remove', text: t('profiles.remove'), attrs: { type: 'button', disabled: p.isDefault && overview.profiles.length > 1 }, on: { click: () => serial(() => removeProfile(p)) } })));
  }));
}

function selectProfile(id) {
  draft = null;
  selectedId = id;
  for (const msg of ['models-status', 'settings-status', 'key-message']) setMsg(msg, '');
  renderProfileList();
  const view = selectedView();
  if (view) fillProfile(view, true);
}

function showKindFields(kind) {
  $('azure-fields').hidden = kind !== 'azure';
  $('base-url-label').textContent = kind === 'azure' ? t('profiles.resourceUrl') : t('settings.baseUrl');
  $('base-url').placeholder = kind === 'azure' ? 'https://NAME.openai.azure.com'
    : kind === 'compatible' ? 'http://127.0.0.1:11434/v1' : 'https://api.openai.com/v1';
  $('load-models').hidden = kind === 'azure';
}

function showProxyUrl() {
  $('profile-proxy-url').disabled = $('profile-proxy-mode').value !== 'custom';
  $('app-proxy-url').disabled = $('app-proxy-mode').value !== 'custom';
}

function fillAppProxy(proxy, proxyLocal) {
  $('app-proxy-local').checked = !!proxyLocal;
  $('app-proxy-mode').value = proxy?.mode || 'system';
  $('app-proxy-url').value = proxy?.mode === 'custom' ? proxy.url || '' : '';
  showProxyUrl();
}

const secs = (ms) => (ms == null ? '' : String(ms / 1000));

/** Show a profile; fillInputs also overwrites the editable fields. */
function fillProfile(p, fillInputs) {
  $('editing-profile').textContent = draft ? t('profiles.newDraft', { name: draft.name })
    : t('profiles.editing', { name: p.name });
  if (fillInputs) {
    $('profile-kind').value = p.kind || 'openai';
    $('base-url').value = p.baseUrl ?? '';
    $('default-model').value = p.defaultModel ?? '';
    $('azure-deployment').value = p.azureDeployment ?? '';
    $('api-version').value = p.apiVersion ?? '';
    $('profile-proxy-mode').value = p.proxy ? p.proxy.mode : 'app';
    $('profile-proxy-url').value = p.proxy?.mode === 'custom' ? p.proxy.url || '' : '';
    $('profile-proxy-local').value = p.proxyLocal == null ? 'app' : p.proxyLocal ? 'yes' : 'no';
    $('connect-timeout').value = secs(p.connectTimeoutMs);
    $('idle-timeout').value = secs(p.idleTimeoutMs);
    fillParamInputs(defaultSpecs, PREFIX, p.defaults || {});
    showKindFields($('profile-kind').value);
    showProxyUrl();
    try { savedForm = JSON.stringify(readForm()); } catch { savedForm = ''; }
  }
  $('effective-url').textContent = p.effectiveBaseUrl && !draft ? t('settings.effective', { url: p.effectiveBaseUrl }) : '';
  const warn = $('base-url-warning');
  warn.textContent = (!draft && p.baseUrlWarning) || '';
  warn.hidden = !warn.textContent;
  renderKeyStatus(p);
}

function renderKeyStatus(p) {
  const source = draft ? 'none' : (p.keySource || (p.hasKey ? 'keyring' : 'none'));
  const keyStatus = $('key-status');
  keyStatus.dataset.source = source;
  keyStatus.textContent = source === 'keyring' ? t('settings.keyKeyring')
    : source === 'env' ? t('settings.keyEnv') : t('settings.keyNone');
  // A stored key belongs to the server it was saved for; it is never sent to another one.
  if (p.keyHeldFor && !draft) keyStatus.textContent += ' ' + t('settings.keyHeldFor', { origin: p.keyHeldFor });
  if (p.keyUnbound && !draft) keyStatus.textContent += ' ' + t('settings.keyUnbound');
  // The user may send the stored key here on purpose (it is then bound to this server only).
  const confirm = $('confirm-key');
  confirm.hidden = !!draft || !(p.keyHeldFor || p.keyUnbound) || !p.origin;
  confirm.textContent = t('settings.confirmKey', { origin: p.origin || '' });
  $('save-key').textContent = source === 'keyring' ? t('settings.replaceKey') : t('settings.saveKey');
  $('clear-key').disabled = draft != null || (source !== 'keyring' && !p.keyHeldFor);
  if (p.keyringError && !draft) {
    keyStatus.textContent += ' ' + errorText({ kind: 'keyring', message: p.keyringError });
    keyStatus.classList.add('error');
  } else {
    keyStatus.classList.remove('error');
  }
}

function invalid(message) { return { kind: 'invalid', message }; }

function number(id, label, { min, max, int, scale = 1 }) {
  const el = $(id);
  const raw = el.value.trim();
  if (!raw && !el.validity.badInput) return null;
  const n = Number(raw);
  if (el.validity.badInput || !Number.isFinite(n) || (int && !Number.isInteger(n)) || n < min || n > max) {
    throw invalid(t('profiles.badNumber', { name: t(label) }));
  }
  return scale === 1 ? n : Math.round(n * scale);
}

/** The form as a profile update (throws {kind: 'invalid'} on a bad number). */
function readForm() {
  const mode = $('profile-proxy-mode').value;
  const proxy = mode === 'app' ? null
    : mode === 'custom' ? { mode, url: $('profile-proxy-url').value.trim() } : { mode };
  const { values: defaults, errors } = readInputs(defaultSpecs, PREFIX);
  if (errors.length) throw invalid(errors[0].message);
  return {
    kind: $('profile-kind').value,
    baseUrl: $('base-url').value.trim(),
    defaultModel: $('default-model').value.trim(),
    azureDeployment: $('azure-deployment').value.trim(),
    apiVersion: $('api-version').value.trim(),
    proxy,
    proxyLocal: { yes: true, no: false }[$('profile-proxy-local').value] ?? null,
    connectTimeoutMs: number('connect-timeout', 'profiles.connectTimeout', { min: 0.1, max: 3600, int: false, scale: 1000 }),
    idleTimeoutMs: number('idle-timeout', 'profiles.idleTimeout', { min: 0.1, max: 3600, int: false, scale: 1000 }),
    defaults,
  };
}

/** Saves the form: creates the draft profile, or updates the selected one. Returns the view. */
async function saveForm() {
  const update = readForm();
  let view;
  if (draft) {
    view = await api.createProfile({ ...update, name: draft.name });
    draft = null;
    selectedId = view.id;
    setMsg('profiles-status', t('profiles.created'));
  } else {
    view = await api.updateProfile(update, selectedId);
  }
  await applyView(view, true);
  return view;
}

async function saveConnection() {
  const btn = $('save-settings');
  btn.disabled = true;
  setMsg('settings-status', '');
  try {
    await saveForm();
    setMsg('settings-status', t('settings.saved'));
  } catch (err) {
    setMsg('settings-status', errorText(err), true);
  } finally {
    btn.disabled = false;
  }
}

/** Saves the form first if it changed (the key and the model list follow the server typed in). */
async function saveIfChanged() {
  if (draft || JSON.stringify(readForm()) !== savedForm) await saveForm();
}

async function onLoadModels() {
  const btn = $('load-models');
  btn.disabled = true;
  setMsg('models-status', t('settings.loadingModels'));
  try {
    await saveIfChanged();
    const models = await loadModels(selectedId);
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
    // The key is bound to the server it is saved for: save a changed form first.
    await saveIfChanged();
    await applyView(await api.setApiKey(key, selectedId), false);
    input.value = '';
    setMsg('key-message', t('settings.keySaved'));
  } catch (err) {
    setMsg('key-message', errorText(err), true);
  } finally {
    $('save-key').disabled = false;
  }
}

async function confirmKey() {
  setMsg('key-message', '');
  try {
    await applyView(await api.confirmApiKey(selectedId), false);
    setMsg('key-message', t('settings.keyConfirmed'));
  } catch (err) {
    setMsg('key-message', errorText(err), true);
  }
}

async function clearKey() {
  if (!window.confirm(t('settings.confirmClear'))) return;
  setMsg('key-message', '');
  try {
    await applyView(await api.clearApiKey(selectedId), false);
    setMsg('key-message', t('settings.keyCleared'));
  } catch (err) {
    setMsg('key-message', errorText(err), true);
  }
}

function startDraft() {
  const name = $('new-profile-name').value.trim();
  if (!name) { setMsg('profiles-status', t('profiles.nameNeeded'), true); $('new-profile-name').focus(); return; }
  setMsg('profiles-status', '');
  const kind = $('new-profile-kind').value;
  draft = { name, kind };
  $('new-profile-name').value = '';
  renderProfileList();
  fillProfile({ name, kind, defaults: {} }, true);
  $('base-url').focus();
}

async function removeProfile(p) {
  if (!window.confirm(t('profiles.confirmRemove', { name: p.name }))) return;
  setMsg('profiles-status', '');
  try {
    await api.deleteProfile(p.id);
    await refreshProfiles();
    setMsg('profiles-status', t('profiles.removed'));
    if (p.id === selectedId || !selectedView()) selectProfile(overview.defaultId);
  } catch (err) {
    setMsg('profiles-status', errorText(err), true);
  }
}

async function makeDefault(id) {
  try {
    await api.setDefaultProfile(id);
    await refreshProfiles();
    renderProfileList();
  } catch (err) {
    setMsg('profiles-status', errorText(err), true);
  }
}

/** A name not taken yet: "Ollama", "Ollama 2", … */
function freeName(base) {
  const taken = new Set((overview?.profiles || []).map((p) => p.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
}

async function findLocal() {
  const btn = $('find-local');
  btn.disabled = true;
  setMsg('profiles-status', t('profiles.searching'));
  $('local-servers').replaceChildren();
  try {
    const servers = await api.findLocalServers();
    setMsg('profiles-status', servers.length ? t('profiles.found', { count: servers.length }) : t('profiles.foundNone'));
    $('local-servers').replaceChildren(...servers.map((s) => h('li', { className: 'local-server', dataset: { baseUrl: s.baseUrl } },
      h('span', { className: 'profile-name', text: s.name }),
      h('span', { className: 'profile-info hint', text: `${s.baseUrl} · ${t('profiles.localModels', { count: s.models.length })}` }),
      h('button', { className: 'btn btn-secondary local-add', text: t('profiles.addLocal'), attrs: { type: 'button' }, on: { click: (e) => { const b = e.currentTarget; serial(() => addLocal(s, b)); } } }))));
  } catch (err) {
    setMsg('profiles-status', errorText(err), true);
  } finally {
    btn.disabled = false;
  }
}

async function addLocal(server, button) {
  button.disabled = true;
  try {
    const view = await api.createProfile({
      name: freeName(server.name), kind: 'compatible', baseUrl: server.baseUrl,
      defaultModel: server.models[0] || null,
    });
    draft = null;
    // Usable at once: the default when no other profile has a key (the open chat follows it).
    if (!overview.profiles.some((p) => p.id !== view.id && p.hasKey)) {
      await refreshProfilesFrom(await api.setDefaultProfile(view.id));
      const def = overview.profiles.find((p) => p.id === view.id);
      if (def) { state.profile = def; emit('profile-changed', def); }
    }
    await applyView(view, true);
    setMsg('profiles-status', t('profiles.created'));
  } catch (err) {
    button.disabled = false;
    setMsg('profiles-status', errorText(err), true);
  }
}

async function saveAppProxy() {
  const mode = $('app-proxy-mode').value;
  const proxy = mode === 'custom' ? { mode, url: $('app-proxy-url').value.trim() } : { mode };
  setMsg('app-proxy-status', '');
  try {
    await refreshProfilesFrom(await api.setAppProxy(proxy, $('app-proxy-local').checked));
    setMsg('app-proxy-status', t('settings.saved'));
  } catch (err) {
    setMsg('app-proxy-status', errorText(err), true);
  }
}

async function refreshProfilesFrom(next) {
  overview = next;
  renderProfileList();
  fillAppProxy(overview.appProxy, overview.proxyLocal);
  emit('profiles-changed', overview);
}

/** Re-translate dynamic text after a language switch. */
export function relabelSettings() {
  $('language').value = getLang();
  renderProfileList();
  const view = draft ? { name: draft.name, kind: draft.kind, defaults: {} } : (selectedView() || state.profile);
  if (view) {
    fillProfile(view, false);
    showKindFields($('profile-kind').value);
  } else {
    $('save-key').textContent = t('settings.saveKey');
  }
  renderAbout();
}
