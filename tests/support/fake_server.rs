//! The fake OpenAI server as a program of its own, for the scripts that run installed or release
//! binaries (tests/bench.sh, tests/install.sh): prints its base URL on one line, serves on 127.0.0.1
//! until killed. `cargo run --example fake-openai [KEY]` (with KEY, requests must carry it).

/// The hostile corpus the fake server can serve (its routes name it from the crate root).
#[path = "fake_hostile.rs"]
#[allow(dead_code)]
mod fake_hostile;
#[path = "fake_openai.rs"]
mod fake_openai;

use std::io::Write;

fn main() {
    let server = match std::env::args().nth(1) {
        Some(key) => fake_openai::FakeOpenAi::start_with_key(&key),
        None => fake_openai::FakeOpenAi::start(),
    };
    println!("{}", server.base_url());
    std::io::stdout().flush().expect("stdout");
    loop {
        std::thread::park();
    }
}
