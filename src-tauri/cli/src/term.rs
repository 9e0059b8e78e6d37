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

/// Standard output as a writer for text streamed in pieces (an export): escaped as [`out`] does
/// on a terminal, exact into a pipe or a file. A character split between two writes waits for
/// its other bytes.
pub fn stdout_writer() -> Box<dyn std::io::Write> {
    let lock = std::io::BufWriter::new(std::io::stdout().lock());
    if stdout_tty() {
        Box::new(Escaping::new(lock))
    } else {
        Box::new(lock)
    }
}

/// A writer that shows control characters escaped ([`escape`]) on their way to `W`.
pub struct Escaping<W: std::io::Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: std::io::Write> Escaping<W> {
    pub fn new(inner: W) -> Self {
        Escaping {
            inner,
            pending: Vec::new(),
        }
    }

    fn pass(&mut self, upto: usize) -> std::io::Result<()> {
        let text = String::from_utf8_lossy(&self.pending[..upto]);
        self.inner.write_all(escape(&text).as_bytes())?;
        self.pending.drain(..upto);
        Ok(())
    }
}

impl<W: std::io::Write> std::io::Write for Escaping<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        let upto = match std::str::from_utf8(&self.pending) {
            // An unfinished character at the end waits; bytes that are not UTF-8 show as U+FFFD.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            _ => self.pending.len(),
        };
        self.pass(upto)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let all = self.pending.len();
        self.pass(all)?;
        self.inner.flush()
    }
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

    #[test]
    fn the_escaping_writer_escapes_across_pieces_and_keeps_split_characters() {
        use std::io::Write;
        let mut out = Vec::new();
        {
            let mut w = Escaping::new(&mut out);
            let text = "a\x1b]52;c;eA==\x07 你好\n";
            let bytes = text.as_bytes();
            // Every cut, one inside 你 (3 bytes) included.
            for piece in bytes.chunks(2) {
                w.write_all(piece).unwrap();
            }
            w.write_all(&[0xe5]).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a\\x1b]52;c;eA==\\x07 你好\n\u{fffd}"
        );
    }
}
