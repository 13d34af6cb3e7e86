//! The session bundle, validated before anything of it reaches ssh
//! (docs/security.md). Everything the server sent is treated as hostile: the
//! values ssh will see are checked against allowlists, `known_hosts` is
//! rewritten from the parts we accept, and `ssh_config` is never used, only
//! scanned as a tripwire. Pure functions.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::text;

pub const DEFAULT_WORKDIR: &str = "/home/ubuntu/workspace";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    pub host: String,
    pub port: u16,
    pub user: String,
    /// Normalised: only `<pattern> <keytype> <base64>` lines.
    pub known_hosts: String,
    /// Seconds since the epoch.
    pub expires_at: i64,
    pub web_url: Option<String>,
    pub workdir: String,
}

pub fn validate(bundle: &Value) -> Result<Bundle> {
    let missing: Vec<&str> = ["host", "port", "user", "known_hosts", "expires_at"]
        .into_iter()
        .filter(|f| match &bundle[*f] {
            Value::Null => true,
            Value::String(s) => s.trim().is_empty(),
            _ => false,
        })
        .collect();
    if !missing.is_empty() {
        return Err(Error::UnsafeBundle(format!(
            "missing {}",
            missing.join(", ")
        )));
    }
    if let Some(cfg) = bundle["ssh_config"].as_str()
        && let Some(line) = tripwire(cfg)
    {
        return Err(Error::UnsafeBundle(format!(
            "its ssh_config asks for `{}`",
            text::one_line(line)
        )));
    }
    let user = bundle["user"].as_str().unwrap_or_default();
    if !text::is_safe_name(user) {
        return Err(Error::UnsafeBundle(
            "the user name has characters ssh must not see".to_owned(),
        ));
    }
    let host = bundle["host"].as_str().unwrap_or_default();
    if !text::is_safe_host(host) {
        return Err(Error::UnsafeBundle(
            "the host name has characters ssh must not see".to_owned(),
        ));
    }
    let port = port(&bundle["port"]).ok_or_else(|| {
        Error::UnsafeBundle("the port is not a number from 1 to 65535".to_owned())
    })?;
    let text = bundle["known_hosts"].as_str().unwrap_or_default();
    let known_hosts = normalise_known_hosts(text) + &cert_authorities(text, host, port);
    if known_hosts.is_empty() {
        return Err(Error::UnsafeBundle(
            "no usable host key in known_hosts".to_owned(),
        ));
    }
    let expires_text = bundle["expires_at"].as_str().unwrap_or_default();
    let expires_at = parse_time(expires_text)
        .ok_or_else(|| Error::UnsafeBundle("expires_at is not an ISO 8601 time".to_owned()))?;
    let workdir = bundle["workdir"]
        .as_str()
        .filter(|w| text::is_safe_workdir(w))
        .unwrap_or(DEFAULT_WORKDIR);
    Ok(Bundle {
        host: host.to_owned(),
        port,
        user: user.to_owned(),
        known_hosts,
        expires_at,
        web_url: bundle["web_url"].as_str().and_then(safe_web_url),
        workdir: workdir.to_owned(),
    })
}

/// An integer 1..=65535, or a string of digits with that value.
fn port(value: &Value) -> Option<u16> {
    let n = match value {
        Value::Number(n) => n.as_u64()?,
        Value::String(s)
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 5 =>
        {
            s.parse().ok()?
        }
        _ => return None,
    };
    u16::try_from(n).ok().filter(|p| *p > 0)
}

/// The first `ssh_config` line that would run a command or pull in other
/// configuration, if any.
pub fn tripwire(config: &str) -> Option<&str> {
    const DANGEROUS: [&str; 5] = [
        "proxycommand",
        "localcommand",
        "permitlocalcommand",
        "knownhostscommand",
        "include",
    ];
    config.lines().find(|line| {
        let line = line.trim();
        let key = line
            .split(|c: char| c.is_whitespace() || c == '=')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        DANGEROUS.contains(&key.as_str())
            || (key == "match" && line.to_ascii_lowercase().contains("exec"))
    })
}

/// Keeps only lines `<hostpattern> <keytype> <base64>` with a key type of
/// `ssh-*`, `ecdsa-*` or `sk-*`, each rewritten as exactly those three fields.
pub fn normalise_known_hosts(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [pattern, keytype, blob, ..] = fields[..] else {
            continue;
        };
        let pattern_ok = pattern
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"[]:.*?,!_-".contains(&b));
        let type_ok = ["ssh-", "ecdsa-", "sk-"]
            .iter()
            .any(|p| keytype.starts_with(p))
            && keytype
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-@.".contains(&b));
        if pattern_ok && type_ok && is_base64(blob) {
            out.push_str(&format!("{pattern} {keytype} {blob}\n"));
        }
    }
    out
}

