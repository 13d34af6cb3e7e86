//! Fetching one URL into a sink: `file://` by reading the file, `http(s)://`
//! through ureq with our own redirect checks, proxies, timeouts and retries.

use std::io::{Read, Write};
use std::sync::OnceLock;
use std::time::Duration;

use ureq::tls::{Certificate, RootCerts, TlsConfig};

use crate::error::{Error, Result};
use crate::report::Report;
use crate::url;

const ATTEMPTS: u32 = 4;
const MAX_REDIRECTS: u32 = 10;
const MAX_RETRY_AFTER: u64 = 30;

/// Where fetched bytes go. `reset` starts over before a retry, so a body cut
/// half way never mixes with the next attempt's bytes.
pub trait Sink: Write {
    fn reset(&mut self) -> std::io::Result<()>;
}

impl Sink for Vec<u8> {
    fn reset(&mut self) -> std::io::Result<()> {
        self.clear();
        Ok(())
    }
}

/// A failure of one attempt, and whether another attempt may help.
enum Attempt {
    Retry(Error, Option<Duration>),
    Fail(Error),
}

pub struct Fetcher<'a> {
    report: &'a Report,
    roots: OnceLock<RootCerts>,
}

impl<'a> Fetcher<'a> {
    pub fn new(report: &'a Report) -> Self {
        Fetcher {
            report,
            roots: OnceLock::new(),
        }
    }

