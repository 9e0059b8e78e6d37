//! The window's parts as the end-to-end tests address them: every CSS selector is named here once,
//! grouped by the area of the page it belongs to.

/// The settings dialog: keys, profiles and their defaults.
pub mod settings {
    pub const OPEN: &str = "#open-settings";
    pub const CLOSE: &str = "#close-settings";
    pub const DIALOG: &str = "#settings-dialog";
    pub const SAVE: &str = "#save-settings";
    /// Its `data-source` says where the key comes from: none, env or keyring.
    pub const KEY_STATUS: &str = "#key-status";
    pub const API_KEY: &str = "#api-key";
    pub const SAVE_KEY: &str = "#save-key";
    pub const DEFAULT_MODEL: &str = "#default-model";
    pub const BASE_URL: &str = "#base-url";
    pub const PROFILES: &str = "#profile-list li.profile-item";
    pub const NEW_PROFILE_NAME: &str = "#new-profile-name";
    pub const NEW_PROFILE_KIND: &str = "#new-profile-kind";
    pub const ADD_PROFILE: &str = "#add-profile";
    pub const ADVANCED: &str = "#profile-advanced > summary";
    pub const DEFAULT_TEMPERATURE: &str = "#pd-temperature";
    pub const DEFAULT_SEED: &str = "#pd-seed";
}

/// The sidebar: conversations, notices and toasts.
pub mod sidebar {
    pub const NEW_CHAT: &str = "#new-chat";
    pub const CONVERSATIONS: &str = "#conversation-list li.conversation";
    pub const RENAME_ACTIVE: &str = "#conversation-list li.conversation.active button.rename";
    pub const RENAME_INPUT: &str = "#conversation-list .rename-input";
    pub const DELETE_ACTIVE: &str = "#conversation-list li.conversation.active button.delete";
    pub const TOAST_ACTION: &str = "#toasts .toast-action";
    pub const TOAST: &str = "#toasts .toast";
    /// The action button inside one toast.
    pub const TOAST_ACTION_IN: &str = ".toast-action";
    pub const BANNER_TEXT: &str = "#banners .banner .banner-text";
}

/// Search over every conversation (Ctrl+K, or the box in the sidebar).
pub mod search {
    pub const SIDEBAR_BOX: &str = "#sidebar-search";
    pub const DIALOG: &str = "#search-dialog";
    pub const INPUT: &str = "#search-input";
    pub const HITS: &str = "#search-results li.search-hit";
    pub const HIT_TITLES: &str = "#search-results .search-hit-title";
    pub const MARKS: &str = "#search-results li.search-hit mark";
    pub const STATUS: &str = "#search-status";
    pub const RATED_FILTER: &str = "#search-rated";
    /// The message a search opened, marked in the conversation.
    pub const TARGET_BODY: &str = "#messages .message.search-target .message-body";
}

/// The composer and its slash menu.
pub mod composer {
    pub const FIELD: &str = "#composer";
    pub const SEND: &str = "#send";
    pub const STOP: &str = "#stop";
    pub const SLASH_NAMES: &str = "#slash-list .slash-name";
}

/// The conversation's settings panel.
pub mod panel {
    pub const TOGGLE: &str = "#toggle-conv-settings";
    pub const PANEL: &str = "#conv-settings";
    pub const MODEL: &str = "#conv-model";
    pub const PROFILE: &str = "#conv-profile";
    pub const PROFILE_OPTIONS: &str = "#conv-profile option";
    pub const SYSTEM_PROMPT: &str = "#system-prompt";
    pub const TEMPERATURE: &str = "#conv-temperature";
    pub const MAX_TOKENS: &str = "#conv-max-tokens";
    pub const TOP_P: &str = "#conv-top-p";
    pub const FREQUENCY_PENALTY: &str = "#conv-frequency-penalty";
    pub const PRESENCE_PENALTY: &str = "#conv-presence-penalty";
    pub const SEED: &str = "#conv-seed";
    pub const STOP_SEQUENCES: &str = "#conv-stop";
    pub const N_CHOICES: &str = "#conv-n";
    pub const COMPARE_MODELS: &str = "#compare-models";
    pub const ENDPOINT: &str = "#endpoint";
    pub const TOTALS: &str = "#conv-totals";
}

/// The messages of the open conversation.
pub mod messages {
    pub const LAST_REPLY: &str = "#messages .message.assistant:last-of-type";
    pub const BODIES: &str = "#messages .message .message-body";
    pub const USERS: &str = "#messages .message.user";
    pub const USER_BODY: &str = "#messages .message.user .message-body";
    pub const RETRY: &str = "#messages .message.user button.retry";
    pub const EDIT: &str = "#messages .message.user button.edit";
    pub const EDIT_INPUT: &str = "#messages textarea.edit-input";
    pub const EDIT_SEND: &str = "#messages button.edit-send";
    pub const USER_BRANCH_POS: &str = "#messages .message.user .branch-pos";
    /// The button to the path's last message, shown while the view is away from it.
    pub const JUMP_LATEST: &str = "#jump-latest";
    pub const USER_BRANCH_PREV: &str = "#messages .message.user .branch-prev";
    pub const REGENERATE: &str = "#messages .message.assistant button.regenerate";
    pub const REPLY_BRANCH_POS: &str = "#messages .message.assistant .branch-pos";
    pub const REPLY_BRANCH_PREV: &str = "#messages .message.assistant .branch-prev";

