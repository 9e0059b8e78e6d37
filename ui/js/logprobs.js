// Token probabilities of a reply: the footer's mean log-probability and perplexity, and a heat map
// (each token shaded by its probability; hovering shows the alternatives the server listed). On
// the legacy completions endpoint a token with alternatives can be clicked: its alternatives are
// listed, and picking one continues the text from it as a new branch (chat.js does the request).
// Tokens are model text: they reach the DOM as textContent only.
import { h } from './dom.js';
import { t } from './i18n.js';
import { fillStructured } from './structured.js';

// The reply's body shows text, heat map or checked JSON: messages.js takes all three from here.
export { fillStructured };

const pct = (lp) => `${(Math.exp(lp) * 100).toFixed(1)}%`;

/** fn(message, tokenIndex, alternative): set by chat.js. */
let onPick = null;
export function onAlternativePicked(fn) { onPick = fn; }

/** "mean logprob −0.152 · perplexity 1.16", or null without probabilities. */
export function logprobMeta(m) {
  const metric = m.logprobMetric;
  const mean = metric?.meanLogprob ?? m.meanLogprob;
  if (mean == null) return null;
  const ppl = metric?.perplexity ?? Math.exp(-mean);
  return t('meta.logprob', { mean: mean.toFixed(3), ppl: ppl.toFixed(2) });
}

/** Can the reply be continued from another token? */
function branchable(m) {
  return !!onPick && m.endpoint === 'completions' && m.status === 'done' && typeof m.id === 'number';
}

/** The list of a token's alternatives, each a button that continues from it. */
function alternativesMenu(m, i, tok) {
  const head = h('p', { className: 'lp-alts-head', text: t('logprobs.branchFrom', { token: JSON.stringify(tok.token) }) });
  const buttons = (tok.top || []).filter((a) => a.token !== tok.token).map((a) => {
    const b = h('button', {
      className: 'btn btn-ghost btn-small lp-alt',
      attrs: { type: 'button', title: t('logprobs.branchTitle', { token: JSON.stringify(a.token) }) },
      dataset: { token: a.token },
    }, h('code', { text: JSON.stringify(a.token) }), h('span', { className: 'lp-alt-p', text: ` ${pct(a.logprob)}` }));
    b.addEventListener('click', () => onPick(m, i, a.token));
    return b;
  });
  return h('div', { className: 'lp-alts', attrs: { role: 'group' } }, head, ...buttons);
}

/** The heat map of a reply's tokens. */
export function heatMap(m) {
  const tokens = Array.isArray(m.logprobs) ? m.logprobs : [];
  const canBranch = branchable(m);
  const wrap = h('div', { className: 'lp-wrap' });
  const spans = tokens.map((tok, i) => {
    const p = Math.exp(tok.logprob);
    const alts = (tok.top || []).map((a) => `${a.token === tok.token ? '▸ ' : '  '}${JSON.stringify(a.token)}  ${pct(a.logprob)}`);
    const title = [`${JSON.stringify(tok.token)}  ${pct(tok.logprob)}`, ...(alts.length ? [t('logprobs.alternatives'), ...alts] : [])].join('\n');
    const span = h('span', { className: 'lp-token', text: tok.token, dataset: { index: i, p: p.toFixed(3) }, attrs: { title } });
    // Through the CSSOM, which the content security policy allows (a style attribute it does not).
    span.style.setProperty('--lp-p', p.toFixed(3));
    if (canBranch && (tok.top || []).some((a) => a.token !== tok.token)) {
      span.classList.add('lp-branchable');
      span.setAttribute('role', 'button');
      span.setAttribute('tabindex', '0');
      const open = () => {
        wrap.querySelector('.lp-alts')?.remove();
        wrap.append(alternativesMenu(m, i, tok));
      };
      span.addEventListener('click', open);
      span.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    }
    return span;
  });
  wrap.append(h('div', { className: 'lp-heatmap', attrs: { dir: 'auto' } }, ...spans));
  if (canBranch) wrap.prepend(h('p', { className: 'field-hint lp-branch-hint', text: t('logprobs.branchHint') }));
  return wrap;
}

/** A button that switches the reply between its text and the heat map. */
export function heatMapToggle(entry, rerender) {
  const m = entry.message;
  if (!Array.isArray(m.logprobs) || !m.logprobs.length) return null;
  const button = h('button', {
    className: 'btn btn-ghost btn-small lp-toggle',
    attrs: { type: 'button', 'aria-pressed': entry.heatMap ? 'true' : 'false', title: t('logprobs.toggleTitle') },
    text: t('logprobs.toggle'),
  });
  button.addEventListener('click', () => {
    entry.heatMap = !entry.heatMap;
    button.setAttribute('aria-pressed', entry.heatMap ? 'true' : 'false');
    if (entry.heatMap) entry.body.replaceChildren(heatMap(entry.message));
    else rerender();
    fillStructured(entry, entry.message);
  });
  return button;
}
