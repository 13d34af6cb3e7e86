//! Which URLs the launcher may fetch: `https://`, `file://`, and `http://` to
//! loopback; redirects only to `https://` or loopback `http://`.
//!
//! Self-contained on purpose: the fuzz crate compiles this file by path,
//! without the rest of the launcher, so it answers plain values rather than
//! `crate::error` (the caller turns them into errors).

/// The scheme of `url`, lowercased, and the rest after `://`.
fn split(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    Some((scheme.to_ascii_lowercase(), rest))
}

/// The host of a URL, without user info, port or IPv6 brackets.
pub fn host_of(url: &str) -> &str {
    host(url.split_once("://").map_or(url, |(_, r)| r))
}

/// The host of the authority in `rest` (what follows `scheme://`), without
/// user info, port or IPv6 brackets.
fn host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// May the launcher fetch from `url` at all (a configured base)?
pub fn allowed_base(url: &str) -> bool {
    match split(url) {
        Some((s, _)) if s == "https" || s == "file" => true,
        Some((s, rest)) if s == "http" => is_loopback_host(host(rest)),
        _ => false,
    }
}

/// May a redirect lead to `url`? Never to `file://`: a server must not be
/// able to point the launcher at local files.
pub fn allowed_redirect(url: &str) -> bool {
    allowed_base(url) && !is_file(url)
}

pub fn is_file(url: &str) -> bool {
    split(url).is_some_and(|(s, _)| s == "file")
}

/// Resolves a `Location` header against the URL that answered with it.
pub fn join(base: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let Some((scheme, rest)) = split(base) else {
        return location.to_owned();
    };
    if let Some(net) = location.strip_prefix("//") {
        return format!("{scheme}://{net}");
    }
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if location.starts_with('/') {
        return format!("{scheme}://{authority}{location}");
    }
    let path = rest[authority_end..].split(['?', '#']).next().unwrap_or("");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    format!("{scheme}://{authority}{dir}/{location}")
}

/// The local path a `file://` URL names, with `%XX` escapes decoded.
pub fn file_path(url: &str) -> std::path::PathBuf {
    let rest = split(url).map_or(url, |(_, r)| r);
    // file://host/path: only an empty host or localhost names this machine.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    // file:///C:/dir on Windows names C:/dir.
    #[cfg(windows)]
    let text = match text.strip_prefix('/') {
        Some(t) if t.as_bytes().get(1) == Some(&b':') => t.to_owned(),
        _ => text,
    };
    std::path::PathBuf::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_follow_the_scheme_rules() {
        for ok in [
            "https://example.com/x",
            "file:///tmp/rel",
            "http://127.0.0.1:8080/x",
            "http://localhost/x",
            "HTTP://127.9.9.9",
            "http://[::1]:80/",
            "http://user@127.0.0.1/",
        ] {
            assert!(allowed_base(ok), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com/",
            "http://127.0.0.1@evil.com/",
            "ftp://127.0.0.1/",
            "/tmp/x",
            "",
        ] {
            assert!(!allowed_base(bad), "{bad}");
        }
        assert!(!allowed_redirect("file:///etc/passwd"));
        assert!(allowed_redirect("https://objects.example.net/a?sig=1"));
    }

    #[test]
    fn hosts_are_found_behind_userinfo_and_ports() {
        assert_eq!(host_of("http://u:p@127.0.0.1:80/x"), "127.0.0.1");
        assert_eq!(host_of("https://[::1]:443/"), "::1");
        assert_eq!(host_of("https://GitHub.com/a"), "GitHub.com");
    }

    #[test]
    fn locations_resolve_like_a_browser() {
        let base = "http://127.0.0.1:9/rel/v1/asset.tar.gz?x=1";
        assert_eq!(join(base, "https://a/b"), "https://a/b");
        assert_eq!(join(base, "//cdn/x"), "http://cdn/x");
        assert_eq!(join(base, "/other"), "http://127.0.0.1:9/other");
        assert_eq!(join(base, "next"), "http://127.0.0.1:9/rel/v1/next");
    }

    #[test]
    fn file_urls_decode_escapes() {
        assert_eq!(
            file_path("file:///tmp/a%20b/c"),
            std::path::PathBuf::from("/tmp/a b/c")
        );
        assert_eq!(
            file_path("file://localhost/tmp/x%"),
            std::path::PathBuf::from("/tmp/x%")
        );
    }
}
