// Shared application state and a tiny event bus.

export const state = {
  /** Conversation[] newest first */
  conversations: [],
  /** id of the selected conversation or null */
  activeId: null,
  /** Message[] of the active conversation (active path, oldest first) */
  messages: [],
  /** Profile or null */
  profile: null,
  /** model ids from list_models */
  models: [],
  /** Every running reply, by conversation id (one per conversation; each has its own Stop).
   * A send whose conversation is still being created is kept under PENDING. */
  streams: new Map(),
  /** The running reply of the conversation on screen (see chat.js), or null. */
  get stream() {
    return this.streams.get(this.activeId) || this.streams.get(PENDING) || null;
  },
};

/** The key of a send whose conversation does not exist yet. */
export const PENDING = 'pending';

const bus = new EventTarget();

export function on(type, fn) {
  bus.addEventListener(type, (e) => fn(e.detail));
}

export function emit(type, detail) {
  bus.dispatchEvent(new CustomEvent(type, { detail }));
}

export function activeConversation() {
  return state.conversations.find((c) => c.id === state.activeId) || null;
}

/** Replace (or add to the front) a conversation in the list. */
export function upsertConversation(conv) {
  const i = state.conversations.findIndex((c) => c.id === conv.id);
  // Merged: a conversation from a command keeps the list's folder, tags and pin.
  if (i >= 0) state.conversations[i] = { ...state.conversations[i], ...conv };
  else state.conversations.unshift(conv);
}
