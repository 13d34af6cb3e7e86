//! Parsing of `checksums.txt` (pure): lines `<64 hex> <spaces>[*]<name>`,
//! matched by exact file name.

/// Two lines name the asset with different digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflicting;

/// The digest `text` gives for `name`: `Ok(None)` when no line names it,
/// `Err(Conflicting)` when two lines name it with different digests. Lines that are not
/// of the documented shape are ignored: they cannot vouch for anything.
pub fn find(text: &str, name: &str) -> Result<Option<[u8; 32]>, Conflicting> {
    let mut found: Option<[u8; 32]> = None;
    for line in text.lines() {
        let Some((digest, file)) = parse_line(line) else {
            continue;
        };
        if file != name {
            continue;
        }
        match found {
            Some(prev) if prev != digest => return Err(Conflicting),
            _ => found = Some(digest),
        }
    }
    Ok(found)
}

fn parse_line(line: &str) -> Option<([u8; 32], &str)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let (hex, rest) = line.split_at_checked(64)?;
    let digest = decode_hex(hex)?;
    // At least one space between digest and name; then an optional binary-mode star.
    let name = rest.strip_prefix(' ')?.trim_start_matches(' ');
    let name = name.strip_prefix('*').unwrap_or(name);
    (!name.is_empty()).then_some((digest, name))
}

fn decode_hex(hex: &str) -> Option<[u8; 32]> {
    let bytes = hex.as_bytes();
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// Lowercase hex, the form every error message shows.
pub fn to_hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

    #[test]
    fn finds_by_exact_name_in_every_documented_form() {
        let text =
            format!("{A}  runcode_linux_amd64.tar.gz.sig\n\n{B} *runcode_linux_amd64.tar.gz\r\n");
        let got = find(&text, "runcode_linux_amd64.tar.gz").unwrap().unwrap();
        assert_eq!(to_hex(&got), B.to_lowercase());
        let single = format!("{A} x.zip");
        assert!(find(&single, "x.zip").unwrap().is_some());
    }

    #[test]
    fn near_names_and_malformed_lines_do_not_count() {
        let text = format!(
            "{A}  runcode_linux_amd64.tar.gz.bak\n{A}runcode_linux_amd64.tar.gz\nzz{}  runcode_linux_amd64.tar.gz\n",
            &A[2..]
        );
        assert_eq!(find(&text, "runcode_linux_amd64.tar.gz"), Ok(None));
        assert_eq!(find("", "x"), Ok(None));
        assert_eq!(find("é", "x"), Ok(None));
    }

    #[test]
    fn conflicting_lines_are_refused_and_repeats_accepted() {
        assert_eq!(find(&format!("{A}  x\n{B}  x\n"), "x"), Err(Conflicting));
        assert!(find(&format!("{A}  x\n{A}  x\n"), "x").unwrap().is_some());
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_survived_and_a_found_digest_is_listed(text in proptest::prelude::any::<String>(), name in "[a-z_.]{1,20}") {
            if let Ok(Some(digest)) = find(&text, &name) {
                proptest::prop_assert!(text.to_lowercase().contains(&to_hex(&digest)));
            }
        }
    }

    #[test]
    fn no_input_panics() {
        for text in [
            "\u{1F600}",
            "a\u{e9}",
            &"a".repeat(63),
            &format!("{A}\u{e9}"),
            &format!("{A} "),
            &format!("{A} *"),
        ] {
            let _ = find(text, "x");
        }
    }
}
