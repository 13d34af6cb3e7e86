//! Progress of a long transfer (`put`, `get`, `write`): bytes, rate and an
//! estimate, drawn by indicatif on stderr while stderr is a terminal, once
//! the transfer has taken a second. Never under `--json`, never when stderr
//! is not a terminal, so stdout stays exactly the data. Under `runcode mcp`
//! (its progress file set) the same news goes out as a progress line a
//! second, which the server turns into progress notifications.

use std::io::{IsTerminal, Read, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output::Output;

/// How long a transfer runs before it shows progress; also the interval
/// of progress lines (`tuning::PROGRESS_AFTER`, 1 s).
fn quiet_for() -> Duration {
    crate::tuning::PROGRESS_AFTER.get()
}

enum Sink {
    /// A bar on the terminal, made once `quiet_for()` has passed.
    Terminal(Option<ProgressBar>),
    /// Lines to the MCP server's progress file.
    Lines(Output, Option<Instant>),
}

/// The progress of one transfer.
pub struct Meter {
    sink: Sink,
    verb: &'static str,
    total: Option<u64>,
    files: Option<u64>,
    done: u64,
    began: Instant,
    quiet: Duration,
}

impl Meter {
    /// A meter for `total` bytes (unknown: `None`) of `files` files (a
    /// tree), or none when nobody would see it.
    pub fn new(
        out: Output,
        verb: &'static str,
        total: Option<u64>,
        files: Option<u64>,
    ) -> Option<Meter> {
        let sink = if out.progress_to_file() {
            Sink::Lines(out, None)
        } else if !out.json && std::io::stderr().is_terminal() {
            Sink::Terminal(None)
        } else {
            return None;
        };
        Some(Meter {
            sink,
            verb,
            total,
            files,
            done: 0,
            began: Instant::now(),
            quiet: quiet_for(),
        })
    }

    /// `n` more bytes went through.
    pub fn add(&mut self, n: u64) {
        self.done += n;
        if self.began.elapsed() < self.quiet {
            return;
        }
        match &mut self.sink {
            Sink::Terminal(bar) => {
                let bar = bar.get_or_insert_with(|| {
                    let bar = ProgressBar::with_draw_target(
                        self.total,
                        ProgressDrawTarget::stderr_with_hz(10),
                    );
                    let files = self.files.map(|f| format!(" ({f} files)")).unwrap_or_default();
                    let template = if self.total.is_some() {
                        format!("{{msg}}{files} [{{wide_bar}}] {{bytes}}/{{total_bytes}} {{binary_bytes_per_sec}} eta {{eta}}")
                    } else {
                        format!("{{msg}}{files} {{bytes}} {{binary_bytes_per_sec}}")
                    };
                    if let Ok(style) = ProgressStyle::with_template(&template) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_message(self.verb);
                    bar
                });
                bar.set_position(self.done);
            }
            Sink::Lines(out, last) => {
                let every = self.quiet.max(Duration::from_millis(250));
                if last.is_none_or(|t| t.elapsed() >= every) {
                    *last = Some(Instant::now());
                    out.progress(&line(
                        self.verb,
                        self.done,
                        self.total,
                        self.began.elapsed(),
                    ));
                }
            }
        }
    }

    /// The transfer ended: the bar goes, leaving the terminal as it was.
    pub fn finish(&mut self) {
        if let Sink::Terminal(Some(bar)) = &self.sink {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Meter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// `runcode: sent 12.0 MiB of 64.0 MiB (6.0 MiB/s)`.
#[allow(clippy::cast_precision_loss)]
fn line(verb: &str, done: u64, total: Option<u64>, took: Duration) -> String {
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let rate = mib(done) / took.as_secs_f64().max(0.001);
    match total {
        Some(t) => format!(
            "runcode: {verb} {:.1} MiB of {:.1} MiB ({rate:.1} MiB/s)",
            mib(done),
            mib(t)
        ),
        None => format!("runcode: {verb} {:.1} MiB ({rate:.1} MiB/s)", mib(done)),
    }
}

/// A reader that tells its meter what went through.
pub struct Reading<'m, R> {
    pub inner: R,
    pub meter: Option<&'m mut Meter>,
}

impl<R: Read> Read for Reading<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(m) = self.meter.as_deref_mut() {
            m.add(n as u64);
        }
        Ok(n)
    }
}

/// A writer that tells its meter what went through.
pub struct Writing<'m, W> {
    pub inner: W,
    pub meter: Option<&'m mut Meter>,
}

impl<W: Write> Write for Writing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(m) = self.meter.as_deref_mut() {
            m.add(n as u64);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_progress_line_says_bytes_and_rate() {
        let l = super::line(
            "sent",
            12 << 20,
            Some(64 << 20),
            std::time::Duration::from_secs(2),
        );
        assert_eq!(l, "runcode: sent 12.0 MiB of 64.0 MiB (6.0 MiB/s)");
        let l = super::line("received", 3 << 20, None, std::time::Duration::from_secs(1));
        assert_eq!(l, "runcode: received 3.0 MiB (3.0 MiB/s)");
    }
}
