//! Integration tests: the real client against a local OpenAI-compatible server on 127.0.0.1, the chat
//! service on a real SQLite file, the `parley` binary headless, the real keyring, and IPC through
//! Tauri's mock runtime. One test binary keeps link time down.

#[path = "../support/bins.rs"]
mod bins;
#[path = "../support/fake_hostile.rs"]
mod fake_hostile;
#[path = "../support/fake_openai.rs"]
mod fake_openai;
#[path = "../support/forward_proxy.rs"]
mod forward_proxy;

mod architecture;
mod ask_path;
mod background;
mod chat_complete;
mod chat_service;
mod cli;
mod cli_features;
mod cli_golden;
mod client;
mod common;
mod conformance;
mod crashes;
mod faults;
mod i18n;
mod images;
mod ipc;
mod ipc_consent;
mod ipc_images;
mod judge;
mod judge_headless;
mod judge_window;
mod key_binding;
mod key_scan;
mod keyring;
mod logprobs;
mod loopback;
mod organise;
mod probing;
mod providers;
mod rating;
mod reasoning;
mod responses;
mod search;
mod security;
mod startup;
mod storage_faults;
mod structured;
mod suite_library;
mod suite_runs;
mod suites;
mod suites_ci;
mod terminal;
mod token_branch;
mod tools;
