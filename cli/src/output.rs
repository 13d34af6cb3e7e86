//! The one place that writes to stdout and stderr. Results are rendered as
//! human text or as JSON from the same value; progress and hints always go
//! to stderr, flushed at once, so `--json` output stays parseable.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;

use serde_json::Value;

use crate::error::Error;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    /// A command's result: `value` under `--json`, else `human`.
    pub fn result(&self, value: &Value, human: &str) {
        let mut out = std::io::stdout().lock();
        let written = if self.json {
            writeln!(out, "{value}")
        } else if human.is_empty() {
            Ok(())
        } else if human.ends_with('\n') {
            write!(out, "{human}")
        } else {
            writeln!(out, "{human}")
        };
        // A closed pipe (`runcode list | head`) is not an error worth a word.
        let _ = written.and_then(|()| out.flush());
    }

    /// A progress line or hint, on stderr, flushed.
    pub fn progress(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
    }

    pub fn warn(&self, line: &str) {
        self.progress(&format!("runcode: warning: {line}"));
    }

    /// A failure: one JSON object on stdout under `--json`, else one line on
    /// stderr.
    pub fn failure(&self, err: &Error) {
        let message = crate::text::clean(&err.to_string(), false);
        if self.json {
            let value = serde_json::json!({"error": err.code().as_str(), "message": message});
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        } else {
            self.progress(&format!("runcode: {message}"));
        }
    }
}
