// Theme: System / Light / Dark (Settings). Kept in this window's local storage; applied before the
// first paint by setting <html data-theme>, which css/theme.css reads; code highlighting follows.
const KEY = 'parley.theme';
const THEMES = ['system', 'light', 'dark'];

export function getTheme() {
  try {
    const v = localStorage.getItem(KEY);
    return THEMES.includes(v) ? v : 'system';
  } catch {
    return 'system';
  }
}

export function applyTheme(theme) {
  const v = THEMES.includes(theme) ? theme : 'system';
  const root = document.documentElement;
  if (v === 'system') delete root.dataset.theme; else root.dataset.theme = v;
  const light = document.getElementById('hljs-light');
  const dark = document.getElementById('hljs-dark');
  if (light && dark) {
    light.media = v === 'system' ? '(prefers-color-scheme: light)' : v === 'light' ? 'all' : 'not all';
    dark.media = v === 'system' ? '(prefers-color-scheme: dark)' : v === 'dark' ? 'all' : 'not all';
  }
  document.dispatchEvent(new CustomEvent('parley-theme', { detail: v }));
}

export function setTheme(theme) {
  try { localStorage.setItem(KEY, theme); } catch { /* private mode: this session only */ }
  applyTheme(theme);
  const select = document.getElementById('theme');
  if (select && select.value !== getTheme()) select.value = getTheme();
}

/** Wires the Settings select. */
export function initTheme() {
  applyTheme(getTheme());
  const select = document.getElementById('theme');
  if (!select) return;
  select.value = getTheme();
  select.addEventListener('change', () => setTheme(select.value));
}
