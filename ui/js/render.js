// The single place where assistant reply text enters the DOM. Today replies
// are plain text (CSS white-space: pre-wrap); Markdown rendering will be added
// here later through one sanitising function.

/** Render reply `text` into element `el`, replacing what was there. */
export function renderReplyInto(el, text) {
  el.textContent = text == null ? '' : String(text);
}

/**
 * While a reply streams: add only what is new as a text node (no re-layout of the whole reply per
 * frame). `shown` is how many characters of `text` the element already holds; returns the new count.
 */
export function appendStreamingText(el, text, shown) {
  const full = text == null ? '' : String(text);
  if (shown > full.length || shown === 0) {
    el.textContent = full;
  } else if (full.length > shown) {
    el.append(document.createTextNode(full.slice(shown)));
  }
  return full.length;
}
