//! Text that came from a server or a workspace, made safe to show a human,
//! and values checked before they go anywhere near ssh (docs/security.md). Pure.

/// Removes C0 and C1 control characters and DEL (keeping newlines and tabs
/// where `keep_lines`), so no escape sequence reaches the terminal.
pub fn clean(text: &str, keep_lines: bool) -> String {
    text.chars()
        .filter(|&c| {
            let control = c.is_control() || ('\u{80}'..='\u{9f}').contains(&c) || c == '\u{7f}';
            !control || (keep_lines && (c == '\n' || c == '\t'))
        })
        .collect()
}

/// One line of printable ASCII (for comments in ssh configs).
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                ' '
            }
        })
        .collect();
    flat.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn all(text: &str, ok: impl Fn(u8) -> bool) -> bool {
    !text.is_empty() && text.bytes().all(ok)
}

/// `^[A-Za-z0-9._-]+$`: bundle `user`, and workspace titles in ~/.ssh/config.
pub fn is_safe_name(text: &str) -> bool {
    all(text, |b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// `^[A-Za-z0-9._:-]+$`: bundle `host`.
pub fn is_safe_host(text: &str) -> bool {
    all(text, |b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

/// An absolute path of `[A-Za-z0-9._@+/-]` with no `..` segment.
pub fn is_safe_workdir(text: &str) -> bool {
    text.starts_with('/')
        && all(text, |b| {
            b.is_ascii_alphanumeric() || b"._@+/-".contains(&b)
        })
        && !text.split('/').any(|seg| seg == "..")
}

/// Single-quotes `text` for a POSIX shell (`'` becomes `'\''`).
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// One word of a command line that OpenSSH starts (a `ProxyCommand`): for
/// `/bin/sh` on Unix; on Windows in double quotes, which both cmd.exe and a
/// program's own argument parser read as one word (the text must hold no
/// `"`; callers refuse those).
pub fn command_quote(text: &str) -> String {
    if cfg!(windows) {
        format!("\"{text}\"")
    } else {
        shell_quote(text)
    }
}

/// The byte range of the one block of lines from a line that is exactly
/// `begin` to a line that is exactly `end` (its newline included), ignoring
/// line endings. `Err` when the markers are broken (an end without a
/// begin, a begin without an end, or two blocks): a file with such
/// markers is never touched.
pub fn find_marked(
    text: &str,
    begin: &str,
    end: &str,
) -> std::result::Result<Option<(usize, usize)>, String> {
    let mut open = None;
    let mut found = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == begin {
            if open.is_some() || found.is_some() {
                return Err("two runcode blocks".to_owned());
            }
            open = Some(offset);
        } else if bare == end {
            match open.take() {
                Some(b) => found = Some((b, offset + line.len())),
                None => return Err("an end marker without its begin marker".to_owned()),
            }
        }
        offset += line.len();
    }
    if open.is_some() {
        return Err("a begin marker without its end marker".to_owned());
    }
    Ok(found)
}

/// "12 min" / "45 s" for a number of seconds left.
pub fn minutes(seconds: i64) -> String {
    if seconds >= 120 {
        format!("{} min", seconds / 60)
    } else {
        format!("{} s", seconds.max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_never_survive() {
        let hostile = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{7f}clip\u{1b}]52;c;eA==\u{7}";
        let shown = clean(hostile, false);
        assert!(
            !shown
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)),
            "{shown:?}"
        );
        assert_eq!(clean("a\nb\tc\rd", true), "a\nb\tcd");
        assert_eq!(clean("a\nb", false), "ab");
        assert_eq!(one_line("My\napp\u{1b}[1m  é"), "My app [1m");
    }

    #[test]
    fn names_hosts_and_workdirs() {
        assert!(is_safe_name("royal-tree_0.1"));
        for bad in ["", "a b", "a\nb", "a;b", "ü", "a/b", "$x"] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
        assert!(
            is_safe_host("ssh.ws.runcode.io") && is_safe_host("::1") && is_safe_host("127.0.0.1")
        );
        assert!(!is_safe_host("127.0.0.1 -oProxyCommand=x") && !is_safe_host(""));
        assert!(is_safe_workdir("/home/ubuntu/workspace") && is_safe_workdir("/srv/a@b+c/x.y"));
        for bad in [
            "relative",
            "/tmp/../etc",
            "/a/..",
            "/a b",
            "/$(x)",
            "/a;b",
            "",
        ] {
            assert!(!is_safe_workdir(bad), "{bad:?}");
        }
    }

    #[test]
    fn quoting_survives_every_quote() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$HOME `x`"), "'$HOME `x`'");
    }
}
