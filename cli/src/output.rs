//! The one place that writes to stdout and stderr. Results are rendered as
//! human text or as JSON from the same value; progress and hints always go
//! to stderr, flushed at once, so `--json` output stays parseable.
//!
//! `runcode mcp` runs the CLI itself for each tool call with
//! `RUNCODE_RESULT_FILE` set: the result or failure object then goes to that
//! file as JSON, so stdout carries only a command's own bytes (what `exec`
//! ran, what `get` fetched) and the two never mix (docs/mcp.md). With
//! `RUNCODE_PROGRESS_FILE` set, progress lines are appended to that file
//! instead of stderr, so stderr too is only the command's own.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

use crate::error::Error;

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

/// The variable that sends the result object to a file (see above).
pub const RESULT_FILE_VAR: &str = "RUNCODE_RESULT_FILE";

/// The variable that sends progress lines to a file (see above).
pub const PROGRESS_FILE_VAR: &str = "RUNCODE_PROGRESS_FILE";

fn progress_file() -> Option<&'static PathBuf> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    path_from(&FILE, PROGRESS_FILE_VAR)
}

fn result_file() -> Option<&'static PathBuf> {
    static FILE: OnceLock<Option<PathBuf>> = OnceLock::new();
    path_from(&FILE, RESULT_FILE_VAR)
}

/// The path in `var` (unset or empty: none), read once into `cell`.
fn path_from(cell: &'static OnceLock<Option<PathBuf>>, var: &str) -> Option<&'static PathBuf> {
    cell.get_or_init(|| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .as_ref()
}

/// What a command has told of itself so far (`Output::details`), merged
/// into its result or failure object.
fn details() -> &'static std::sync::Mutex<Option<Value>> {
    static DETAILS: OnceLock<std::sync::Mutex<Option<Value>>> = OnceLock::new();
    DETAILS.get_or_init(|| std::sync::Mutex::new(None))
}

/// `value` with the details' fields it lacks added.
fn with_details(mut value: Value) -> Value {
    let held = details().lock().ok().and_then(|d| d.clone());
    if let (Some(Value::Object(held)), Value::Object(fields)) = (held, &mut value) {
        for (k, v) in held {
            fields.entry(k).or_insert(v);
        }
    }
    value
}

/// Writes `value` to the result file when one is set; true if it did.
fn to_result_file(value: &Value) -> bool {
    let Some(path) = result_file() else {
        return false;
    };
    let _ = std::fs::write(path, format!("{value}\n"));
    true
}

impl Output {
    /// A command's result: `value` under `--json`, else `human`.
    pub fn result(&self, value: &Value, human: &str) {
        let value = &with_details(value.clone());
        if to_result_file(value) {
            return;
        }
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

    /// One event of a command that reports as it goes (`forward --auto`):
    /// one line on stdout, `value` under `--json` (JSON lines), else `human`.
    pub fn event(&self, value: &Value, human: &str) {
        let mut out = std::io::stdout().lock();
        let written = if self.json {
            writeln!(out, "{value}")
        } else {
            writeln!(out, "{human}")
        };
        let _ = written.and_then(|()| out.flush());
    }

    /// Asks `question` on stderr and reads the answer from stdin: whether
    /// it was yes (`y`, `Y` or `yes`). The caller makes sure stdin is a
    /// terminal.
    pub fn confirm(&self, question: &str) -> bool {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{question} [y/N] ");
        let _ = err.flush();
        drop(err);
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        matches!(answer.trim(), "y" | "Y" | "yes")
    }

    /// Whether progress lines go to `RUNCODE_PROGRESS_FILE` (under
    /// `runcode mcp`).
    pub fn progress_to_file(&self) -> bool {
        progress_file().is_some()
    }

    /// A progress line or hint, on stderr, flushed.
    pub fn progress(&self, line: &str) {
        if let Some(path) = progress_file() {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| writeln!(f, "{line}"));
            if appended.is_ok() {
                return;
            }
        }
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
        let _ = err.flush();
    }

    /// Facts a command that streams a run's bytes (`exec`, `attach`) has
    /// no result line for: they go to the result file at once when there
    /// is one (its stdout is the run's own), and into its failure object
    /// if it fails.
    pub fn details(&self, value: Value) {
        to_result_file(&value);
        if let Ok(mut held) = details().lock() {
            *held = Some(value);
        }
    }

    pub fn warn(&self, line: &str) {
        self.progress(&format!("runcode: warning: {line}"));
    }

    /// A failure: one JSON object on stdout under `--json`, else one line on
    /// stderr.
    pub fn failure(&self, err: &Error) {
        let value = with_details(err.to_json());
        if to_result_file(&value) {
            return;
        }
        let message = value["message"].as_str().unwrap_or_default();
        if self.json {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{value}");
            let _ = out.flush();
        } else {
            self.progress(&format!("runcode: {message}"));
        }
    }
}
