// A reply under a response format, after its check (core params/structured.rs, stored with the
// reply): valid → the JSON formatted, in a collapsible block (open), the raw text hidden; invalid →
// the exact validation errors above the text as it came. Model text reaches the DOM as textContent.
import { h } from './dom.js';
import { t } from './i18n.js';

/** Pretty JSON, or null when the text does not parse. */
function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

/** Is the reply's text replaced by its formatted JSON (a valid reply, heat map off)? */
export function showsJson(entry) {
  const m = entry.message;
  return !!(m?.schemaCheck?.valid && m.status !== 'streaming' && !entry.heatMap && pretty(m.content ?? '') != null);
}

/** Shows (or removes) the check of `m` in `entry`: the JSON after the body, or the errors before it. */
export function fillStructured(entry, m) {
  entry.structured?.remove();
  entry.structured = null;
  const check = m.schemaCheck;
  if (!entry.editor) entry.body.hidden = showsJson(entry);
  if (!check || m.status === 'streaming') return;
  let block;
  if (check.valid) {
    if (!showsJson(entry)) return;
    block = h('details', { className: 'structured structured-valid', attrs: { open: true } },
      h('summary', { className: 'structured-summary', text: t('structured.valid') }),
      h('pre', { className: 'structured-json', text: pretty(m.content) }));
    entry.body.after(block);
  } else {
    const errors = check.errors || [];
    block = h('div', { className: 'structured structured-invalid', attrs: { role: 'alert' } },
      h('p', { className: 'structured-head', text: t('structured.invalid', { count: errors.length }) }),
      h('ul', { className: 'structured-errors' }, ...errors.map((e) => h('li', { text: e }))));
    entry.body.before(block);
  }
  entry.structured = block;
}
