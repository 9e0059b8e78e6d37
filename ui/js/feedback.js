// What the window says where it used to stay silent (notes.js draws the notes): a saved prompt
// inserted with "/" whose system prompt the conversation does not have (Apply sets it), and a
// regenerated or edited earlier message whose new branch hides later turns (with the way back).
import { errorText } from './dom.js';
import { t } from './i18n.js';
import { activeConversation, state } from './state.js';
import { hideNote, showNote } from './notes.js';
import { setSystemPrompt } from './convsettings.js';
import { thread } from './messages.js';

let hooks = { ensureConversation: async () => state.activeId, branch: async () => {} };

/** ensureConversation() → id (creates one when none is open); branch(id) shows that branch. */
export function initFeedback(opts) { hooks = { ...hooks, ...opts }; }

/** After `/name` was inserted: a system prompt the conversation lacks is offered, not forced. */
export function noteInsertedPrompt(prompt) {
  const system = prompt?.latest?.systemPrompt || '';
  const current = activeConversation()?.systemPrompt || '';
  if (!system.trim() || system === current) { hideNote('system'); return; }
  const vars = { name: prompt.name };
  showNote('system', () => t('note.systemNotApplied', vars), {
    label: () => t('note.applySystem'),
    run: async () => {
      try {
        await hooks.ensureConversation();
        await setSystemPrompt(system);
        const applied = activeConversation()?.systemPrompt === system;
        return () => t(applied ? 'note.systemApplied' : 'note.systemNotApplied', vars);
      } catch (err) {
        const text = errorText(err);
        return () => text;
      }
    },
  });
}

/**
 * Before a regenerate (`kind` 'regenerate') or an edit ('edit') of the message at `index` in
 * the thread on screen: what the new branch will hide. Returns {kind, hidden, backTo} or null
 * when nothing past the next reply is hidden (the message was the last turn).
 */
export function branchLoss(kind, messageId) {
  const list = state.messages;
  const i = list.findIndex((m) => m.id === messageId);
  if (i < 0) return null;
  // Regenerate: the reply after the user message is replaced; edit: the user message itself.
  const replaced = kind === 'regenerate' ? list[i + 1] : list[i];
  // Counted over the whole path, not only the part of it in the window (a long conversation).
  const pathLength = Math.max(thread.total, thread.start + list.length);
  const hidden = pathLength - (thread.start + i + 2);
  if (!replaced || typeof replaced.id !== 'number' || hidden <= 0) return null;
  return { kind, hidden, backTo: replaced.id, conversationId: state.activeId };
}

/** Once the new branch is on screen: say what it hid, and offer the previous branch back. */
export function noteBranch(loss) {
  if (!loss || loss.conversationId !== state.activeId) return;
  const key = loss.kind === 'edit' ? 'note.branchEdit' : 'note.branchRegenerate';
  showNote('branch', () => t(key, { n: loss.hidden }), {
    label: () => t('note.branchBack'),
    run: async () => { await hooks.branch(loss.backTo); return null; },
  });
}

/** A new message, or another conversation: the branch note has said what it had to. */
export function clearBranchNote() { hideNote('branch'); }
