//! Secret values out of what runcode returns (docs/security.md, "Secrets"):
//! each verbatim occurrence becomes `[secret:NAME]`. A stream is redacted
//! as it passes (`Stream`): bytes that could be the start of a value are
//! held back until the next bytes say whether they are, so a value split
//! across two reads or writes is caught; the held bytes go out at the end.
//! A finished text (an MCP tool's answer) is redacted whole (`text`), and a
//! piece of a value at its very start or end, where a window of a longer
//! output cut it (at least 4 bytes of it), is replaced too.

use std::io::Write;

/// The secrets to hide: (name, value), longest value first.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    list: Vec<(String, Vec<u8>)>,
    /// The bytes a value starts with: the others are passed on in bulk.
    first: Vec<u8>,
}

/// The least of a value that counts as a piece of it at a cut.
const PIECE_MIN: usize = 4;

impl Secrets {
    pub fn new(mut list: Vec<(String, Vec<u8>)>) -> Secrets {
        list.retain(|(_, v)| !v.is_empty());
        list.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        let mut first: Vec<u8> = list.iter().map(|(_, v)| v[0]).collect();
        first.sort_unstable();
        first.dedup();
        Secrets { list, first }
    }

    /// Where, from `at`, the next byte that could start a value is.
    fn next_start(&self, data: &[u8], at: usize) -> usize {
        data[at..]
            .iter()
            .position(|b| self.first.binary_search(b).is_ok())
            .map_or(data.len(), |n| at + n)
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn longest(&self) -> usize {
        self.list.first().map_or(0, |(_, v)| v.len())
    }

    /// The secret whose value starts `data` at `at`, if any.
    fn at(&self, data: &[u8], at: usize) -> Option<&(String, Vec<u8>)> {
        let rest = &data[at..];
        self.list.iter().find(|(_, v)| rest.starts_with(v))
    }

    /// Whether `rest` (the end of what has arrived) is the start of a value.
    fn could_start(&self, rest: &[u8]) -> bool {
        self.list
            .iter()
            .any(|(_, v)| rest.len() < v.len() && v.starts_with(rest))
    }

    /// `data` with every occurrence replaced.
    pub fn bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            let next = self.next_start(data, i);
            out.extend_from_slice(&data[i..next]);
            i = next;
            if i >= data.len() {
                break;
            }
            if let Some((name, v)) = self.at(data, i) {
                out.extend_from_slice(format!("[secret:{name}]").as_bytes());
                i += v.len();
            } else {
                out.push(data[i]);
                i += 1;
            }
        }
        out
    }

    /// A whole text: every occurrence, and a piece of a value cut at the
    /// text's start or end.
    pub fn text(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_owned();
        }
        let mut out = String::from_utf8_lossy(&self.bytes(text.as_bytes())).into_owned();
        for (name, v) in &self.list {
            // The end of the text is the start of a value.
            let cut_end = (PIECE_MIN..v.len())
                .rev()
                .find(|n| out.as_bytes().ends_with(&v[..*n]));
            if let Some(n) = cut_end
                && out.is_char_boundary(out.len() - n)
            {
                out.truncate(out.len() - n);
                out.push_str(&format!("[secret:{name}]"));
            }
            // The start of the text is the end of a value.
            let cut_start = (PIECE_MIN..v.len())
                .rev()
                .find(|n| out.as_bytes().starts_with(&v[v.len() - n..]));
            if let Some(n) = cut_start
                && out.is_char_boundary(n)
            {
                out = format!("[secret:{name}]{}", &out[n..]);
            }
        }
        out
    }
}

/// A writer that redacts what passes through it into `inner`; `finish`
/// writes what it still holds.
pub struct Stream<W: Write> {
    secrets: Secrets,
    held: Vec<u8>,
    inner: W,
}

impl<W: Write> Stream<W> {
    pub fn new(secrets: Secrets, inner: W) -> Stream<W> {
        Stream {
            secrets,
            held: Vec::new(),
            inner,
        }
    }

    /// Writes the bytes held back (a stream's end: they are no value).
    pub fn finish(&mut self) -> std::io::Result<()> {
        let rest = std::mem::take(&mut self.held);
        let out = self.secrets.bytes(&rest);
        self.inner.write_all(&out)?;
        self.inner.flush()
    }
}

impl<W: Write> Write for Stream<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.secrets.is_empty() {
            return self.inner.write(buf);
        }
        self.held.extend_from_slice(buf);
        let data = std::mem::take(&mut self.held);
        let mut out = Vec::with_capacity(data.len());
        let mut i = 0;
        // Past this point a value could still be arriving.
        let sure = data.len().saturating_sub(self.secrets.longest());
        while i < data.len() {
            let next = self.secrets.next_start(&data, i);
            out.extend_from_slice(&data[i..next]);
            i = next;
            if i >= data.len() {
                break;
            }
            if let Some((name, v)) = self.secrets.at(&data, i) {
                out.extend_from_slice(format!("[secret:{name}]").as_bytes());
                i += v.len();
                continue;
            }
            if i >= sure && self.secrets.could_start(&data[i..]) {
                break;
            }
            out.push(data[i]);
            i += 1;
        }
        self.held = data[i..].to_vec();
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // What is held stays held: it may be the start of a value.
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two() -> Secrets {
        Secrets::new(vec![
            ("API".to_owned(), b"s3cr3t-value".to_vec()),
            ("DB".to_owned(), b"postgres://u:pw@db".to_vec()),
        ])
    }

    #[test]
    fn every_occurrence_is_replaced_even_split_across_writes() {
        let mut out = Vec::new();
        {
            let mut s = Stream::new(two(), &mut out);
            for chunk in [
                &b"key=s3cr3"[..],
                b"t-value and ",
                b"postgres://u:pw@db",
                b" s3",
            ] {
                s.write_all(chunk).unwrap();
                s.flush().unwrap();
            }
            s.finish().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "key=[secret:API] and [secret:DB] s3"
        );
    }

    #[test]
    fn byte_by_byte_is_the_same() {
        let text = b"a s3cr3t-values3cr3t-value b";
        let mut out = Vec::new();
        {
            let mut s = Stream::new(two(), &mut out);
            for b in text {
                s.write_all(&[*b]).unwrap();
            }
            s.finish().unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a [secret:API][secret:API] b"
        );
    }

    #[test]
    fn a_text_cut_in_a_value_loses_the_piece_too() {
        let s = two();
        assert_eq!(s.text("end: s3cr3t"), "end: [secret:API]");
        assert_eq!(s.text("-value and more"), "[secret:API] and more");
        assert_eq!(s.text("no s3c here"), "no s3c here");
    }
}
