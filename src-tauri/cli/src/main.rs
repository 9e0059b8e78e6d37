//! `parley`: the headless command (ask, arena, judge, prompts, …). Links no GTK or WebKit; with no
//! subcommand it opens the window by running `parley-desktop` from beside it.

fn main() {
    std::process::exit(parley_cli::main());
}