    /// Fetches `url` into `sink`, at most `limit` bytes, retrying transient
    /// failures (connection errors, timeouts, 429 and 5xx) with backoff.
    /// `progress` shows a progress bar when stderr is a terminal.
    pub fn fetch(&self, url: &str, sink: &mut dyn Sink, limit: u64, progress: bool) -> Result<u64> {
        let mut backoff = Duration::from_millis(250);
        for attempt in 1..=ATTEMPTS {
            sink.reset().map_err(|e| Error::File {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
            let result = if url::is_file(url) {
                self.fetch_file(url, sink, limit)
            } else {
                self.fetch_http(url, sink, limit, progress)
            };
            match result {
                Ok(n) => return Ok(n),
                Err(Attempt::Retry(err, wait)) if attempt < ATTEMPTS => {
                    let wait = wait.unwrap_or(backoff);
                    self.report
                        .debug(format_args!("{err}; retrying in {}ms", wait.as_millis()));
                    std::thread::sleep(wait);
                    backoff *= 2;
                }
                Err(Attempt::Retry(err, _) | Attempt::Fail(err)) => return Err(err),
            }
        }
        unreachable!("the last attempt always returns")
    }

    fn fetch_file(&self, url: &str, sink: &mut dyn Sink, limit: u64) -> Result<u64, Attempt> {
        let path = url::file_path(url);
        self.report
            .debug(format_args!("reading {}", path.display()));
        let file = std::fs::File::open(&path).map_err(|e| {
            Attempt::Fail(if e.kind() == std::io::ErrorKind::NotFound {
                Error::NotFound {
                    url: url.to_owned(),
                }
            } else {
                Error::File {
                    url: url.to_owned(),
                    reason: e.to_string(),
                }
            })
        })?;
        copy(file.take(limit + 1), sink, limit, None, url, None)
            .map_err(|e| Attempt::Fail(e.into_error()))
    }

    fn fetch_http(
        &self,
        start: &str,
        sink: &mut dyn Sink,
        limit: u64,
        progress: bool,
    ) -> Result<u64, Attempt> {
        let mut current = start.to_owned();
        for _ in 0..=MAX_REDIRECTS {
            self.report.debug(format_args!("GET {current}"));
            let agent = self.agent_for(&current).map_err(Attempt::Fail)?;
            let response = agent
                .get(&current)
                .call()
                .map_err(|e| classify(&current, &e))?;
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let Some(location) = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                else {
                    return Err(Attempt::Fail(Error::Http {
                        url: current,
                        status,
                    }));
                };
                let next = url::join(&current, location);
                if !url::allowed_redirect(&next) {
                    return Err(Attempt::Fail(Error::InsecureRedirect {
                        from: current,
                        to: next,
                    }));
                }
                current = next;
                continue;
            }
            if status == 404 {
                return Err(Attempt::Fail(Error::NotFound { url: current }));
            }
            if status == 429 || status >= 500 {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(|s| Duration::from_secs(s.min(MAX_RETRY_AFTER)));
                return Err(Attempt::Retry(
                    Error::Http {
                        url: current,
                        status,
                    },
                    wait,
                ));
            }
            if !(200..300).contains(&status) {
                return Err(Attempt::Fail(Error::Http {
                    url: current,
                    status,
                }));
            }
            let total = response.body().content_length();
            let bar = if progress {
                self.report.progress_bar(total)
            } else {
                None
            };
            let reader = response
                .into_body()
                .into_with_config()
                .limit(limit + 1)
                .reader();
            return copy(reader, sink, limit, total, &current, bar).map_err(Copy::into_attempt);
        }
        Err(Attempt::Fail(Error::TooManyRedirects {
            url: start.to_owned(),
        }))
    }

    fn agent_for(&self, target: &str) -> Result<ureq::Agent> {
        let mut config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_recv_response(Some(Duration::from_secs(30)))
            .timeout_per_read(Some(Duration::from_secs(30)))
            .user_agent(concat!("runcode-launcher/", env!("CARGO_PKG_VERSION")))
            .proxy(crate::proxy::for_target(self.report, target)?);
        if target
            .get(..8)
            .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
        {
            let roots = self.roots.get_or_init(|| load_roots(self.report)).clone();
            config = config.tls_config(TlsConfig::builder().root_certs(roots).build());
        }
        Ok(config.build().new_agent())
    }
}

/// The OS trust store (corporate proxies re-sign TLS with their own CA); the
/// standard web roots when the OS offers none.
fn load_roots(report: &Report) -> RootCerts {
    let native = rustls_native_certs::load_native_certs();
    let certs: Vec<Certificate<'static>> = native
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if certs.is_empty() {
        report.debug(format_args!(
            "no OS certificates found; using the web roots"
        ));
        RootCerts::WebPki
    } else {
        report.debug(format_args!("trusting {} OS certificates", certs.len()));
        RootCerts::new_with_certs(&certs)
    }
}

/// Why a copy stopped.
enum Copy {
    /// The source failed or ended early: worth another attempt.
    Source(Error),
    /// The sink failed or the limit was passed: not worth another attempt.
    Fatal(Error),
}

impl Copy {
    fn into_attempt(self) -> Attempt {
        match self {
            Copy::Source(e) => Attempt::Retry(e, None),
            Copy::Fatal(e) => Attempt::Fail(e),
        }
    }
    fn into_error(self) -> Error {
        match self {
            Copy::Source(e) | Copy::Fatal(e) => e,
        }
    }
}

fn copy(
    mut reader: impl Read,
    sink: &mut dyn Sink,
    limit: u64,
    total: Option<u64>,
    url: &str,
    mut bar: Option<crate::report::Bar>,
) -> Result<u64, Copy> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut done: u64 = 0;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let reason = format!("download cut off after {done} bytes ({e})");
                return Err(Copy::Source(Error::Network {
                    url: url.to_owned(),
                    reason,
                }));
            }
        };
        done += n as u64;
        if done > limit {
            let reason = format!("larger than the {limit}-byte limit");
            return Err(Copy::Fatal(Error::File {
                url: url.to_owned(),
                reason,
            }));
        }
        sink.write_all(&buf[..n]).map_err(|e| {
            Copy::Fatal(Error::File {
                url: url.to_owned(),
                reason: format!("cannot store it: {e}"),
            })
        })?;
        if let Some(bar) = bar.as_mut() {
            bar.update(done);
        }
    }
    if let Some(bar) = bar.as_mut() {
        bar.finish();
    }
    if let Some(total) = total.filter(|&t| t != done) {
        let reason = format!("download cut off after {done} of {total} bytes");
        return Err(Copy::Source(Error::Network {
            url: url.to_owned(),
            reason,
        }));
    }
    Ok(done)
}

/// Maps a ureq failure: TLS and address problems will not fix themselves;
/// everything else (refused, reset, timeout, DNS hiccup) may.
fn classify(url: &str, err: &ureq::Error) -> Attempt {
    let error = Error::Network {
        url: url.to_owned(),
        reason: err.to_string(),
    };
    match err {
        ureq::Error::Tls(_)
        | ureq::Error::Rustls(_)
        | ureq::Error::BadUri(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::TlsRequired => Attempt::Fail(error),
        _ => Attempt::Retry(error, None),
    }
}
