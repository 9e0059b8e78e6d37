// Shared application state and a tiny event bus.

export const state = {
  /** Conversation[] newest first */
  conversations: [],
  /** Conversations shown that the list leaves out (archived ones opened from their view or from
   *  a search hit), by id: they have a title, settings and a delete like any other. */
  offList: new Map(),
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

/** A conversation by id: in the list, else among those shown off it. */
export function findConversation(id) {
  return state.conversations.find((c) => c.id === id) || state.offList.get(id) || null;
}

export function activeConversation() {
  return findConversation(state.activeId);
}

/** Replace (or add to the front) a conversation in the list. One kept off the list (archived)
 *  is updated there: a rename or a reply put it back in the list, counted twice. */
export function upsertConversation(conv) {
  const i = state.conversations.findIndex((c) => c.id === conv.id);
  // Merged: a conversation from a command keeps the list's folder, tags and pin.
  if (i >= 0) state.conversations[i] = { ...state.conversations[i], ...conv };
  else if (state.offList.has(conv.id)) state.offList.set(conv.id, { ...state.offList.get(conv.id), ...conv });
  else if (!conv.archived) state.conversations.unshift(conv);
}
