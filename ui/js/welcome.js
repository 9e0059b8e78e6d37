// First run: instead of an empty chat, a short welcome — OpenAI (paste a key), a server on this
// computer (found by probing Ollama / LM Studio / llama.cpp / vLLM at once) or another URL — then
// the server's models as a list to pick from. Two clicks from first start to typing a message.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { t } from './i18n.js';
import { state, emit } from './state.js';

const $ = (id) => document.getElementById(id);
const SKIPPED = 'parley.welcomeSkipped';
/** The profile the welcome set up (its models are shown), or null while choosing. */
let chosen = null;
let probing = null;
let done = false;
/** A server is being set up: the welcome stays while profiles change under it. */
let working = false;

/** True while nothing is set up: the default profile goes to OpenAI with no key, and no other exists. */
export function needsWelcome(profilesCount = 1) {
  if (done) return false;
  if (chosen || working) return true;
  try { if (localStorage.getItem(SKIPPED) === '1') return false; } catch { /* private mode */ }
  const p = state.profile;
  if (!p || p.keySource !== 'none' || p.keyHeldFor || p.keyUnbound || profilesCount > 1) return false;
  try { return new URL(p.effectiveBaseUrl).hostname === 'api.openai.com'; } catch { return false; }
}

let onDone = () => {};

/** onFinished(): called once a model is picked (or the welcome skipped). */
export function initWelcome(onFinished) {
  onDone = onFinished;
  $('welcome-skip').addEventListener('click', () => {
    try { localStorage.setItem(SKIPPED, '1'); } catch { /* private mode */ }
    finish();
  });
  $('welcome-openai-go').addEventListener('click', () => connectOpenAi());
  $('welcome-key').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); connectOpenAi(); }
  });
  $('welcome-url-go').addEventListener('click', () => connectUrl());
  for (const id of ['welcome-url', 'welcome-url-key']) {
    $(id).addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); connectUrl(); }
    });
  }
  $('welcome-probe').addEventListener('click', () => probe());
  $('welcome-back').addEventListener('click', () => { chosen = null; render(); });
}

/** Shows or hides the welcome; probing starts as soon as it is shown (no click needed). */
export function showWelcome(show) {
  const el = $('welcome');
  el.hidden = !show;
  if (!show) return;
  render();
  if (!probing && !chosen) probe();
}

function render() {
  $('welcome-choose').hidden = !!chosen;
  $('welcome-models').hidden = !chosen;
}

function say(id, text, error = false) {
  const el = $(id);
  el.textContent = text || '';
  el.classList.toggle('error', !!error);
}

async function probe() {
  const list = $('welcome-local-list');
  list.replaceChildren();
  say('welcome-local-status', t('welcome.searching'));
  $('welcome-probe').disabled = true;
  probing = api.findLocalServers();
  try {
    const servers = await probing;
    say('welcome-local-status', servers.length ? '' : t('welcome.noneFound'));
    list.replaceChildren(...servers.map((s) => h('li', {},
      h('button', {
        className: 'welcome-server', attrs: { type: 'button' }, dataset: { baseUrl: s.baseUrl },
        on: { click: (e) => useLocal(s, e.currentTarget) },
      },
      h('span', { className: 'welcome-server-name', text: s.name }),
      h('span', { className: 'hint', text: `${new URL(s.baseUrl).host} · ${t('profiles.localModels', { count: s.models.length })}` })))));
  } catch (err) {
    say('welcome-local-status', errorText(err), true);
  } finally {
    probing = null;
    $('welcome-probe').disabled = false;
  }
}

/** A name no profile has yet. */
async function freeName(base) {
  const taken = new Set((await api.listProfiles()).profiles.map((p) => p.name.toLowerCase()));
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()); i++) name = `${base} ${i}`;
  return name;
}

/** The new profile becomes the default (nothing else has a key), so every open chat follows it. */
async function adopt(view) {
  await api.setDefaultProfile(view.id);
  const fresh = await api.getProfile(view.id);
  state.profile = fresh;
  emit('profile-changed', fresh);
  emit('profiles-changed', await api.listProfiles());
  return fresh;
}

