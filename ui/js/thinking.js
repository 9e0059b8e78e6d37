// The "Thinking" block of a reply: the model's reasoning, apart from the answer and above it,
// collapsible. Open while the model is still thinking, closed once the answer starts (the user's
// own toggle wins). Model text goes only through render.js.
import { h } from './dom.js';
import { t } from './i18n.js';
import { appendStreamingText, renderReplyInto } from './render.js';

function formatSeconds(ms) {
  return t('unit.s', { n: (ms / 1000).toFixed(1) });
}

/** The summary line: "Thinking…" while it streams, else "Thought for 3.2 s · 120 tokens". */
function summaryText(m, answering) {
  const live = m.status === 'streaming' && !answering;
  if (live) return t('thinking.live');
  const parts = [m.thinkingMs != null ? t('thinking.doneFor', { time: formatSeconds(m.thinkingMs) }) : t('thinking.done')];
  if (m.reasoningTokens != null) parts.push(t('thinking.tokens', { n: m.reasoningTokens }));
  return parts.join(' · ');
}

/** Creates the (hidden) block of an assistant entry; `fillThinking` shows it once there is reasoning. */
export function buildThinking(entry) {
  const summary = h('summary', { className: 'thinking-summary' });
  const body = h('div', { className: 'thinking-body', attrs: { dir: 'auto' } });
  const el = h('details', { className: 'thinking', attrs: { hidden: true } }, summary, body);
  el.addEventListener('toggle', () => {
    // A toggle by the user (not by us) is kept for the rest of this reply's life on screen.
    if (!entry.thinking.settingOpen) entry.thinking.userToggled = true;
  });
  entry.thinking = { el, summary, body, shown: 0, userToggled: false, settingOpen: false };
  return el;
}

function setOpen(th, open) {
  if (th.userToggled || th.el.open === open) return;
  th.settingOpen = true;
  th.el.open = open;
  // The toggle event fires asynchronously.
  setTimeout(() => { th.settingOpen = false; }, 0);
}

/** Shows a finished (or reloaded) reply's reasoning. */
export function fillThinking(entry, m) {
  const th = entry.thinking;
  if (!th) return;
  const text = m.reasoning ?? '';
  th.el.hidden = !text;
  if (!text) return;
  const answering = !!m.content;
  th.summary.textContent = summaryText(m, answering);
  renderReplyInto(th.body, text);
  th.shown = text.length;
  setOpen(th, m.status === 'streaming' && !answering);
  th.el.dataset.live = String(m.status === 'streaming' && !answering);
}

/** While streaming: the reasoning so far, and whether the answer has started. */
export function streamThinking(entry, reasoning, answering) {
  const th = entry.thinking;
  if (!th || !reasoning) return;
  th.el.hidden = false;
  th.shown = appendStreamingText(th.body, reasoning, th.shown);
  th.summary.textContent = summaryText({ status: 'streaming' }, answering);
  th.el.dataset.live = String(!answering);
  setOpen(th, !answering);
}
