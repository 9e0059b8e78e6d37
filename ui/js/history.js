// Settings → History: import (Parley JSON or a ChatGPT export, with progress and Cancel), export
// everything, the database backups, each restorable (the app reopens the restored file live), and Compact.
import { api } from './api.js';
import { h, showToast, showBanner, errorText } from './dom.js';
import { t, getLang } from './i18n.js';
import { exportMenu } from './bulk.js';
import { askYes } from './menu.js';
import { reloadOrganise } from './folders.js';
import { refreshConversations } from './sidebar.js';
import { emit } from './state.js';

// Inside Settings (a modal dialog) a banner would be under it, unseen: a toast shows there.
const fail = (err) => (document.querySelector('dialog[open]')
  ? showToast(errorText(err), { timeout: 12000 })
  : showBanner(errorText(err), 'error'));

function progressPanel() {
  const bar = h('progress', { attrs: { max: '1000', value: '0', 'aria-label': t('history.importing') } });
  const text = h('span', { className: 'import-text', attrs: { 'aria-live': 'polite' }, text: t('history.importing') });
  const cancel = h('button', {
    className: 'btn btn-secondary', text: t('org.cancel'), attrs: { type: 'button', id: 'import-cancel' },
    on: { click: () => { cancel.disabled = true; api.cancelImport().catch(fail); } },
  });
  const el = h('div', { className: 'import-progress', attrs: { role: 'status', id: 'import-progress' } }, text, bar, cancel);
  // Inside Settings while it is open: a modal dialog makes everything outside it inert.
  const section = document.getElementById('history-section');
  (section?.closest('dialog[open]') ? section : document.body).append(el);
  return {
    update(p) {
      if (p.totalBytes > 0) bar.value = Math.round((1000 * p.bytesRead) / p.totalBytes);
      text.textContent = t('history.importingN', { n: p.conversations });
    },
    close() { el.remove(); },
  };
}

export async function importConversations() {
  let panel = null;
  try {
    const summary = await api.importConversations((p) => {
      panel ??= progressPanel();
      panel.update(p);
    });
    if (!summary) return;
    showToast(t('history.imported', {
      n: summary.conversations, m: summary.messages, d: summary.duplicates,
      s: summary.skippedParts + summary.skippedMessages,
    }), { timeout: 12000 });
    await reloadOrganise();
    await refreshConversations();
  } catch (err) {
    if (err.kind === 'cancelled') showToast(t('history.importCancelled'));
    else fail(err);
  } finally {
    panel?.close();
  }
}

function size(bytes) { return `${(bytes / 1e6).toFixed(1)} MB`; }

async function renderBackups(list) {
  let backups = [];
  try { backups = await api.listBackups(); } catch (err) { fail(err); return; }
  if (!backups.length) {
    list.replaceChildren(h('li', { className: 'hint', text: t('history.noBackups') }));
    return;
  }
  const fmt = new Intl.DateTimeFormat(getLang(), { dateStyle: 'medium', timeStyle: 'short' });
  list.replaceChildren(...backups.map((b) => {
    const kind = b.name.startsWith('parley-daily-') ? t('history.daily') : t('history.beforeUpgrade');
    return h('li', { className: 'backup-row', dataset: { name: b.name } },
      h('span', { className: 'backup-when', text: fmt.format(new Date(b.takenAt)) }),
      h('span', { className: 'backup-kind', text: kind }),
      h('span', { className: 'backup-size', text: size(b.bytes) }),
      h('button', {
        className: 'btn btn-secondary backup-restore', text: t('history.restore'), attrs: { type: 'button' },
        on: { click: () => restore(b, list) },
      }));
  }));
}

async function restore(backup, list) {
  if (!(await askYes(t('history.restoreConfirm'), t('history.restore')))) return;
  try {
    const moved = await api.restoreBackup(backup.name);
    showToast(t('history.restored', { path: moved }), { timeout: 12000 });
    emit('database-restored');
    await reloadOrganise();
    await refreshConversations();
    await renderBackups(list);
  } catch (err) { fail(err); }
}

async function compact(button) {
  button.disabled = true;
  button.textContent = t('history.compacting');
  try {
    const done = await api.compactDatabase();
    const compacted = t('history.compacted', { before: size(done.bytesBefore), after: size(done.bytesAfter) });
    showToast(done.indexRebuilt ? `${compacted} · ${t('history.indexRebuilt')}` : compacted, { timeout: 8000 });
  } catch (err) { fail(err); } finally {
    button.disabled = false;
    button.textContent = t('history.compact');
  }
}

export function initHistory() {
  const form = document.getElementById('settings-form');
  if (!form) return;
  const backups = h('ul', { className: 'backup-list', attrs: { id: 'backup-list' } });
  const section = h('section', { className: 'settings-section', attrs: { id: 'history-section' } },
    h('h3', { text: t('history.title'), dataset: { i18n: 'history.title' } }),
    h('p', { className: 'hint', text: t('history.importHint'), dataset: { i18n: 'history.importHint' } }),
    h('div', { className: 'history-actions' },
      h('button', {
        className: 'btn btn-secondary', text: t('history.import'), dataset: { i18n: 'history.import' },
        attrs: { type: 'button', id: 'import-conversations' }, on: { click: importConversations },
      }),
      h('button', {
        className: 'btn btn-secondary', text: t('history.exportAll'), dataset: { i18n: 'history.exportAll' },
        attrs: { type: 'button', id: 'export-all' },
        on: { click: (e) => { const r = e.currentTarget.getBoundingClientRect(); exportMenu({ all: true }, r.left, r.bottom); } },
      })),
    h('h4', { text: t('history.backups'), dataset: { i18n: 'history.backups' } }),
    h('p', { className: 'hint', text: t('history.backupsHint'), dataset: { i18n: 'history.backupsHint' } }),
    backups,
    h('p', { className: 'hint', text: t('history.compactHint'), dataset: { i18n: 'history.compactHint' } }),
    h('div', { className: 'history-actions' },
      h('button', {
        className: 'btn btn-secondary', text: t('history.compact'), dataset: { i18n: 'history.compact' },
        attrs: { type: 'button', id: 'compact-database' }, on: { click: (e) => compact(e.currentTarget) },
      })));
  form.append(section);
  const dialog = document.getElementById('settings-dialog');
  // Listed afresh each time Settings opens.
  new MutationObserver(() => { if (dialog.open) renderBackups(backups); })
    .observe(dialog, { attributes: true, attributeFilter: ['open'] });
}
