// A reply's meta line: model, tokens, time to first token, speed, cost.
import { t } from './i18n.js';
import { logprobMeta } from './logprobs.js';

function formatMs(ms) {
  if (ms < 1000) return t('unit.ms', { n: Math.round(ms) });
  return t('unit.s', { n: (ms / 1000).toFixed(1) });
}

export function formatCost(usd) {
  if (usd == null) return null;
  return usd >= 0.01 ? usd.toFixed(4) : usd.toPrecision(2);
}

export function metaText(m) {
  const parts = [];
  if (m.model) parts.push(m.model);
  // Which endpoint made it: chat completions, the legacy text completions, or the Responses API.
  const endpointLabel = { completions: 'meta.endpointCompletions', responses: 'meta.endpointResponses' };
  if (m.endpoint) parts.push(t(endpointLabel[m.endpoint] || 'meta.endpointChat'));
  if (m.promptTokens != null || m.completionTokens != null) {
    const vars = { prompt: m.promptTokens ?? '?', completion: m.completionTokens ?? '?' };
    parts.push(t(m.tokensCounted ? 'meta.counted' : 'meta.tokens', vars));
  }
  if (m.ttftMs != null) parts.push(t('meta.ttft', { time: formatMs(m.ttftMs) }));
  if (m.totalMs != null) parts.push(formatMs(m.totalMs));
  // The back end's number (core eval::metrics::tokens_per_second), the one the CLI prints.
  const rate = m.status === 'streaming' ? null : m.tokensPerSecond;
  if (rate != null) parts.push(t('meta.speed', { rate: rate.toFixed(1) }));
  if (m.costUsd != null) parts.push(t('meta.cost', { cost: formatCost(m.costUsd) }));
  const lp = logprobMeta(m);
  if (lp) parts.push(lp);
  if (m.reasoningTokens != null) {
    const cost = m.reasoningCostUsd != null ? formatCost(m.reasoningCostUsd) : null;
    parts.push(cost != null ? t('meta.reasoningCost', { n: m.reasoningTokens, cost }) : t('meta.reasoning', { n: m.reasoningTokens }));
  }
  return parts.join(' · ');
}
