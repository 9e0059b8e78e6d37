// The request parameters' inputs, built from the back end's table (api.paramSpec(): name, key,
// kind, min, max, step, doc, endpoints, profileDefault, choices). No range is written here: the
// conversation panel, the profile defaults and the prompt presets all follow the one table in core's
// params.rs. Kinds with their own editor (tools: tools.js; responseFormat: schema.js) get no input.
import { api } from './api.js';
import { h } from './dom.js';
import { t, onLangChange } from './i18n.js';

let specPromise = null;
/** The table, once loaded (null before). */
let table = null;

/** Loads the table once; resolves to [{name, key, kind, min, max, step, doc, profileDefault}]. */
export function loadSpec() {
  if (!specPromise) {
    specPromise = api.paramSpec().then((s) => { table = s; return s; }, (err) => { specPromise = null; throw err; });
  }
  return specPromise;
}

/** The loaded table (empty until loadSpec resolved). */
export function paramSpec() { return table || []; }

/** Parameters edited in their own editor, not by the generic inputs. */
export const OWN_EDITOR = new Set(['tools', 'responseFormat']);

/** The keys of every parameter (camelCase, as in a conversation's settings). */
export function paramKeys() { return paramSpec().map((s) => s.key); }

/** The input id of a parameter in a form: prefix + the parameter's name in kebab case. */
export function inputId(prefix, spec) { return prefix + spec.name.replace(/_/g, '-'); }

/** Its label: `params.<key>` in i18n.js. */
export function labelKey(spec) { return `params.${spec.key}`; }

/** Lists: one per line; \\n and \\t in a line stand for a line break and a tab. */
const UNESCAPE = { n: '\n', t: '\t', r: '\r', '\\': '\\' };
const ESCAPE = { '\n': 'n', '\t': 't', '\r': 'r', '\\': '\\' };

function listFromText(text) {
  return text.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '')
    .map((l) => l.replace(/\\([ntr\\])/g, (m, c) => UNESCAPE[c]));
}

/** The inverse of listFromText: a stored list survives a round trip through the form. */
function listToText(list) {
  return (list || []).map((s) => s.replace(/[\n\t\r\\]/g, (c) => `\\${ESCAPE[c]}`)).join('\n');
}

const placeholders = [];
function listPlaceholder(spec) { return t('params.listPlaceholder', { max: spec.max }); }
onLangChange(() => { for (const [el, spec] of placeholders) el.setAttribute('placeholder', listPlaceholder(spec)); });

/**
 * Builds one labelled input per parameter into `slot` (ids: prefix + kebab name).
 * opts: {profileOnly: only those a profile can default, placeholder: i18n key for number inputs}.
 * Resolves to the specs shown.
 */
export async function buildInputs(slot, prefix, { profileOnly = false, placeholder = null } = {}) {
  const specs = (await loadSpec()).filter((s) => (!profileOnly || s.profileDefault) && !OWN_EDITOR.has(s.kind));
  slot.replaceChildren(...specs.map((s) => {
    let input;
    if (s.kind === 'choice') {
      // The empty choice: not set (the profile's default, else the server's).
      const def = h('option', { attrs: { value: '' }, text: t('params.choiceDefault') });
      def.dataset.i18n = 'params.choiceDefault';
      input = h('select', { attrs: { id: inputId(prefix, s) } }, def,
        ...(s.choices || []).map((c) => h('option', { attrs: { value: c }, text: c })));
    } else if (s.kind === 'strings') {
      input = h('textarea', { attrs: { id: inputId(prefix, s), rows: '2', spellcheck: 'false' } });
      input.setAttribute('placeholder', listPlaceholder(s));
      placeholders.push([input, s]);
    } else {
      input = h('input', {
        attrs: { id: inputId(prefix, s), type: 'number', inputmode: s.kind === 'int' ? 'numeric' : 'decimal' },
      });
      if (s.min != null) input.setAttribute('min', String(s.min));
      if (s.max != null) input.setAttribute('max', String(s.max));
      if (s.step != null) input.setAttribute('step', String(s.step));
      if (placeholder) input.dataset.i18nPlaceholder = placeholder;
    }
    input.setAttribute('title', s.doc);
    const label = h('span', { className: 'field-label', text: t(labelKey(s)) });
    label.dataset.i18n = labelKey(s);
    return h('label', { className: s.kind === 'strings' ? 'field' : 'field field-narrow' }, label, input);
  }));
  if (placeholder) {
    for (const el of slot.querySelectorAll('[data-i18n-placeholder]')) el.setAttribute('placeholder', t(placeholder));
  }
  return specs;
}