/// The `@cert-authority` lines of `text` that pin exactly the gateway
/// (`[host]:port`, or `host` on port 22), normalised to `@cert-authority
/// <pattern> <keytype> <base64>`. A wider pattern (`*`, another host, a
/// list, a negation) would let that CA vouch for other hosts: dropped, as
/// every line that is not a plain host key is.
pub fn cert_authorities(text: &str, host: &str, port: u16) -> String {
    let exact = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    let mut out = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ["@cert-authority", pattern, keytype, blob, ..] = fields[..] else {
            continue;
        };
        let key = normalise_known_hosts(&format!("{exact} {keytype} {blob}"));
        if pattern == exact && !key.is_empty() {
            out.push_str(&format!("@cert-authority {key}"));
        }
    }
    out
}

fn is_base64(blob: &str) -> bool {
    let body = blob.trim_end_matches('=');
    blob.len() >= 16
        && blob.len().is_multiple_of(4)
        && blob.len() - body.len() <= 2
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// `web_url` (of a bundle or a workspace list) only when it is http(s) and
/// carries no credential: a URL with a user or password before the host is
/// dropped whole; a query naming `tkn` (in any case, or hidden behind `%`
/// escapes) is cut off, fragment included, so the token is never printed or
/// stored.
pub fn safe_web_url(url: &str) -> Option<String> {
    let p = crate::url::parts(url)?;
    let web = p.scheme_is("https") || p.scheme_is("http");
    if !web || url.chars().any(char::is_control) || p.authority.contains('@') {
        return None;
    }
    let lower = url.to_ascii_lowercase();
    let base = url.split(['?', '#']).next().unwrap_or(url);
    let credential = lower
        .split_once(['?', '#'])
        .is_some_and(|(_, tail)| tail.contains("tkn") || tail.contains('%'));
    Some(if credential {
        base.to_owned()
    } else {
        url.to_owned()
    })
}

pub use runcode_rules::time::parse_iso8601 as parse_time;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIOIsU+9bzXHFMJdhh2T78KGMpsgNAJrx4HGhoGfGhMH7";

    fn good() -> Value {
        json!({"host": "ssh.ws.runcode.io", "port": 2222, "user": "royal-tree-08189931",
               "known_hosts": format!("[ssh.ws.runcode.io]:2222 ssh-ed25519 {KEY}"),
               "expires_at": "2026-11-22T10:30:00+00:00", "workdir": "/home/ubuntu/workspace",
               "web_url": "https://royal-tree.ws.runcode.io", "ssh_config": "Host x\n  HostName y\n"})
    }

    #[test]
    fn only_a_gateway_ca_for_exactly_the_gateway_is_kept() {
        let ca = format!("ssh-ed25519 {KEY}");
        let text = format!(
            "@cert-authority [ssh.ws.runcode.io]:2222 {ca}\n@cert-authority * {ca}\n\
             @cert-authority [other.example]:2222 {ca}\n@cert-authority [ssh.ws.runcode.io]:22 {ca}\n\
             @cert-authority [ssh.ws.runcode.io]:2222,evil {ca}\n@revoked [ssh.ws.runcode.io]:2222 {ca}\n"
        );
        assert_eq!(
            cert_authorities(&text, "ssh.ws.runcode.io", 2222),
            format!("@cert-authority [ssh.ws.runcode.io]:2222 {ca}\n")
        );
        assert_eq!(
            cert_authorities(&format!("@cert-authority h {ca}"), "h", 22),
            format!("@cert-authority h {ca}\n")
        );
        // A bundle pinned by its CA alone is usable; a wide CA alone is not.
        let mut b = good();
        b["known_hosts"] = json!(format!("@cert-authority [ssh.ws.runcode.io]:2222 {ca}"));
        assert!(
            validate(&b)
                .unwrap()
                .known_hosts
                .starts_with("@cert-authority ")
        );
        b["known_hosts"] = json!(format!("@cert-authority * {ca}"));
        assert!(validate(&b).is_err());
    }

    #[test]
    fn a_good_bundle_passes() {
        let b = validate(&good()).unwrap();
        assert_eq!(
            (b.port, b.user.as_str(), b.expires_at),
            (2222, "royal-tree-08189931", 1_795_343_400)
        );
        assert_eq!(
            b.known_hosts,
            format!("[ssh.ws.runcode.io]:2222 ssh-ed25519 {KEY}\n")
        );
        let mut s = good();
        s["port"] = json!("22");
        assert_eq!(validate(&s).unwrap().port, 22);
    }

    #[test]
    fn every_hostile_field_is_refused() {
        let cases: [(&str, Value); 9] = [
            ("user", json!("dev\nProxyCommand touch x")),
            ("user", json!("a b")),
            ("host", json!("127.0.0.1 -oProxyCommand=x")),
            ("port", json!("22 -oProxyCommand=sh")),
            ("port", json!(0)),
            ("port", json!(70000)),
            ("port", json!(22.5)),
            (
                "known_hosts",
                json!("# only a comment\n@cert-authority * ssh-ed25519 AAAA\n"),
            ),
            ("expires_at", json!("tomorrow")),
        ];
        for (field, value) in cases {
            let mut b = good();
            b[field] = value.clone();
            let err = validate(&b).unwrap_err();
            assert_eq!(err.code().as_str(), "unsafe_bundle", "{field} = {value}");
        }
        let mut b = good();
        b.as_object_mut().unwrap().remove("host");
        assert!(
            validate(&b)
                .unwrap_err()
                .to_string()
                .contains("missing host")
        );
    }

    #[test]
    fn the_ssh_config_tripwire_catches_every_command_directive() {
        for line in [
            "ProxyCommand sh",
            "  proxycommand=sh",
            "LocalCommand x",
            "PermitLocalCommand yes",
            "KnownHostsCommand /bin/x",
            "Include /etc/x",
            "Match exec \"true\"",
            "match host x EXEC y",
        ] {
            let mut b = good();
            b["ssh_config"] = json!(format!("Host a\n{line}\n"));
            assert_eq!(
                validate(&b).unwrap_err().code().as_str(),
                "unsafe_bundle",
                "{line}"
            );
        }
        assert_eq!(tripwire("Host a\n  ProxyJump b\n  Matchbox x\n"), None);
    }

    #[test]
    fn known_hosts_keeps_only_the_three_fields() {
        let text = format!(
            "# comment\n@cert-authority * ssh-ed25519 {KEY}\ncommand=\"x\" ssh-ed25519 {KEY}\n[h]:22 ssh-ed25519 {KEY} trailing\n\
             h2 ecdsa-sha2-nistp256 {KEY}\nh3 ssh-ed25519 not*base64\nh4 rsa {KEY}\nh5 ssh-ed25519 {KEY}\u{1b}]0;x\u{7}\n"
        );
        assert_eq!(
            normalise_known_hosts(&text),
            format!("[h]:22 ssh-ed25519 {KEY}\nh2 ecdsa-sha2-nistp256 {KEY}\n")
        );
    }

    #[test]
    fn unsafe_workdirs_fall_back_silently() {
        for bad in ["/tmp/../etc", "relative", "/tmp/$(touch x)", ""] {
            let mut b = good();
            b["workdir"] = json!(bad);
            assert_eq!(validate(&b).unwrap().workdir, DEFAULT_WORKDIR, "{bad}");
        }
    }

    #[test]
    fn web_urls_never_keep_a_credential() {
        let mut b = good();
        b["web_url"] = json!("https://x.ws.runcode.io/?tkn=secret&a=1");
        assert_eq!(
            validate(&b).unwrap().web_url.as_deref(),
            Some("https://x.ws.runcode.io/")
        );
        for hidden in [
            "https://x/?a=1;TKN=s",
            "https://x/#tkn=s",
            "https://x/?%74kn=s",
        ] {
            b["web_url"] = json!(hidden);
            assert_eq!(
                validate(&b).unwrap().web_url.as_deref(),
                Some("https://x/"),
                "{hidden}"
            );
        }
        b["web_url"] = json!("https://user:secret@x.ws.runcode.io/");
        assert_eq!(validate(&b).unwrap().web_url, None);
        b["web_url"] = json!("javascript:alert(1)");
        assert_eq!(validate(&b).unwrap().web_url, None);
    }

    #[test]
    fn expiry_times_in_every_form() {
        let t = 1_795_343_400;
        for form in [
            "2026-11-22T10:30:00+00:00",
            "2026-11-22T10:30:00Z",
            "2026-11-22T10:30:00",
            "2026-11-22 10:30:00.123456",
            "2026-11-22T11:30:00+01:00",
            "2026-11-22T05:00:00-0530",
            "2026-11-22T10:30Z",
        ] {
            assert_eq!(parse_time(form), Some(t), "{form}");
        }
        for bad in [
            "",
            "2026-11-22",
            "2026-13-01T00:00:00Z",
            "20261122T103000Z",
            "2026-11-22T10:30:00+1",
            "é",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }
}
