// All user-visible strings live here. t(key, vars) looks a key up in the
// current language (falling back to English) and fills {placeholders}.
const STORAGE_KEY = 'parley.lang';

const STRINGS = {
  en: {
    'app.name': 'Parley',
    'lang.en': 'English',
    'lang.zh-CN': '简体中文',

    'sidebar.newChat': 'New chat',
    'sidebar.newChatTitle': 'New chat (Ctrl+N)',
    'sidebar.listLabel': 'Conversations',
    'sidebar.empty': 'No conversations yet. Start one with “New chat”.',
    'sidebar.settings': 'Settings',
    'sidebar.rename': 'Rename conversation',
    'sidebar.delete': 'Delete conversation',
    'sidebar.renameInput': 'New title',
    'conv.untitled': 'New chat',
    'conv.deleted': 'Conversation deleted',
    'conv.undo': 'Undo',

    'chat.toggleSettings': 'Conversation settings',
    'chat.messagesLabel': 'Messages',
    'chat.welcomeTitle': 'Start a conversation',
    'chat.welcomeHint': 'Type a message below, or press Ctrl+N for a new chat.',
    'chat.emptyTitle': 'Nothing here yet',
    'chat.emptyHint': 'Send a message to start the conversation.',
    'chat.noKey': 'No API key is set yet.',
    'chat.openSettings': 'Open settings',
    'chat.you': 'You',
    'chat.assistant': 'Assistant',
    'chat.system': 'System',
    'chat.retry': 'Retry',
    'chat.retryTitle': 'Generate a new reply to this message',

    'composer.placeholder': 'Message Parley…',
    'composer.hint': 'Enter to send, Shift+Enter for a new line',
    'composer.label': 'Message',
    'composer.send': 'Send',
    'composer.stop': 'Stop',
    'composer.stopTitle': 'Stop generating (Esc)',

    'status.cancelled': 'Stopped',
    'status.interrupted': 'Interrupted',
    'status.error': 'Error',
    'status.length': 'Reached the token limit',
    'stream.retrying': 'Retrying ({attempt})…',
    'stream.retryingMax': 'Retrying ({attempt}/{max})…',

    'meta.tokens': '{prompt} → {completion} tokens',
    'meta.ttft': 'TTFT {time}',
    'unit.ms': '{n} ms',
    'unit.s': '{n} s',

    'convSettings.title': 'Conversation settings',
    'convSettings.systemPrompt': 'System prompt',
    'convSettings.systemPromptPlaceholder': 'Optional instructions for the assistant',
    'convSettings.model': 'Model',
    'convSettings.modelPlaceholder': 'Default: {model}',
    'convSettings.modelPlaceholderNone': 'Default model',
    'convSettings.temperature': 'Temperature',
    'convSettings.maxTokens': 'Max tokens',
    'convSettings.default': 'Default',
    'convSettings.saved': 'Saved',
    'convSettings.saving': 'Saving…',
    'convSettings.tempRange': 'Temperature must be a number from 0 to 2.',
    'convSettings.maxTokensRange': 'Max tokens must be a whole number from 1 to 1,000,000.',
    'convSettings.topP': 'Top p',
    'convSettings.frequencyPenalty': 'Frequency penalty',
    'convSettings.presencePenalty': 'Presence penalty',
    'convSettings.seed': 'Seed',
    'convSettings.none': 'None',
    'convSettings.stop': 'Stop sequences',
    'convSettings.stopPlaceholder': 'One per line, up to 4 (\\n for a line break)',
    'convSettings.range': '{name} must be a number from {min} to {max}.',
    'convSettings.rangeInt': '{name} must be a whole number from {min} to {max}.',
    'convSettings.seedInt': 'Seed must be a whole number.',
    'convSettings.stopTooMany': 'At most {max} stop sequences.',

    'settings.title': 'Settings',
    'settings.connection': 'Connection',
    'settings.baseUrl': 'Base URL',
    'settings.effective': 'In use: {url}',
    'settings.defaultModel': 'Default model',
    'settings.defaultModelPlaceholder': 'e.g. gpt-4o-mini',
    'settings.loadModels': 'Load models',
    'settings.loadingModels': 'Loading…',
    'settings.modelsLoaded': '{count} models loaded.',
    'settings.noModels': 'The server listed no models — type the model name.',
    'settings.save': 'Save',
    'settings.saved': 'Saved.',
    'settings.apiKey': 'API key',
    'settings.keyPlaceholder': 'Paste a new key',
    'settings.keyKeyring': 'A key is stored in your system keyring.',
    'settings.keyEnv': 'Using the key from the OPENAI_API_KEY environment variable.',
    'settings.keyNone': 'No API key is set.',
    'settings.keyHeldFor': 'A stored key belongs to {origin} and is not sent to this server; save a key for it.',
    'settings.saveKey': 'Save key',
    'settings.replaceKey': 'Replace key',
    'settings.clearKey': 'Remove key',
    'settings.confirmClear': 'Remove the API key from the system keyring?',
    'settings.keyEmpty': 'Enter a key first.',
    'settings.keySaved': 'Key saved.',
    'settings.keyCleared': 'Key removed.',
    'settings.keyNote': 'The key is stored only in your system keyring and is sent only to the server it was saved for.',
    'settings.language': 'Language',
    'settings.close': 'Close',
    'settings.about': 'Parley {version} · data in {dir}',

    'common.dismiss': 'Dismiss',
    'error.noTauri': 'The Parley back end is not available.',
    'error.unknown': 'Something went wrong.',

    // Reply rendering and links (render.js, links.js)
    'render.code': 'text',
    'render.copy': 'Copy',
    'render.copyTitle': 'Copy the code',
    'render.copied': 'Copied',
    'render.copyFailed': 'Copy failed',
    'render.imageNotLoaded': 'Image not loaded: {alt}',
    'link.confirmTitle': 'Open this link?',
    'link.confirmMessage': 'It opens in your web browser:',
    'link.confirmMail': 'It opens in your mail program:',
    'link.idnNote': 'The site name contains non-Latin letters; it is shown as the browser will look it up ({host}).',
    'link.open': 'Open',
    'link.cancel': 'Cancel',
    'link.close': 'Close',
    'link.refusedTitle': 'Link not opened',
    'link.failedTitle': 'Could not open the link',
  },
  'zh-CN': {
    'app.name': 'Parley',
    'lang.en': 'English',
    'lang.zh-CN': '简体中文',

    'sidebar.newChat': '新对话',
    'sidebar.newChatTitle': '新对话 (Ctrl+N)',
    'sidebar.listLabel': '对话列表',
    'sidebar.empty': '还没有对话。点击“新对话”开始吧。',
    'sidebar.settings': '设置',
    'sidebar.rename': '重命名对话',
    'sidebar.delete': '删除对话',
    'sidebar.renameInput': '新标题',
    'conv.untitled': '新对话',
    'conv.deleted': '对话已删除',
    'conv.undo': '撤销',

    'chat.toggleSettings': '对话设置',
    'chat.messagesLabel': '消息',
    'chat.welcomeTitle': '开始对话',
    'chat.welcomeHint': '在下方输入消息，或按 Ctrl+N 新建对话。',
    'chat.emptyTitle': '这里还没有内容',
    'chat.emptyHint': '发送一条消息来开始对话。',
    'chat.noKey': '尚未设置 API 密钥。',
    'chat.openSettings': '打开设置',
    'chat.you': '你',
    'chat.assistant': '助手',
    'chat.system': '系统',
    'chat.retry': '重试',
    'chat.retryTitle': '为这条消息重新生成回复',

    'composer.placeholder': '输入消息…',
    'composer.hint': 'Enter 发送，Shift+Enter 换行',
    'composer.label': '消息',
    'composer.send': '发送',
    'composer.stop': '停止',
    'composer.stopTitle': '停止生成 (Esc)',

    'status.cancelled': '已停止',
    'status.interrupted': '已中断',
    'status.error': '错误',
    'status.length': '已达到 token 上限',
    'stream.retrying': '正在重试（{attempt}）…',
    'stream.retryingMax': '正在重试（{attempt}/{max}）…',

    'meta.tokens': '{prompt} → {completion} tokens',
    'meta.ttft': '首字 {time}',
    'unit.ms': '{n} 毫秒',
    'unit.s': '{n} 秒',

    'convSettings.title': '对话设置',
    'convSettings.systemPrompt': '系统提示词',
    'convSettings.systemPromptPlaceholder': '给助手的可选指令',
    'convSettings.model': '模型',
    'convSettings.modelPlaceholder': '默认：{model}',
    'convSettings.modelPlaceholderNone': '默认模型',
    'convSettings.temperature': '温度',
    'convSettings.maxTokens': '最大 tokens',
    'convSettings.default': '默认',
    'convSettings.saved': '已保存',
    'convSettings.saving': '保存中…',
    'convSettings.tempRange': '温度必须是 0 到 2 之间的数字。',
    'convSettings.maxTokensRange': '最大 tokens 必须是 1 到 1,000,000 之间的整数。',
    'convSettings.topP': 'Top p',
    'convSettings.frequencyPenalty': '频率惩罚',
    'convSettings.presencePenalty': '存在惩罚',
    'convSettings.seed': '随机种子',
    'convSettings.none': '无',
    'convSettings.stop': '停止序列',
    'convSettings.stopPlaceholder': '每行一个，最多 4 个（\\n 表示换行）',
    'convSettings.range': '{name}必须是 {min} 到 {max} 之间的数字。',
    'convSettings.rangeInt': '{name}必须是 {min} 到 {max} 之间的整数。',
    'convSettings.seedInt': '随机种子必须是整数。',
    'convSettings.stopTooMany': '停止序列最多 {max} 个。',

    'settings.title': '设置',
    'settings.connection': '连接',
    'settings.baseUrl': 'Base URL',
    'settings.effective': '当前使用：{url}',
    'settings.defaultModel': '默认模型',
    'settings.defaultModelPlaceholder': '例如 gpt-4o-mini',
    'settings.loadModels': '加载模型',
    'settings.loadingModels': '加载中…',
    'settings.modelsLoaded': '已加载 {count} 个模型。',
    'settings.noModels': '服务器没有列出模型——请手动输入模型名称。',
    'settings.save': '保存',
    'settings.saved': '已保存。',
    'settings.apiKey': 'API 密钥',
    'settings.keyPlaceholder': '粘贴新的密钥',
    'settings.keyKeyring': '密钥已保存在系统钥匙串中。',
    'settings.keyEnv': '正在使用环境变量 OPENAI_API_KEY 中的密钥。',
    'settings.keyNone': '尚未设置 API 密钥。',
    'settings.keyHeldFor': '已保存的密钥属于 {origin}，不会发送到当前服务器；请为它保存一个密钥。',
    'settings.saveKey': '保存密钥',
    'settings.replaceKey': '替换密钥',
    'settings.clearKey': '移除密钥',
    'settings.confirmClear': '要从系统钥匙串中移除 API 密钥吗？',
    'settings.keyEmpty': '请先输入密钥。',
    'settings.keySaved': '密钥已保存。',
    'settings.keyCleared': '密钥已移除。',
    'settings.keyNote': '密钥只保存在你的系统钥匙串中，并且只发送给保存时对应的服务器。',
    'settings.language': '语言',
    'settings.close': '关闭',
    'settings.about': 'Parley {version} · 数据目录 {dir}',

    'common.dismiss': '关闭',
    'error.noTauri': 'Parley 后端不可用。',
    'error.unknown': '出了点问题。',
    'error.kind.unauthorized': 'API 密钥被拒绝',
    'error.kind.model_not_found': '找不到该模型',
    'error.kind.rate_limited': '请求过于频繁（已限流）',
    'error.kind.context_too_long': '对话超出模型的上下文长度',
    'error.kind.bad_request': '服务器拒绝了请求',
    'error.kind.server': '服务器出错',
    'error.kind.network': '无法连接到服务器',
    'error.kind.timeout': '服务器无响应',
    'error.kind.stream': '回复流中断',
    'error.kind.cancelled': '已停止',
    'error.kind.no_key': '尚未设置 API 密钥',
    'error.kind.keyring': '系统密钥环不可用',
    'error.kind.database': '数据库出错',
    'error.kind.invalid': '输入无效',
    'error.kind.not_found': '未找到',
    'error.kind.io': '文件读写出错',
    'error.kind.interrupted': 'Parley 在回复完成前退出',

    // Reply rendering and links (render.js, links.js)
    'render.code': '文本',
    'render.copy': '复制',
    'render.copyTitle': '复制代码',
    'render.copied': '已复制',
    'render.copyFailed': '复制失败',
    'render.imageNotLoaded': '图片未加载：{alt}',
    'link.confirmTitle': '打开此链接？',
    'link.confirmMessage': '将在网页浏览器中打开：',
    'link.confirmMail': '将在邮件程序中打开：',
    'link.idnNote': '网站名称包含非拉丁字母；这里显示的是浏览器实际查询的形式（{host}）。',
    'link.open': '打开',
    'link.cancel': '取消',
    'link.close': '关闭',
    'link.refusedTitle': '未打开链接',
    'link.failedTitle': '无法打开链接',
  },
};

