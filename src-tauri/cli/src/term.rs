//! What reaches a terminal (SECURITY.md T1): model and server text may carry escape sequences
//! (OSC 52 clipboard writes, screen clears, window titles, OSC 8 links). On a terminal every
//! control character except newline and tab is shown escaped (`\x1b`, `\u{9b}`, `\r`…), and so are
//! the bidirectional overrides; into a pipe or a file the bytes stay exact. Every printer of the
//! CLI goes through `out` / `err` (the `outln!`, `errln!`, `errp!` and `woutln!` macros).

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::OnceLock;

fn stdout_tty() -> bool {
    static TTY: OnceLock<bool> = OnceLock::new();
    *TTY.get_or_init(|| std::io::stdout().is_terminal())
}

fn stderr_tty() -> bool {
    static TTY: OnceLock<bool> = OnceLock::new();
    *TTY.get_or_init(|| std::io::stderr().is_terminal())
}

fn dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Shows control characters as visible escapes; other text is unchanged.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(dangerous) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && dangerous(c) => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if dangerous(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Text for stdout: escaped on a terminal, exact otherwise.
pub fn out(text: &str) -> Cow<'_, str> {
    if stdout_tty() {
        escape(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// Text for stderr: escaped on a terminal, exact otherwise.
pub fn err(text: &str) -> Cow<'_, str> {
    if stderr_tty() {
        escape(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// `println!` through [`out`].
macro_rules! outln {
    ($($arg:tt)*) => {
        println!("{}", $crate::term::out(&format!($($arg)*)))
    };
}

/// `eprintln!` through [`err`].
macro_rules! errln {
    () => {
        eprintln!()
    };
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::term::err(&format!($($arg)*)))
    };
}

/// `eprint!` through [`err`].
macro_rules! errp {
    ($($arg:tt)*) => {
        eprint!("{}", $crate::term::err(&format!($($arg)*)))
    };
}

/// `writeln!(stdout, …)` through [`out`].
macro_rules! woutln {
    ($w:expr, $($arg:tt)*) => {
        writeln!($w, "{}", $crate::term::out(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_make_every_control_sequence_visible_and_keep_plain_text() {
        let hostile = "hi\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b]0;title\x07\x1b]8;;https://evil\x1b\\x\u{9b}31m\rover\u{202E}txt\n\tok 你好";
        let shown = escape(hostile);
        assert!(!shown.chars().any(dangerous), "{shown}");
        assert_eq!(
            shown,
            "hi\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J\\x1b]0;title\\x07\\x1b]8;;https://evil\\x1b\\x\\u{9b}31m\\rover\\u{202e}txt\n\tok 你好"
        );
        assert!(matches!(escape("plain\ntext\t你好"), Cow::Borrowed(_)));
    }
}
