//! Addresses: the one place that splits one into scheme, authority and the
//! rest, resolves a `Location` against it, and says which addresses may
//! carry a token or a download (`https://` anywhere, `http://` to loopback
//! only, never a user or password in the address). The CLI's control-plane
//! client and the launcher's fetcher both ask these functions, and
//! `rules/url_cases.txt` holds one table of cases they must all answer.

use std::path::PathBuf;

/// `scheme://authority/rest...`, borrowed from the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts<'a> {
    pub scheme: &'a str,
    /// Between `://` and the first `/`, `?` or `#`: userinfo, host, port.
    pub authority: &'a str,
    /// From that `/`, `?` or `#` on (may be empty).
    pub rest: &'a str,
}

/// Splits `url`; None when it has no `://`.
pub fn parts(url: &str) -> Option<Parts<'_>> {
    let (scheme, after) = url.split_once("://")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at_checked(end)?;
    Some(Parts {
        scheme,
        authority,
        rest,
    })
}

impl<'a> Parts<'a> {
    /// The authority without any `user:password@`.
    pub fn host_port(&self) -> &'a str {
        self.authority
            .rsplit_once('@')
            .map_or(self.authority, |(_, h)| h)
    }

    /// The host alone: no userinfo, no port, IPv6 without its brackets.
    pub fn host(&self) -> &'a str {
        let hp = self.host_port();
        match hp.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => hp.split(':').next().unwrap_or(""),
        }
    }

    /// Whether the scheme is `name`, in any case.
    pub fn scheme_is(&self, name: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(name)
    }
}

/// The host of `url` (of the whole text when it has no scheme), without
/// user info, port or IPv6 brackets.
pub fn host_of(url: &str) -> &str {
    let rest = without_scheme(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at_checked(end).unwrap_or((rest, ""));
    Parts {
        scheme: "",
        authority,
        rest,
    }
    .host()
}

/// `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// May a token or a download travel to `url`? `https://` to any host;
/// `http://` only to a loopback host. An address with a user or password
/// before the host is refused whatever its scheme: it would be sent or
/// logged, and `http://127.0.0.1@evil.example` reads as loopback to a person.
pub fn is_secure_web(url: &str) -> bool {
    let Some(p) = parts(url) else {
        return false;
    };
    if p.authority.is_empty() || p.authority.contains('@') || p.host().is_empty() {
        return false;
    }
    if p.scheme_is("https") {
        return true;
    }
    p.scheme_is("http") && is_loopback_host(p.host())
}

/// Whether `url` is a `file://` address.
pub fn is_file(url: &str) -> bool {
    parts(url).is_some_and(|p| p.scheme_is("file"))
}

/// What follows `scheme://` (the whole address when there is none), as
/// people read a web address.
pub fn without_scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

/// The address without any credential before the host.
pub fn without_userinfo(url: &str) -> String {
    match parts(url) {
        Some(p) => format!("{}://{}{}", p.scheme, p.host_port(), p.rest),
        None => url.to_owned(),
    }
}

/// Resolves a `Location` header against the address that answered with it,
/// as a browser does: absolute, scheme-relative (`//host/x`), host-relative
/// (`/x`) or relative to the answering path's directory.
pub fn join(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let Some(p) = parts(base) else {
        return location.to_owned();
    };
    if let Some(net) = location.strip_prefix("//") {
        return format!("{}://{net}", p.scheme);
    }
    if location.starts_with('/') {
        return format!("{}://{}{location}", p.scheme, p.authority);
    }
    let path = p.rest.split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{}://{}{dir}/{location}", p.scheme, p.authority)
}

/// The local path a `file://` address names, with `%XX` escapes decoded.
/// Only an empty host or `localhost` names this machine.
pub fn file_path(url: &str) -> PathBuf {
    let rest = without_scheme(url);
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let text = String::from_utf8_lossy(&crate::percent::decode(rest, false)).into_owned();
    // file:///C:/dir on Windows names C:/dir.
    #[cfg(windows)]
    let text = match text.strip_prefix('/') {
        Some(t) if t.as_bytes().get(1) == Some(&b':') => t.to_owned(),
        _ => text,
    };
    PathBuf::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_the_shapes_addresses_come_in() {
        let p = parts("https://u:p@Example.com:8443/x?y#z").unwrap();
        assert_eq!(
            (p.scheme, p.authority, p.rest),
            ("https", "u:p@Example.com:8443", "/x?y#z")
        );
        assert_eq!(
            (p.host_port(), p.host()),
            ("Example.com:8443", "Example.com")
        );
        assert_eq!(parts("http://[::1]:80").unwrap().host(), "::1");
        assert_eq!(parts("http://h?q").unwrap().authority, "h");
        assert!(parts("no scheme").is_none());
        assert_eq!(without_userinfo("https://a:b@h/p"), "https://h/p");
        assert_eq!(host_of("http://u:p@127.0.0.1:80/x"), "127.0.0.1");
        assert_eq!(host_of("https://[::1]:443/"), "::1");
        assert_eq!(host_of("example.com:8080/x"), "example.com");
    }

    #[test]
    fn file_urls_decode_escapes() {
        assert_eq!(
            file_path("file:///tmp/a%20b/c"),
            PathBuf::from("/tmp/a b/c")
        );
        assert_eq!(
            file_path("file://localhost/tmp/x%"),
            PathBuf::from("/tmp/x%")
        );
    }
}
