// Attachments in the composer: images (button, paste, drag and drop) and text files. The bytes go
// to Rust, which checks, downscales and stores each image once and returns a thumbnail as a data:
// URL; names are hostile text (textContent / attributes only, never markup).
import { api } from './api.js';
import { errorText, h, icon } from './dom.js';
import { onLangChange, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
const IMAGE_EXT = /\.(png|jpe?g|webp|gif)$/i;

/** [{kind: 'image', image: {sha256, name, detail}, thumb, width, height} | {kind: 'file', file: {name, text}}] */
let pending = [];
let limits = { maxAttachments: 10 };
let busy = 0;

export function initAttachments() {
  const input = $('attach-input');
  $('attach').addEventListener('click', () => input.click());
  input.addEventListener('change', () => { addFiles([...input.files]); input.value = ''; });
  $('composer').addEventListener('paste', (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  });
  const zone = document.querySelector('.composer-wrap');
  zone.addEventListener('dragover', (e) => {
    if (![...(e.dataTransfer?.types || [])].includes('Files')) return;
    e.preventDefault();
    zone.classList.add('drop-target');
  });
  zone.addEventListener('dragleave', (e) => { if (!zone.contains(e.relatedTarget)) zone.classList.remove('drop-target'); });
  zone.addEventListener('drop', (e) => {
    zone.classList.remove('drop-target');
    const files = [...(e.dataTransfer?.files || [])];
    if (!files.length) return;
    e.preventDefault();
    addFiles(files);
  });
  api.attachmentLimits().then(setLimits).catch(() => {});
  const edge = $('image-max-edge');
  edge.addEventListener('change', () => {
    api.setImageMaxEdge(Number(edge.value)).then(setLimits)
      .catch((err) => { $('image-max-edge-hint').textContent = errorText(err); });
  });
  onLangChange(() => { setLimits(limits); render(); });
  render();
}

/** The limits as Rust states them: the longest-edge setting and its range, and the hint under it. */
function setLimits(l) {
  limits = l;
  const edge = $('image-max-edge');
  if (!l.maxEdge) return;
  Object.assign(edge, { value: l.maxEdge, min: l.minMaxEdge, max: l.maxMaxEdge, step: 1 });
  $('image-max-edge-hint').textContent = t('attach.maxEdgeHint', {
    min: l.minMaxEdge, max: l.maxMaxEdge, mb: Math.round(l.maxImageBytes / 1048576), kib: Math.round(l.maxFileBytes / 1024), n: l.maxAttachments,
  });
}

function showError(message) {
  const el = $('composer-error');
  el.textContent = message;
  el.hidden = false;
}

// Any image type goes to Rust, which names the four it takes when it refuses another.
const isImage = (f) => IMAGE_TYPES.includes(f.type) || f.type.startsWith('image/') || (!f.type && IMAGE_EXT.test(f.name));

/** Attaches files: images through attach_image, anything else as a text file. */
export async function addFiles(files) {
  for (const f of files) {
    if (pending.length + busy >= limits.maxAttachments) {
      showError(t('attach.tooMany', { n: limits.maxAttachments }));
      return;
    }
    // Past the limit the bytes are not even read (Rust checks again, with the same numbers).
    const max = isImage(f) ? limits.maxImageBytes : limits.maxFileBytes;
    if (max && f.size > max) {
      showError(t('attach.tooBig', { name: f.name, size: formatSize(f.size), max: formatSize(max) }));
      continue;
    }
    busy += 1;
    render();
    try {
      if (isImage(f)) {
        const a = await api.attachImage(f);
        pending.push({ kind: 'image', image: { sha256: a.sha256, name: a.name, detail: a.detail || 'auto' }, thumb: a.thumb, width: a.width, height: a.height });
      } else {
        pending.push({ kind: 'file', file: await api.attachFile(f) });
      }
    } catch (err) {
      showError(errorText(err));
    } finally {
      busy -= 1;
      render();
    }
  }
}

const formatSize = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.ceil(n / 1024)} KiB`);

export const hasAttachments = () => pending.length > 0;
export const isAttaching = () => busy > 0;

/** What send_message takes, and the images as the message shows them until it is reloaded. */
export function forRequest() {
  return {
    images: pending.filter((p) => p.kind === 'image').map((p) => ({ ...p.image })),
    files: pending.filter((p) => p.kind === 'file').map((p) => p.file),
    shown: pending.filter((p) => p.kind === 'image')
      .map((p) => ({ ...p.image, thumb: p.thumb, width: p.width, height: p.height })),
  };
}

export function clearAttachments() {
  pending = [];
  render();
}

function chip(p, i) {
  const remove = h('button', {
    className: 'icon-btn attach-remove',
    attrs: { type: 'button', title: t('attach.remove'), 'aria-label': t('attach.remove') },
    on: { click: () => { pending.splice(i, 1); render(); } },
  }, icon('close'));
  if (p.kind === 'file') {
    return h('div', { className: 'attach-chip file', attrs: { title: p.file.name } },
      h('span', { className: 'attach-file-icon', text: '{ }' }),
      h('span', { className: 'attach-name', text: p.file.name }), remove);
  }
  const detail = h('select', {
    className: 'attach-detail',
    attrs: { title: t('attach.detailTitle'), 'aria-label': t('attach.detailTitle') },
    on: { change: (e) => { p.image.detail = e.target.value; } },
  }, ...['auto', 'low', 'high'].map((d) => h('option', { attrs: { value: d, selected: d === p.image.detail }, text: t(`attach.detail.${d}`) })));
  return h('div', { className: 'attach-chip image', attrs: { title: `${p.image.name} · ${p.width}×${p.height}` } },
    h('img', { className: 'attach-thumb', attrs: { src: p.thumb, alt: p.image.name } }),
    h('span', { className: 'attach-name', text: p.image.name }), detail, remove);
}

function render() {
  const strip = $('attachments');
  strip.replaceChildren(...pending.map(chip));
  if (busy) strip.append(h('span', { className: 'attach-busy', text: t('attach.reading') }));
  strip.hidden = !pending.length && !busy;
}

/** The thumbnails of a user message (from the thread, or the composer until it reloads). */
export function showImages(entry, m) {
  entry.images?.remove();
  entry.images = null;
  // Thumbnails are data: URLs made in Rust; anything else is not shown.
  const images = (Array.isArray(m.images) ? m.images : []).filter((i) => String(i.thumb).startsWith('data:image/'));
  if (!images.length) return;
  entry.images = h('div', { className: 'message-images' }, ...images.map((i) =>
    h('img', { className: 'message-thumb', attrs: { src: i.thumb, alt: i.name || '', title: `${i.name || ''} · ${i.width}×${i.height} · ${t(`attach.detail.${i.detail || 'auto'}`)}` } })));
  entry.body.before(entry.images);
}
