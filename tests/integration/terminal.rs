//! What `parley` prints on a terminal (SECURITY.md T1), through a real pseudo-terminal (util-linux
//! `script`): model and server text carrying escape sequences (an OSC 52 clipboard write, a screen
//! clear, a window title) shows them escaped in every printer — search hits, the conversation
//! list, a Markdown export, streamed reasoning — while into a pipe the bytes stay exact.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::cli::{ask, assert_succeeded, parley};
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

const HOSTILE: &str = "zebra \x1b]52;c;ZXZpbA==\x07 \x1b[2J \x1b]0;pwned\x07 \u{9b}31m end";

/// Runs `parley ARGS` (with the environment `parley(dir)` gives it, and `server`'s address) on a
/// pseudo-terminal; what the terminal was sent, and the exit code.
fn on_terminal(dir: &Path, server: &FakeOpenAi, args: &[&str]) -> (String, Option<i32>) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = quote(&crate::bins::parley().to_string_lossy());
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let template = parley(dir);
    let mut cmd = Command::new("script");
    for (k, v) in template.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let out = cmd
        .env("OPENAI_BASE_URL", server.base_url())
        .env("OPENAI_API_KEY", "sk-terminal-test")
        .env("SHELL", "/bin/sh")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

fn assert_escaped(what: &str, shown: &str) {
    assert!(
        !shown.contains('\x1b') && !shown.contains('\x07') && !shown.contains('\u{9b}'),
        "{what}: a raw control character reached the terminal: {shown:?}"
    );
    assert!(
        shown.contains(r"\x1b]52;c;ZXZpbA==\x07"),
        "{what}: the sequence is shown, escaped: {shown:?}"
    );
}

#[test]
fn every_printer_escapes_model_text_on_a_terminal_and_a_pipe_gets_the_bytes() {
    let dir = tempdir();
    let server = FakeOpenAi::start();
    // The echo model stores the hostile text as the reply (and the question), through a pipe.
    let out = ask(dir.path(), &server, &["--model", "test-model", HOSTILE]);
    assert_succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));

    let (shown, code) = on_terminal(dir.path(), &server, &["search", "zebra"]);
    assert_eq!(code, Some(0), "{shown}");
    assert_escaped("parley search", &shown);
    let (shown, code) = on_terminal(dir.path(), &server, &["conversations", "list"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(
        !shown.contains('\x1b'),
        "parley conversations list: {shown:?}"
    );
    // JSON escapes C0 controls, not U+009B: the terminal gets it escaped all the same.
    for args in [
        &["search", "zebra", "--json"][..],
        &["conversations", "list", "--json"],
    ] {
        let (shown, code) = on_terminal(dir.path(), &server, args);
        assert_eq!(code, Some(0), "{shown}");
        assert!(!shown.contains('\u{9b}'), "{args:?}: {shown:?}");
    }
    let (shown, _) = on_terminal(dir.path(), &server, &["search", "zebra", "--json"]);
    assert!(
        shown.contains(r"\u{9b}"),
        "the snippet's U+009B, escaped: {shown:?}"
    );
    let (shown, code) = on_terminal(dir.path(), &server, &["export", "--all", "--format", "md"]);
    assert_eq!(code, Some(0), "{shown}");
    assert_escaped("parley export", &shown);
    // Reasoning streams to stderr as it comes; the answer to stdout.
    let (shown, code) = on_terminal(
        dir.path(),
        &server,
        &["ask", "--model", "test-think-echo", "--reasoning", HOSTILE],
    );
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("I should echo it."), "{shown}");
    assert_escaped("parley ask --reasoning", &shown);

    // A suite's progress line is redrawn in place with the terminal's own codes, never shown as
    // their escaped text.
    let cfg = dir.path().join("suite.yaml");
    std::fs::write(
        &cfg,
        "prompts: ['{{q}}']\nproviders: [openai:chat:test-model]\ntests:\n  - vars: {q: one}\n    assert: [{type: contains, value: one}]\n",
    )
    .unwrap();
    let (shown, code) = on_terminal(dir.path(), &server, &["eval", "run", cfg.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("[1/1] 1 passed"), "{shown:?}");
    assert!(!shown.contains(r"\x1b[2K"), "{shown:?}");

    // Into a pipe, exactly the stored bytes.
    let out = parley(dir.path())
        .args(["search", "zebra"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\x1b]52;c;ZXZpbA==\x07"));
}
