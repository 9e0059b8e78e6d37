// "No model is chosen": instead of a dead end, the server's models as buttons under the error.
// One click sets the conversation's model (through its settings field, so it is saved like a
// typed one) and answers again.
import { api } from './api.js';
import { h } from './dom.js';
import { t } from './i18n.js';
import { activeConversation, state } from './state.js';

/** At most this many buttons; the rest are in the conversation settings' model list. */
const SHOWN = 12;

export function setConversationModel(model) {
  const input = document.getElementById('conv-model');
  if (!input) return;
  input.value = model;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

/** A row that fills itself with the models of the open conversation's server. */
export function modelChoices(onPick) {
  const row = h('span', { className: 'model-choices' }, h('span', { className: 'hint', text: t('error.pickModel') }));
  const profileId = activeConversation()?.profileId ?? null;
  api.listModels(profileId).then((models) => {
    if (!models.length) { row.replaceChildren(h('span', { className: 'hint', text: t('error.noModels') })); return; }
    // The profile's own first choice, if any, leads.
    const first = state.profile?.defaultModel;
    const ordered = first && models.includes(first) ? [first, ...models.filter((m) => m !== first)] : models;
    for (const m of ordered.slice(0, SHOWN)) {
      row.append(h('button', {
        className: 'btn btn-small btn-secondary model-choice', text: m, dataset: { model: m },
        attrs: { type: 'button' }, on: { click: () => onPick(m) },
      }));
    }
  }).catch(() => row.remove());
  return row;
}