    /// Parts of one message, for [`in_last_reply`].
    pub const BODY: &str = ".message-body";
    pub const META: &str = ".message-meta";
    pub const ERROR_BADGE: &str = ".status-badge.error";
    pub const CODE_COPY: &str = ".code-copy";

    /// `part` inside the last reply on screen.
    pub fn in_last_reply(part: &str) -> String {
        format!("{LAST_REPLY} {part}")
    }

    /// The link to exactly `href` in the last reply's text.
    pub fn link_in_last_reply(href: &str) -> String {
        in_last_reply(&format!("{BODY} a[href=\"{href}\"]"))
    }
}

/// Several replies to one message: n choices, or models side by side.
pub mod columns {
    pub const DONE: &str = ".reply-group .reply-column .message[data-status=done]";
    pub const CHOOSE: &str = ".reply-group .choose-reply";
    pub const CURRENT_LABEL: &str = ".reply-column.current .column-label";
    pub const LABELS: &str = ".reply-group .column-label";
    pub const FIRST_MESSAGE: &str = ".reply-column:first-child .message";
    pub const LAST_MESSAGE: &str = ".reply-column:last-child .message";
    pub const LAST_STOP: &str = ".reply-column:last-child .column-stop";
}

/// The dialog that asks before a link leaves the app.
pub mod link_dialog {
    pub const DIALOG: &str = "#link-dialog";
    pub const MESSAGE: &str = ".link-message";
    pub const URL: &str = ".link-url";
    pub const CANCEL: &str = "#link-dialog .link-cancel";
    pub const OPEN: &str = "#link-dialog .link-open";
}

/// Rating a reply, inside the reply (see [`super::messages::in_last_reply`]).
pub mod rating {
    pub const THUMB_UP: &str = ".rate-thumb[data-thumb='1']";
    pub const MORE: &str = ".rate-more";
    pub const TAGS: &str = ".rate-tags";
    pub const SAVE: &str = ".rate-save";

    /// The score button for `n` of 5.
    pub fn score(n: u8) -> String {
        format!(".rate-score[data-score='{n}']")
    }

    /// The chip for one of the preset reasons.
    pub fn reason(name: &str) -> String {
        format!(".chip[data-reason='{name}']")
    }
}

/// The arena, the leaderboard, ratings by model and rubrics.
pub mod arena {
    pub const OPEN: &str = "#open-arena";
    pub const AGREEMENT_CELLS: &str = "#agreement td";
    pub const POOL: &str = "#arena-pool";
    pub const PROMPT: &str = "#arena-prompt";
    pub const START: &str = "#arena-start";
    pub const SIDE_A: &str = "#arena-a";
    pub const SIDE_B: &str = "#arena-b";
    pub const VOTE: &str = ".arena-vote";
    pub const REVEAL: &str = "#arena-reveal";
    pub const LB_MODELS: &str = ".leaderboard .lb-model";
    pub const LB_BATTLES: &str = ".leaderboard .lb-battles";
    pub const WIN_MATRIX_CELLS: &str = "#win-matrix td";
    pub const RATINGS_VIEW: &str = "#ratings-view";
    pub const RATED_MODELS: &str = "#ratings-view .rv-model";
    pub const RATED_MEANS: &str = "#ratings-view .rv-mean";
    pub const EXPORT_CSV: &str = "#export-csv";
    pub const EXPORT_STATUS: &str = "#export-status";
    pub const RUBRIC_BODY: &str = "#rubric-body";
    pub const SAVE_RUBRIC: &str = "#save-rubric";
    pub const RUBRIC_STATUS: &str = "#rubric-status";

    /// The vote for `winner`: a, b or tie.
    pub fn vote(winner: &str) -> String {
        format!("{VOTE}[data-winner='{winner}']")
    }
}

/// The prompt library and the form that fills a prompt's variables.
pub mod prompts {
    pub const OPEN: &str = "#open-prompts";
    pub const CLOSE: &str = "#close-prompts";
    pub const NAME: &str = "#prompt-name";
    pub const TITLE: &str = "#prompt-title";
    pub const BODY: &str = "#prompt-body";
    pub const MESSAGE: &str = "#prompt-message";
    pub const SAVE: &str = "#prompt-save";
    pub const STATUS: &str = "#prompt-status";
    pub const HISTORY_ROWS: &str = "#prompt-history tbody tr";
    pub const VARS_DIALOG: &str = "#vars-dialog";
    pub const VARS_INSERT: &str = "#vars-insert";

    /// The form's field for variable `name`.
    pub fn var_input(name: &str) -> String {
        format!("#vars-fields .var-input[data-var='{name}']")
    }
}

