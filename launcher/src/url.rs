//! Which addresses the launcher may fetch: a configured base may be
//! `https://`, `file://` (a local mirror) or `http://` to loopback; a
//! redirect only `https://` or loopback `http://`, never `file://`. The
//! address rules themselves are runcode-rules' `url`, shared with the CLI.

pub use runcode_rules::url::{file_path, host_of, is_file, join};

/// May the launcher fetch from `url` at all (a configured base)?
pub fn allowed_base(url: &str) -> bool {
    is_file(url) || runcode_rules::url::is_secure_web(url)
}

/// May a redirect lead to `url`? Never to `file://`: a server must not be
/// able to point the launcher at local files.
pub fn allowed_redirect(url: &str) -> bool {
    runcode_rules::url::is_secure_web(url)
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
        ] {
            assert!(allowed_base(ok), "{ok}");
        }
        for bad in [
            "http://example.com/x",
            "http://127.0.0.1.evil.com/",
            "http://localhost.evil.com/",
            "http://127.0.0.1@evil.com/",
            "http://user@127.0.0.1/",
            "ftp://127.0.0.1/",
            "/tmp/x",
            "",
        ] {
            assert!(!allowed_base(bad), "{bad}");
        }
        assert!(!allowed_redirect("file:///etc/passwd"));
        assert!(allowed_redirect("https://objects.example.net/a?sig=1"));
    }

    /// The table the CLI's token rule answers too: a base or a redirect is
    /// allowed exactly where the CLI would send its token (and a base may
    /// also be a local `file://` mirror).
    #[test]
    fn the_launcher_answers_the_shared_table() {
        use runcode_rules::cases::Case;
        for case in runcode_rules::cases::all() {
            match case {
                Case::Web { url, secure } => {
                    assert_eq!(allowed_redirect(url), secure, "{url}");
                    assert_eq!(allowed_base(url), secure || is_file(url), "{url}");
                }
                Case::Join {
                    base,
                    location,
                    result,
                } => assert_eq!(join(base, location), result, "{base} + {location}"),
                Case::Host { url, host } => assert_eq!(host_of(url), host, "{url}"),
            }
        }
    }

    #[test]
    fn locations_resolve_like_a_browser() {
        let base = "http://127.0.0.1:9/rel/v1/asset.tar.gz?x=1";
        assert_eq!(join(base, "https://a/b"), "https://a/b");
        assert_eq!(join(base, "//cdn/x"), "http://cdn/x");
        assert_eq!(join(base, "/other"), "http://127.0.0.1:9/other");
        assert_eq!(join(base, "next"), "http://127.0.0.1:9/rel/v1/next");
    }
}
