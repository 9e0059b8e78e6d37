// Tool calls in the thread: each call a reply made (function name, arguments laid out as text),
// never executed; on the newest reply, a field per call for the result the user types and a
// button that sends them back as `tool` messages. Model text reaches the DOM as textContent only.
import { h } from './dom.js';
import { t } from './i18n.js';

/** Pretty JSON when the arguments parse, else exactly as the model wrote them. */
export function formatArguments(args) {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return String(args ?? '');
  }
}

/**
 * The calls of a reply. With `onSend`, each call gets a result field and the block a Send button;
 * onSend([{toolCallId, content}]) is called with every result (empty ones refused).
 */
export function toolCallsBlock(message, onSend) {
  const calls = Array.isArray(message.toolCalls) ? message.toolCalls : [];
  if (!calls.length) return null;
  const fields = [];
  const list = calls.map((call) => {
    const name = call.function?.name || '?';
    const item = h('div', { className: 'tool-call', dataset: { callId: call.id || '' } },
      h('div', { className: 'tool-call-head' },
        h('span', { className: 'tool-call-label', text: t('tools.calls') }),
        h('code', { className: 'tool-call-name', text: name })),
      h('pre', { className: 'tool-call-args', text: formatArguments(call.function?.arguments ?? '') }));
    if (onSend) {
      const field = h('textarea', {
        className: 'tool-result-input',
        attrs: { rows: 2, placeholder: t('tools.resultPlaceholder', { name }), 'aria-label': t('tools.resultFor', { name }) },
      });
      fields.push({ id: call.id, field });
      item.append(field);
    }
    return item;
  });
  const block = h('div', { className: 'tool-calls' }, h('div', { className: 'tool-calls-note', text: t('tools.notExecuted') }), ...list);
  if (onSend) {
    const error = h('div', { className: 'tool-results-error', attrs: { role: 'alert', hidden: true } });
    const button = h('button', { className: 'btn btn-primary btn-small send-tool-results', attrs: { type: 'button' }, text: t('tools.sendResults') });
    button.addEventListener('click', () => {
      const results = fields.map(({ id, field }) => ({ toolCallId: id, content: field.value }));
      if (results.some((r) => !r.content.trim())) {
        error.textContent = t('tools.resultMissing');
        error.hidden = false;
        return;
      }
      error.hidden = true;
      onSend(results);
    });
    block.append(error, button);
  }
  return block;
}
