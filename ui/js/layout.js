// The window's layout choices, kept across starts in the webview's storage: the sidebar collapsed
// or not (button in the header, Ctrl+B), and the conversation that was open last.
const SIDEBAR = 'parley.sidebarCollapsed';
const LAST = 'parley.lastConversation';

const $ = (id) => document.getElementById(id);

function load(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function store(key, value) {
  try {
    if (value == null) localStorage.removeItem(key); else localStorage.setItem(key, String(value));
  } catch { /* private mode: this session only */ }
}

export function setSidebarCollapsed(collapsed) {
  document.querySelector('.app').classList.toggle('sidebar-collapsed', collapsed);
  const btn = $('toggle-sidebar');
  btn.setAttribute('aria-expanded', String(!collapsed));
  store(SIDEBAR, collapsed ? '1' : null);
}

export function toggleSidebar() {
  setSidebarCollapsed(!document.querySelector('.app').classList.contains('sidebar-collapsed'));
}

export function initLayout() {
  $('toggle-sidebar').addEventListener('click', () => toggleSidebar());
  setSidebarCollapsed(load(SIDEBAR) === '1');
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.altKey || e.shiftKey || !(e.ctrlKey || e.metaKey)) return;
    if (e.key.toLowerCase() !== 'b') return;
    e.preventDefault();
    toggleSidebar();
  });
}

/** Whose conversation it was: ids are per data folder, and a webview's storage is not. */
let dataDir = null;

export function setDataDir(dir) { dataDir = dir; }

/** The conversation open when the window last closed on this data folder (or null). */
export function lastConversation() {
  try {
    const saved = JSON.parse(load(LAST) || 'null');
    if (!saved || saved.dir !== dataDir || !Number.isInteger(saved.id)) return null;
    return saved.id;
  } catch {
    return null;
  }
}

export function rememberConversation(id) {
  if (dataDir == null) return;
  store(LAST, id == null ? null : JSON.stringify({ dir: dataDir, id }));
}
