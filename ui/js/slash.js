// "/" in the composer: the saved prompt library, filtered as you type, keyboard only. Enter
// inserts; a prompt with variables first asks for them in a small form.
import { api } from './api.js';
import { errorText, h } from './dom.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
let items = [];
let index = 0;
let open = false;
let seq = 0;
/** The version the composer text came from (sent with the message), or null. */
let pending = null;

export function pendingPromptVersion() { return pending; }
export function clearPendingPrompt() { pending = null; }

/** The "/query" the composer holds, if it is one: a slash at the start, one word. */
function query() {
  const m = /^\/(\S*)$/.exec($('composer').value);
  return m ? m[1] : null;
}

export function initSlash(onInserted) {
  const composer = $('composer');
  composer.addEventListener('input', () => {
    // The inserted prompt's text is gone: what is sent next is not a use of it.
    if (!composer.value.trim()) pending = null;
    const q = query();
    if (q == null) { close(); return; }
    show(q);
  });
  // Capture at the document: before the composer's own Enter-to-send.
  document.addEventListener('keydown', (e) => {
    // While an input method composes (Chinese, Japanese), its keys pick its own candidates.
    if (!open || e.target !== composer || e.isComposing) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      index = (index + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % Math.max(items.length, 1);
      paint();
    } else if (e.key === 'Enter') {
      // No prompt matches (`/etc`): the menu closes and Enter sends the text as it is.
      if (!items[index]) { close(); return; }
      e.preventDefault();
      e.stopImmediatePropagation();
      choose(items[index], onInserted);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopImmediatePropagation();
      close();
    }
  }, true);
  $('slash-list').addEventListener('mousedown', (e) => {
    const li = e.target.closest('li[data-index]');
    if (!li) return;
    e.preventDefault();
    choose(items[Number(li.dataset.index)], onInserted);
  });
}

async function show(q) {
  const mine = ++seq;
  let list;
  try { list = await api.listPrompts(q, 'uses'); } catch { list = []; }
  if (mine !== seq || query() == null) return;
  items = list.slice(0, 8);
  index = 0;
  open = true;
  $('slash-menu').hidden = false;
  paint();
}

function paint() {
  const ul = $('slash-list');
  if (!items.length) {
    ul.replaceChildren(h('li', { className: 'slash-empty', text: t('slash.none') }));
    return;
  }
  ul.replaceChildren(...items.map((p, i) => h('li', {
    className: i === index ? 'active' : '',
    dataset: { index: i, name: p.name },
    attrs: { role: 'option', 'aria-selected': String(i === index) },
  }, h('span', { className: 'slash-name', text: `/${p.name}` }), h('span', { className: 'slash-title', text: p.latest.title }))));
}

export function close() {
  open = false;
  seq++;
  $('slash-menu').hidden = true;
}

/** Insert a prompt: ask for its variables first (if any), read the clipboard only if it uses it. */
export async function choose(prompt, onInserted) {
  close();
  const vars = prompt.variables?.variables || [];
  const values = vars.length ? await askValues(prompt) : {};
  if (values == null) return;
  let clipboard = null;
  if ((prompt.variables?.builtins || []).includes('clipboard')) {
    try { clipboard = await navigator.clipboard.readText(); } catch { clipboard = null; }
  }
  try {
    const filled = await api.fillPrompt(prompt.name, values, clipboard);
    $('composer').value = filled.text;
    pending = filled.versionId;
    onInserted(prompt);
  } catch (err) {
    onInserted(prompt, errorText(err));
  }
}

/** The variables form: one field per variable, by type, with defaults. Resolves null on cancel. */
function askValues(prompt) {
  const dialog = $('vars-dialog');
  const form = $('vars-fields');
  $('vars-title').textContent = t('vars.title', { name: prompt.name });
  const fields = prompt.variables.variables.map((v) => {
    let input;
    const kind = v.kind.type;
    if (kind === 'longText') input = h('textarea', { attrs: { rows: 3 } });
    else if (kind === 'number') input = h('input', { attrs: { type: 'number', step: 'any' } });
    else if (kind === 'choice') {
      input = h('select', {}, ...v.kind.options.map((o) => h('option', { attrs: { value: o }, text: o })));
    } else input = h('input', { attrs: { type: 'text' } });
    input.dataset.var = v.name;
    input.className = 'var-input';
    if (v.default != null) input.value = v.default;
    return h('label', { className: 'field' }, h('span', { className: 'field-label', text: v.name }), input);
  });
  form.replaceChildren(...fields);
  $('vars-error').hidden = true;
  dialog.showModal();
  form.querySelector('.var-input')?.focus();
  return new Promise((resolve) => {
    const done = (result) => {
      dialog.close();
      $('vars-insert').removeEventListener('click', insert);
      dialog.removeEventListener('cancel', cancel);
      $('vars-cancel').removeEventListener('click', cancel);
      resolve(result);
      $('composer').focus();
    };
    const insert = () => {
      const values = {};
      for (const el of form.querySelectorAll('.var-input')) values[el.dataset.var] = el.value;
      const empty = prompt.variables.variables.filter((v) => v.default == null && !values[v.name]);
      if (empty.length) {
        $('vars-error').textContent = t('vars.missing', { names: empty.map((v) => v.name).join(', ') });
        $('vars-error').hidden = false;
        return;
      }
      done(values);
    };
    const cancel = (e) => { e?.preventDefault(); done(null); };
    $('vars-insert').addEventListener('click', insert);
    $('vars-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);
  });
}