export const LANGUAGES = ['en', 'zh-CN'];

function pickInitial() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* storage unavailable */ }
  if (saved && STRINGS[saved]) return saved;
  const nav = (navigator.language || 'en').toLowerCase();
  return nav.startsWith('zh') ? 'zh-CN' : 'en';
}

let current = pickInitial();
const listeners = new Set();

export function getLang() { return current; }

export function setLang(lang) {
  if (!STRINGS[lang] || lang === current) return;
  current = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* ignore */ }
  applyI18n(document);
  for (const fn of listeners) fn(lang);
}

/** Register a callback run after the language changes (re-render dynamic text). */
export function onLangChange(fn) { listeners.add(fn); }

/** True when the current language has its own text for `key` (no English fallback). */
export function hasOwn(key) {
  const table = STRINGS[current] || STRINGS.en;
  return Object.prototype.hasOwnProperty.call(table, key);
}

export function t(key, vars) {
  const table = STRINGS[current] || STRINGS.en;
  let s = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
  if (s === undefined) return key;
  if (vars) {
    s = s.replace(/\{(\w+)\}/g, (m, name) =>
      (Object.prototype.hasOwnProperty.call(vars, name) && vars[name] != null ? String(vars[name]) : m));
  }
  return s;
}

/** Translate static markup: data-i18n (text), -placeholder, -title, -aria-label. */
export function applyI18n(root = document) {
  if (root === document) document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.setAttribute('placeholder', t(el.dataset.i18nPlaceholder));
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.setAttribute('title', t(el.dataset.i18nTitle));
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  }
}
