//! End to end in the real webview: the built `parley-desktop` binary under Xvfb, driven through
//! tauri-driver and WebKitWebDriver, talking to a local OpenAI-compatible server, with the key in
//! the real keyring. The fixture and the page's parts are shared; each other module is a feature.

#[path = "../support/fake_hostile.rs"]
mod fake_hostile;
#[path = "../support/fake_openai.rs"]
mod fake_openai;
#[path = "../support/history.rs"]
mod history;

mod fixture;
mod page;
mod procs;
mod steps;

mod arena_sidebar;
mod bench;
mod bench_history;
mod bench_session;
mod branches;
mod chat;
mod feedback;
mod first_run;
mod hostile;
mod hostile_seed;
mod hostile_steps;
mod images;
mod import;
mod judge;
mod long_history;
mod organise;
mod prompt_suites;
mod prompts;
mod providers;
mod rating;
mod reasoning;
mod rendering;
mod responses;
mod restore;
mod search;
mod session_bounds;
mod storage;
mod stream_tail;
mod streams;
mod structured;
mod suiteruns;
mod suites;
mod window;
