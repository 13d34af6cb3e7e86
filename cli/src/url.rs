//! The one place that splits an address into scheme, authority and the
//! rest, for the base checks, redirects and the host names shown to people.
//! Pure.

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
    let (authority, rest) = after.split_at(end);
    Some(Parts {
        scheme,
        authority,
        rest,
    })
}

impl Parts<'_> {
    /// The authority without any `user:password@`.
    pub fn host_port(&self) -> &str {
        self.authority
            .rsplit_once('@')
            .map_or(self.authority, |(_, h)| h)
    }

    /// The host alone: no userinfo, no port, IPv6 without its brackets.
    pub fn host(&self) -> &str {
        let hp = self.host_port();
        match hp.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => hp.split(':').next().unwrap_or(""),
        }
    }
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
    }
}
