//! Everything the launcher says. Messages go to stderr only (stdout belongs to
//! the CLI it hands over to); the one exception is the JSON error an agent
//! asked for with `--json`.
#![allow(clippy::print_stderr, clippy::print_stdout)]

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Report {
    debug: bool,
}

impl Report {
    pub fn new(debug: bool) -> Self {
        Report { debug }
    }

    /// One decision, printed only under `RUNCODE_LAUNCHER_DEBUG=1`.
    pub fn debug(&self, args: std::fmt::Arguments<'_>) {
        if self.debug {
            eprintln!("runcode-launcher: {args}");
        }
    }

    pub fn say(&self, args: std::fmt::Arguments<'_>) {
        eprintln!("runcode: {args}");
    }

    /// A progress bar for a download, only when stderr is a terminal.
    pub fn progress_bar(&self, total: Option<u64>) -> Option<Bar> {
        std::io::stderr()
            .is_terminal()
            .then_some(Bar { total, last: None })
    }

    /// The launcher's own failure: one line on stderr, and with `--json` the
    /// same message as a JSON object on stdout.
    pub fn failure(&self, message: &str, json: bool) {
        eprintln!("runcode: {message}");
        if json {
            println!(
                "{{\"error\":\"launcher_failed\",\"message\":{}}}",
                json_string(message)
            );
        }
    }
}

pub struct Bar {
    total: Option<u64>,
    last: Option<Instant>,
}

impl Bar {
    pub fn update(&mut self, done: u64) {
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_millis(100))
        {
            return;
        }
        self.last = Some(Instant::now());
        Self::draw(done, self.total);
    }

    pub fn finish(&mut self) {
        if self.last.is_some() {
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn draw(done: u64, total: Option<u64>) {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        match total {
            Some(t) if t > 0 => {
                let width = 30;
                let filled = usize::try_from(done.min(t) * width / t).unwrap_or(0);
                let bar = format!("{}{}", "#".repeat(filled), " ".repeat(30 - filled));
                eprint!("\r  [{bar}] {:.1}/{:.1} MiB", mib(done), mib(t));
            }
            _ => eprint!("\r  {:.1} MiB", mib(done)),
        }
        let _ = std::io::stderr().flush();
    }
}

/// A JSON string literal for `s` (the launcher carries no JSON library).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_strings_escape_what_json_requires() {
        assert_eq!(
            super::json_string("a\"b\\c\n\u{1}é"),
            "\"a\\\"b\\\\c\\n\\u0001é\""
        );
    }
}
