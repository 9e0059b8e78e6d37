// A reply's meta line: model, tokens, time to first token, speed, cost.
import { t } from './i18n.js';

function formatMs(ms) {
  if (ms < 1000) return t('unit.ms', { n: Math.round(ms) });
  return t('unit.s', { n: (ms / 1000).toFixed(1) });
}

/** Completion tokens per second of generation (after the first token), as the CLI computes it. */
export function tokensPerSecond(m) {
  if (m.completionTokens == null || m.totalMs == null) return null;
  const gen = m.totalMs - (m.ttftMs ?? 0);
  // Below 50 ms of generation the rate says nothing (and prints silly numbers).
  return m.completionTokens > 1 && gen >= 50 ? ((m.completionTokens - 1) * 1000) / gen : null;
}

export function formatCost(usd) {
  if (usd == null) return null;
  return usd >= 0.01 ? usd.toFixed(4) : usd.toPrecision(2);
}

export function metaText(m) {
  const parts = [];
  if (m.model) parts.push(m.model);
  if (m.promptTokens != null || m.completionTokens != null) {
    const vars = { prompt: m.promptTokens ?? '?', completion: m.completionTokens ?? '?' };
    parts.push(t(m.tokensCounted ? 'meta.counted' : 'meta.tokens', vars));
  }
  if (m.ttftMs != null) parts.push(t('meta.ttft', { time: formatMs(m.ttftMs) }));
  if (m.totalMs != null) parts.push(formatMs(m.totalMs));
  const rate = m.status === 'streaming' ? null : tokensPerSecond(m);
  if (rate != null) parts.push(t('meta.speed', { rate: rate.toFixed(1) }));
  if (m.costUsd != null) parts.push(t('meta.cost', { cost: formatCost(m.costUsd) }));
  return parts.join(' · ');
}