/** Puts `values` (a settings or defaults object) into the inputs. */
export function fillInputs(specs, prefix, values) {
  for (const s of specs) {
    const el = document.getElementById(inputId(prefix, s));
    const v = values?.[s.key];
    el.value = s.kind === 'strings' ? listToText(v) : (v ?? '');
  }
}

function rangeError(s) {
  const name = t(labelKey(s));
  if (s.kind === 'strings') return t('params.listTooMany', { name, max: s.max });
  if (s.min == null || s.max == null) return t(s.kind === 'int' ? 'params.wholeNumber' : 'params.number', { name });
  return t(s.kind === 'int' ? 'convSettings.rangeInt' : 'convSettings.range', { name, min: s.min, max: s.max });
}

/**
 * Reads and checks the inputs against the table. Returns {values, errors}: values by key (null =
 * not set, a list is [] when empty), errors as [{id, message}]; bad inputs are marked aria-invalid.
 */
export function readInputs(specs, prefix) {
  const values = {};
  const errors = [];
  for (const s of specs) {
    const id = inputId(prefix, s);
    const el = document.getElementById(id);
    let bad = false;
    if (s.kind === 'strings') {
      const list = listFromText(el.value);
      bad = s.max != null && list.length > s.max;
      values[s.key] = list;
    } else if (s.kind === 'choice') {
      values[s.key] = el.value || null;
    } else {
      const raw = el.value.trim();
      if (!raw && !el.validity.badInput) {
        values[s.key] = null;
      } else {
        const n = Number(raw);
        // Without bounds, an integer still has to fit a JavaScript number exactly.
        const lo = s.min ?? (s.kind === 'int' ? Number.MIN_SAFE_INTEGER : -Infinity);
        const hi = s.max ?? (s.kind === 'int' ? Number.MAX_SAFE_INTEGER : Infinity);
        bad = el.validity.badInput || !raw || !Number.isFinite(n) || (s.kind === 'int' && !Number.isInteger(n))
          || n < lo || n > hi;
        values[s.key] = n;
      }
    }
    if (bad) { el.setAttribute('aria-invalid', 'true'); errors.push({ id, key: s.key, message: rangeError(s) }); }
    else el.removeAttribute('aria-invalid');
  }
  return { values, errors };
}

/** Clears the invalid marks of the inputs. */
export function clearMarks(specs, prefix) {
  for (const s of specs) document.getElementById(inputId(prefix, s))?.removeAttribute('aria-invalid');
}

/**
 * Disables the inputs of the parameters `endpoint` does not take (the table's `endpoints`), each
 * with the reason as its tooltip, and says which in `note` (hidden when none). The values stay:
 * they are kept for the other endpoints, only not sent. `enabled` false disables every input.
 */
export function markEndpoint(specs, prefix, endpoint, note, enabled = true) {
  const where = t(`params.endpoint.${endpoint}`);
  const refused = [];
  for (const s of specs) {
    const el = document.getElementById(inputId(prefix, s));
    if (!el) continue;
    const takes = !s.endpoints || s.endpoints.includes(endpoint);
    el.disabled = !enabled || !takes;
    // The reason on the label too: a disabled input gets no pointer events in some webviews.
    const label = el.closest('label');
    label?.classList.toggle('field-refused', !takes);
    if (takes) {
      el.setAttribute('title', s.doc);
      el.removeAttribute('aria-description');
      label?.removeAttribute('title');
    } else {
      const why = t('params.notOnEndpoint', { endpoint: where });
      el.setAttribute('title', why);
      el.setAttribute('aria-description', why);
      label?.setAttribute('title', why);
      refused.push(t(labelKey(s)));
    }
  }
  if (note) {
    note.textContent = refused.length ? t('params.notOnEndpointNote', { endpoint: where, names: refused.join(', ') }) : '';
    note.hidden = !refused.length || !enabled;
  }
  return refused;
}
