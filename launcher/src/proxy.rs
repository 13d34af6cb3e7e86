//! Proxies, as curl reads them: `https_proxy` / `http_proxy`, then
//! `all_proxy` (either case), and `no_proxy` exemptions. Loopback is proxied
//! too unless `no_proxy` names it.

use crate::error::{Error, Result};
use crate::report::Report;
use crate::url;

/// The proxy for `target` from the usual variables (either case), unless
/// `NO_PROXY` exempts its host. Loopback is not exempt by default: a user
/// who sets a proxy for everything gets a proxy for everything.
pub fn for_target(report: &Report, target: &str) -> Result<Option<ureq::Proxy>> {
    let https = target
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
    let names: &[&str] = if https {
        &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    let Some((name, value)) = names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (n, v))
    }) else {
        return Ok(None);
    };
    let host = url::host_of(target).to_ascii_lowercase();
    let no_proxy = std::env::var("no_proxy")
        .or_else(|_| std::env::var("NO_PROXY"))
        .unwrap_or_default();
    if bypasses(&no_proxy, &host) {
        report.debug(format_args!("NO_PROXY exempts {host}"));
        return Ok(None);
    }
    report.debug(format_args!("using the proxy from {name}"));
    ureq::Proxy::new(value.trim())
        .map(Some)
        .map_err(|_| Error::Network {
            url: target.to_owned(),
            reason: format!("{name} is not a usable proxy address"),
        })
}

/// `NO_PROXY` as curl reads it: `*`, or comma-separated hosts and domain
/// suffixes (a leading `.` or `*.` optional), ports ignored.
fn bypasses(no_proxy: &str, host: &str) -> bool {
    no_proxy
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .to_ascii_lowercase();
            let entry = match entry.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or("").to_owned(),
                None if entry.matches(':').count() == 1 => {
                    entry.split(':').next().unwrap_or("").to_owned()
                }
                None => entry,
            };
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_matches_hosts_and_domains() {
        assert!(bypasses("*", "anything"));
        assert!(bypasses("localhost, .corp.example", "build.corp.example"));
        assert!(bypasses("corp.example:8080", "corp.example"));
        assert!(bypasses("*.corp.example", "a.corp.example"));
        assert!(bypasses("[::1]", "::1"));
        assert!(!bypasses("corp.example", "notcorp.example"));
        assert!(!bypasses("", "127.0.0.1"));
    }
}