async function useLocal(server, button) {
  button.disabled = true;
  working = true;
  try {
    const view = await api.createProfile({
      name: await freeName(server.name), kind: 'compatible', baseUrl: server.baseUrl,
      // The server's own first model, as it lists them.
      defaultModel: server.models[0] || null,
    });
    await showModels(await adopt(view), server.models);
  } catch (err) {
    button.disabled = false;
    say('welcome-local-status', errorText(err), true);
  } finally {
    working = false;
  }
}

/** The profile an OpenAI key goes to: one of kind OpenAI on OpenAI's own server (the one made at
 *  first start), else a new one. Never the default of the moment: after a server was tried and
 *  Back pressed, that was the tried server, and the key went (and was sent) there. */
async function openAiProfile() {
  const { profiles } = await api.listProfiles();
  const own = profiles.find((p) => p.kind === 'openai' && !p.baseUrl);
  if (own) return own.id;
  return (await api.createProfile({ name: await freeName('OpenAI'), kind: 'openai' })).id;
}

async function connectOpenAi() {
  const key = $('welcome-key').value;
  if (!key.trim()) { say('welcome-openai-status', t('settings.keyEmpty'), true); $('welcome-key').focus(); return; }
  say('welcome-openai-status', t('welcome.connecting'));
  working = true;
  try {
    const view = await api.setApiKey(key, await openAiProfile());
    $('welcome-key').value = '';
    const profile = await adopt(view);
    await showModels(profile, await api.listModels(profile.id));
    say('welcome-openai-status', '');
  } catch (err) {
    say('welcome-openai-status', errorText(err), true);
  } finally {
    working = false;
  }
}

async function connectUrl() {
  const raw = $('welcome-url').value.trim();
  if (!raw) { $('welcome-url').focus(); return; }
  say('welcome-url-status', t('welcome.connecting'));
  let created = null;
  working = true;
  try {
    let host = raw;
    try { host = new URL(raw).host; } catch { /* the back end says what is wrong */ }
    created = await api.createProfile({ name: await freeName(host), kind: 'compatible', baseUrl: raw });
    const key = $('welcome-url-key').value;
    if (key.trim()) created = await api.setApiKey(key, created.id);
    $('welcome-url-key').value = '';
    const models = await api.listModels(created.id);
    await showModels(await adopt(created), models);
    say('welcome-url-status', '');
  } catch (err) {
    // Nothing half-made is left behind.
    if (created) await api.deleteProfile(created.id).catch(() => {});
    say('welcome-url-status', errorText(err), true);
  } finally {
    working = false;
  }
}

async function showModels(profile, models) {
  chosen = profile;
  render();
  $('welcome-models-title').textContent = t('welcome.pickModel', { server: profile.name });
  const list = $('welcome-model-list');
  const preferred = profile.defaultModel || models[0];
  list.replaceChildren(...models.map((m) => h('li', {},
    h('button', {
      className: `welcome-model${m === preferred ? ' is-suggested' : ''}`,
      attrs: { type: 'button' }, dataset: { model: m }, text: m,
      on: { click: () => pickModel(m) },
    }))));
  say('welcome-models-status', models.length ? '' : t('welcome.noModels'));
  (list.querySelector('.is-suggested') || list.querySelector('button'))?.focus();
}

async function pickModel(model) {
  const p = chosen;
  try {
    const view = await api.updateProfile({
      kind: p.kind, baseUrl: p.baseUrl, defaultModel: model, azureDeployment: p.azureDeployment,
      apiVersion: p.apiVersion, proxy: p.proxy, proxyLocal: p.proxyLocal ?? null, connectTimeoutMs: p.connectTimeoutMs,
      idleTimeoutMs: p.idleTimeoutMs, defaults: p.defaults || {},
    }, p.id);
    state.profile = { ...view, isDefault: true };
    emit('profile-changed', state.profile);
    emit('profiles-changed', await api.listProfiles());
    finish();
  } catch (err) {
    say('welcome-models-status', errorText(err), true);
  }
}

function finish() {
  done = true;
  chosen = null;
  $('welcome').hidden = true;
  onDone();
}
