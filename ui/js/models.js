// Model ids from the server's /v1/models, shared by both model inputs via
// <datalist id="model-options">.
import { api } from './api.js';
import { h } from './dom.js';
import { state } from './state.js';

let inflight = null;
let inflightFor;

/** Fetch the model list of a profile (default: the default profile); rejects with {kind, message}. */
export function loadModels(profileId = null) {
  if (inflight && inflightFor === profileId) return inflight;
  inflightFor = profileId;
  inflight = api.listModels(profileId)
    .then((models) => {
      state.models = Array.isArray(models) ? models.filter((m) => typeof m === 'string') : [];
      const list = document.getElementById('model-options');
      list.replaceChildren(...state.models.map((id) => h('option', { attrs: { value: id } })));
      return state.models;
    })
    .finally(() => { inflight = null; });
  return inflight;
}
