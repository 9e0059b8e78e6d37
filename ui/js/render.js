// The single place where assistant reply text enters the DOM. Today replies
// are plain text (CSS white-space: pre-wrap); Markdown rendering will be added
// here later through one sanitising function.

/** Render reply `text` into element `el`, replacing what was there. */
export function renderReplyInto(el, text) {
  el.textContent = text == null ? '' : String(text);
}
