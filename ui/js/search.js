// Search (Ctrl+K, or the box in the sidebar): every message of every conversation, as you type,
// with filters; Enter or a click opens the conversation at that message, in its branch.
// Hit text is untrusted: it reaches the DOM only as text nodes (matches in <mark> elements).
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { onLangChange, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
/** Wait this long after the last key before searching (ms). */
const DEBOUNCE_MS = 60;
const LIMIT = 50;

let hooks = { open: () => {}, profiles: () => [] };
let hits = [];
let selected = -1;
let seq = 0;
let timer = 0;

export function initSearch(opts) {
  hooks = { ...hooks, ...opts };
  const side = $('sidebar-search');
  side.addEventListener('click', () => openSearch(side.value));
  side.addEventListener('input', () => openSearch(side.value));
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing) return;
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      openSearch();
    }
  });
  const input = $('search-input');
  input.addEventListener('input', schedule);
  input.addEventListener('keydown', onKey);
  for (const id of ['search-model', 'search-profile', 'search-folder', 'search-tag', 'search-rated',
    'search-arena', 'search-since', 'search-until']) $(id).addEventListener('change', () => run());
  $('close-search').addEventListener('click', () => $('search-dialog').close());
  // Counts and labels in the new language.
  onLangChange(() => { if (isSearchOpen()) run(); });
  $('search-results').addEventListener('click', (e) => {
    const li = e.target.closest('li.search-hit');
    if (li) choose(Number(li.dataset.index));
  });
}

export function isSearchOpen() { return $('search-dialog').open; }

/** Opens the dialog (with `text` in the box when given) and searches. */
export function openSearch(text) {
  const dialog = $('search-dialog');
  const input = $('search-input');
  const side = $('sidebar-search');
  if (typeof text === 'string' && text) input.value = text;
  side.value = '';
  if (!dialog.open) {
    dialog.showModal();
    loadFacets();
  }
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  run();
}

function option(value, label) {
  return h('option', { attrs: { value: String(value) }, text: label });
}

function refill(select, options) {
  const keep = select.value;
  const first = select.options[0];
  select.replaceChildren(first, ...options);
  if ([...select.options].some((o) => o.value === keep)) select.value = keep;
}

async function loadFacets() {
  try {
    const f = await api.searchFacets();
    refill($('search-model'), (f.models || []).map((m) => option(m, m)));
    refill($('search-tag'), (f.tags || []).map((tag) => option(tag.id, tag.name)));
    // Subfolders under their parent, indented.
    const kids = new Map();
    for (const folder of f.folders || []) {
      const k = folder.parentId ?? 0;
      if (!kids.has(k)) kids.set(k, []);
      kids.get(k).push(folder);
    }
    const folders = [];
    const walk = (parent, depth) => {
      for (const folder of kids.get(parent) || []) {
        if (depth > 8) return;
        folders.push(option(folder.id, `${'  '.repeat(depth)}${folder.name}`));
        walk(folder.id, depth + 1);
      }
    };
    walk(0, 0);
    refill($('search-folder'), folders);
  } catch {
    // The filters stay as they were; searching still works.
  }
  refill($('search-profile'), (hooks.profiles() || []).map((p) => option(p.id, p.name)));
}

// A date field's day in local time: its first millisecond, or (end) its last one: the next day's
// local midnight less 1 ms, so a day of 23 or 25 hours (a clock change) is counted whole.
export function dayStart(value, end) {
  if (!value) return null;
  const d = new Date(`${value}T00:00:00`);
  if (Number.isNaN(d.getTime())) return null;
  if (!end) return d.getTime();
  d.setDate(d.getDate() + 1);
  return d.getTime() - 1;
}

function filter() {
  const num = (id) => ($(id).value ? Number($(id).value) : null);
  const yesNo = (id) => ({ yes: true, no: false }[$(id).value] ?? null);
  return {
    model: $('search-model').value || null,
    profileId: num('search-profile'),
    folderId: num('search-folder'),
    tagId: num('search-tag'),
    rated: yesNo('search-rated'),
    arena: yesNo('search-arena'),
    since: dayStart($('search-since').value, false),
    until: dayStart($('search-until').value, true),
  };
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(run, DEBOUNCE_MS);
}

/** The newest search under way (Enter waits for it: the hits shown may be the query before). */
let running = null;

function run() {
  running = search();
  return running;
}

async function search() {
  clearTimeout(timer);
  timer = 0;
  const query = $('search-input').value;
  const mine = ++seq;
  if (!query.trim()) {
    show([], t('search.hint'));
    return;
  }
  try {
    const found = await api.searchMessages(query, filter(), LIMIT);
    if (mine !== seq) return;
    const n = found.length;
    show(found, n === 0 ? t('search.none')
      : n >= LIMIT ? t('search.countMore', { n }) : n === 1 ? t('search.countOne') : t('search.count', { n }));
  } catch (err) {
    if (mine === seq) show([], errorText(err));
  }
}

function snippetNodes(parts) {
  return (Array.isArray(parts) ? parts : []).map((p) => (p.hit
    ? h('mark', { text: p.text })
    : document.createTextNode(String(p.text ?? ''))));
}

/** One hit: the conversation, when, which model (or you), and the matched text. */
function hitRow(hit, i) {
  const when = new Date(hit.createdAt).toLocaleString();
  const who = hit.role === 'user' ? t('search.you') : (hit.model || t('chat.assistant'));
  return h('li', {
    className: 'search-hit',
    dataset: { index: i, conversationId: hit.conversationId, messageId: hit.messageId },
    attrs: { role: 'option', id: `search-hit-${i}`, 'aria-selected': 'false' },
  },
  h('div', { className: 'search-hit-head' },
    h('span', { className: 'search-hit-title', text: hit.title?.trim() || t('conv.untitled') }),
    hit.archived ? h('span', { className: 'search-archived', text: t('search.archived') }) : null,
    h('span', { className: 'search-hit-meta', text: `${when} · ${who}` })),
  h('div', { className: 'search-hit-snippet', attrs: { dir: 'auto' } }, ...snippetNodes(hit.snippet)));
}

function show(found, status) {
  hits = Array.isArray(found) ? found : [];
  $('search-status').textContent = status;
  $('search-results').replaceChildren(...hits.map(hitRow));
  select(hits.length ? 0 : -1);
}

function select(i) {
  const list = $('search-results');
  list.querySelector('[aria-selected="true"]')?.setAttribute('aria-selected', 'false');
  selected = i;
  const li = i >= 0 ? list.children[i] : null;
  if (li) {
    li.setAttribute('aria-selected', 'true');
    li.scrollIntoView({ block: 'nearest' });
    $('search-input').setAttribute('aria-activedescendant', li.id);
  } else {
    $('search-input').removeAttribute('aria-activedescendant');
  }
}

function onKey(e) {
  if (e.isComposing || e.keyCode === 229) return;
  if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
    e.preventDefault();
    if (!hits.length) return;
    const step = e.key === 'ArrowDown' ? 1 : -1;
    select((selected + step + hits.length) % hits.length);
  } else if (e.key === 'Enter') {
    e.preventDefault();
    // Typed since the hits shown (not searched yet, or still being searched): the newest
    // query's hits are chosen, not the previous one's.
    const pending = timer ? run() : running;
    if (pending) { pending.then(() => { if (pending === running) choose(selected); }); return; }
    choose(selected);
  }
}

function choose(i) {
  const hit = hits[i];
  if (!hit) return;
  $('search-dialog').close();
  hooks.open(hit.conversationId, hit.messageId);
}
