//! `%XX` escapes, both ways: form values and `file://` paths are decoded,
//! query values encoded.

/// Decodes `%XX` escapes (a `%` not followed by two hex digits stays as it
/// is); with `plus_is_space`, as in a form-encoded query, `+` is a space.
pub fn decode(text: &str, plus_is_space: bool) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if let Some(byte) = bytes.get(i + 1..i + 3).and_then(hex_pair) {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let value = hex(pair[0])? * 16 + hex(pair[1])?;
    u8::try_from(value).ok()
}

/// Escapes every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_round_trip_and_broken_ones_stay() {
        assert_eq!(decode("dev%40example.com", true), b"dev@example.com");
        assert_eq!(decode("a+b%2", true), b"a b%2");
        assert_eq!(decode("a+b", false), b"a+b");
        assert_eq!(decode("%zz%4", false), b"%zz%4");
        for text in ["", "a b&c=d/é", "~-._", "%25"] {
            assert_eq!(decode(&encode(text), false), text.as_bytes());
        }
        assert_eq!(encode("a b@"), "a%20b%40");
    }
}
