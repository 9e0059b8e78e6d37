//! Golden files for what `parley` prints (bat's snapshot habit): tables and lines are compared
//! byte for byte with `tests/golden/cli/NAME.txt`. After an intended change, rerun with
//! `PARLEY_BLESS=1 tests/run.sh --test integration cli_golden` and review the diff of the files.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::cli::{assert_succeeded, parley};
use crate::common::tempdir;
use crate::fake_openai::FakeOpenAi;

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/cli")
        .join(format!("{name}.txt"))
}

/// Compares `actual` with the golden file `name` (or writes it when PARLEY_BLESS is set).
fn golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("PARLEY_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no golden file {}; run with PARLEY_BLESS=1", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (PARLEY_BLESS=1 rewrites it)",
        path.display()
    );
}

fn stdout(out: &Output) -> String {
    assert_succeeded(out);
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `parley` over `dir` with a keyring service of its own (so "no key stored" is what it finds).
fn cmd(dir: &Path) -> std::process::Command {
    let mut c = parley(dir);
    c.env(
        "PARLEY_KEYRING_SERVICE",
        format!("parley-golden-{}-{}", std::process::id(), dir.display()),
    );
    c
}

#[test]
fn profiles_list_prints_one_tab_separated_line_per_profile() {
    let dir = tempdir();
    let run = |args: &[&str]| cmd(dir.path()).args(args).output().unwrap();
    assert_succeeded(&run(&[
        "profiles",
        "add",
        "local",
        "--kind",
        "compatible",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m1",
    ]));
    assert_succeeded(&run(&[
        "profiles",
        "add",
        "az",
        "--kind",
        "azure",
        "--base-url",
        "https://x.openai.azure.com",
        "--deployment",
        "d",
    ]));
    golden("profiles-list", &stdout(&run(&["profiles", "list"])));
}

#[test]
fn prompts_list_and_show_print_the_library() {
    let dir = tempdir();
    let csv = dir.path().join("prompts.csv");
    std::fs::write(
        &csv,
        "act,prompt\n\"English Translator\",\"Translate {{text}} into {{lang:choice(English, French)=English}}\"\nPoet,\"A poem about {{topic}}\"\n",
    )
    .unwrap();
    let out = cmd(dir.path())
        .args(["prompts", "import"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_succeeded(&out);
    let list = stdout(&cmd(dir.path()).args(["prompts", "list"]).output().unwrap());
    golden("prompts-list", &list);
    let show = stdout(
        &cmd(dir.path())
            .args(["prompts", "show", "english-translator", "--versions"])
            .output()
            .unwrap(),
    );
    golden("prompts-show", &show);
}

#[test]
fn rubrics_list_shows_the_default_rubrics() {
    let dir = tempdir();
    golden(
        "rubrics-list",
        &stdout(&cmd(dir.path()).args(["rubrics", "list"]).output().unwrap()),
    );
}

#[test]
fn ask_with_several_choices_prints_each_under_its_header() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let out = cmd(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--model", "test-model", "--n", "2", "Say hi"])
        .output()
        .unwrap();
    golden("ask-n2", &stdout(&out));
}

#[test]
fn judge_prints_one_line_per_verdict() {
    let server = FakeOpenAi::start();
    let dir = tempdir();
    let out = cmd(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["ask", "--model", "test-model", "What is 2+2?"])
        .output()
        .unwrap();
    assert_succeeded(&out);
    // The first conversation's reply is message 2.
    let out = cmd(dir.path())
        .env("OPENAI_BASE_URL", server.base_url())
        .args(["judge", "2", "--judge-model", "test-judge"])
        .output()
        .unwrap();
    golden("judge-single", &stdout(&out));
}

#[test]
fn eval_help_shows_its_commands_and_run_flags() {
    let dir = tempdir();
    let help = |args: &[&str]| stdout(&cmd(dir.path()).args(args).output().unwrap());
    golden("eval-help", &help(&["eval", "--help"]));
    golden("eval-run-help", &help(&["eval", "run", "--help"]));
}