/// Organising (issue 11): the folder tree, tag chips, row menus, the bulk bar, Settings → History.
pub mod organise {
    pub const NEW_FOLDER: &str = "#new-folder";
    pub const FOLDER_ROWS: &str = "#folder-panel .folder-row[data-kind='folder']";
    pub const ARCHIVED_VIEW: &str = "#folder-panel .folder-row[data-kind='archived']";
    pub const ALL_VIEW: &str = "#folder-panel .folder-row[data-kind='all']";
    pub const TAG_CHIPS: &str = "#folder-panel .tag-chip";
    pub const ASK_INPUT: &str = ".ask-dialog .text-input";
    pub const MENU_ITEMS: &str = ".org-menu .org-menu-item";
    pub const ROW_TAG_DOTS: &str = "#conversation-list li.conversation .tag-dot";
    pub const SELECT_TOGGLE: &str = "#select-toggle";
    pub const BULK_BAR: &str = "#bulk-bar";
    pub const BACKUP_ROWS: &str = "#backup-list .backup-row";
}

/// The Thinking block above a reply (issue 12).
pub mod thinking {
    pub const BLOCK: &str = "#messages .message.assistant:last-of-type details.thinking";
    pub const SUMMARY: &str =
        "#messages .message.assistant:last-of-type details.thinking > summary";
    pub const BODY: &str = "#messages .message.assistant:last-of-type .thinking-body";
}

/// The first-run welcome: servers found on this machine, OpenAI, another URL, then the models.
pub mod welcome {
    pub const SERVERS: &str = "#welcome-local-list .welcome-server";
    pub const MODELS: &str = "#welcome-model-list .welcome-model";
    pub const SUGGESTED_MODEL: &str = "#welcome-model-list .welcome-model.is-suggested";
    /// Under a "no model is chosen" error: one button per model of the server.
    pub const MODEL_CHOICE: &str = "#messages .model-choices .model-choice";
}

/// Window-wide settings and overlays: theme, shortcuts.
pub mod window {
    pub const THEME: &str = "#theme";
    pub const TOGGLE_SIDEBAR: &str = "#toggle-sidebar";
    pub const SHORTCUTS: &str = "#shortcuts-dialog";
    pub const SHORTCUT_KEYS: &str = "#shortcuts-list dt";
    pub const RATING_CONTROLS: &str =
        "#messages .rating .rate-thumb, #messages .rating .rate-score";
}

/// Replies running in several conversations at once.
pub mod streams {
    /// A conversation in the sidebar with a reply running.
    pub const BUSY: &str = "#conversation-list li.conversation.busy";
}

/// Feedback where the window was silent (branch win): notes above the composer, the arena badge
/// and filter in the sidebar, renaming a prompt.
pub mod feedback {
    pub const SYSTEM_NOTE: &str = "#composer-notes .inline-note[data-note='system']";
    pub const SYSTEM_NOTE_TEXT: &str =
        "#composer-notes .inline-note[data-note='system'] .note-text";
    pub const SYSTEM_APPLY: &str = "#composer-notes .inline-note[data-note='system'] .note-action";
    pub const BRANCH_NOTE_TEXT: &str =
        "#composer-notes .inline-note[data-note='branch'] .note-text";
    pub const BRANCH_BACK: &str = "#composer-notes .inline-note[data-note='branch'] .note-action";
    pub const ARENA_BADGES: &str = "#conversation-list li.conversation .arena-badge";
    pub const HIDE_ARENA: &str = "#hide-arena";
    pub const RATE_MORE: &str = ".rate-more";
    pub const RENAME_PROMPT: &str = "#prompt-rename";
    pub const PROMPT_LIST_NAMES: &str = "#prompt-list .prompt-item-name";
    pub const CLOSE_ARENA: &str = "#close-arena";
    pub const PROXY_LOCAL: &str = "#app-proxy-local";
    pub const SAVE_APP_PROXY: &str = "#save-app-proxy";
}

/// The judge's own control on a reply (inside it, see [`super::messages::in_last_reply`]), its
/// panel and verdicts; a group's Judge pair; the verdicts in the ratings view.
pub mod judge {
    pub const OPEN: &str = ".judge-open";
    pub const PANEL: &str = ".judge-panel.judge-single";
    pub const RUBRIC: &str = ".judge-panel .judge-rubric";
    pub const MODEL: &str = ".judge-panel .judge-model";
    pub const RUN: &str = ".judge-panel .judge-run";
    pub const STOP: &str = ".judge-panel .judge-stop";
    pub const STATUS: &str = ".judge-panel .judge-status";
    pub const VERDICTS: &str = ".reply-verdicts .verdict";
    pub const PAIR_OPEN: &str = ".pair-judge .judge-pair-open";
    pub const PAIR_MODEL: &str = ".pair-judge .judge-model";
    pub const PAIR_RUN: &str = ".pair-judge .judge-run";
    pub const PAIR_VERDICTS: &str = ".pair-judge .pair-verdicts .verdict";
    pub const ALL_VERDICTS: &str = "#verdicts-view .verdict";
}
