// Showing another branch of the conversation on screen: ‹ › on a message with versions, and
// "Continue with this" among replies made together.

import { api } from './api.js';
import { showBanner, errorText } from './dom.js';
import * as view from './messages.js';
import * as paging from './paging.js';
import { state } from './state.js';

const $ = (id) => document.getElementById(id);

/** ‹ › and "Continue with this": show the branch through messageId. */
export async function showBranch(messageId, chosen = false) {
  if (state.stream || !state.activeId) return;
  const id = state.activeId;
  try {
    // The switched message keeps its place on screen: the window around it is another page
    // (the old scroll offset pointed at other messages, the arrows just clicked gone).
    const box = $('messages');
    const top = box.scrollTop;
    const holder = state.messages.find((m) => m.id === messageId || (m.siblingIds || []).includes(messageId));
    const before = view.getEntry(messageId)?.root || (holder && view.getEntry(holder.id)?.root);
    const offset = before ? before.getBoundingClientRect().top - box.getBoundingClientRect().top : null;
    // Choosing among replies made together is also a vote when their models differ.
    if (chosen) {
      const thread = await api.chooseReply(messageId);
      if (id !== state.activeId) return;
      paging.showThread(thread, messageId);
    } else {
      // Only the page around the shown version is read (long conversations).
      const page = await api.openAtMessage(messageId, paging.PAGE);
      if (id !== state.activeId) return;
      paging.showPage(page);
    }
    const after = view.getEntry(messageId)?.root;
    if (after && offset != null) {
      box.scrollTop += after.getBoundingClientRect().top - box.getBoundingClientRect().top - offset;
    } else {
      box.scrollTop = top;
    }
  } catch (err) {
    showBanner(errorText(err), 'error');
  }
}
