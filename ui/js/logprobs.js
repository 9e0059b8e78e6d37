// Token probabilities of a reply: the footer's mean log-probability and perplexity, and a heat map
// (each token shaded by its probability; hovering shows the alternatives the server listed).
// Tokens are model text: they reach the DOM as textContent only.
import { h } from './dom.js';
import { t } from './i18n.js';

const pct = (lp) => `${(Math.exp(lp) * 100).toFixed(1)}%`;

/** "mean logprob −0.152 · perplexity 1.16", or null without probabilities. */
export function logprobMeta(m) {
  if (m.meanLogprob == null) return null;
  return t('meta.logprob', { mean: m.meanLogprob.toFixed(3), ppl: Math.exp(-m.meanLogprob).toFixed(2) });
}

/** The heat map of a reply's tokens. */
export function heatMap(m) {
  const tokens = Array.isArray(m.logprobs) ? m.logprobs : [];
  const spans = tokens.map((tok, i) => {
    const p = Math.exp(tok.logprob);
    const alts = (tok.top || []).map((a) => `${a.token === tok.token ? '▸ ' : '  '}${JSON.stringify(a.token)}  ${pct(a.logprob)}`);
    const title = [`${JSON.stringify(tok.token)}  ${pct(tok.logprob)}`, ...(alts.length ? [t('logprobs.alternatives'), ...alts] : [])].join('\n');
    const span = h('span', { className: 'lp-token', text: tok.token, dataset: { index: i, p: p.toFixed(3) }, attrs: { title } });
    // Through the CSSOM, which the content security policy allows (a style attribute it does not).
    span.style.setProperty('--lp-p', p.toFixed(3));
    return span;
  });
  return h('div', { className: 'lp-heatmap', attrs: { dir: 'auto' } }, ...spans);
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
  });
  return button;
}
