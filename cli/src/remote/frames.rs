//! Reading a run's output as `scripts/attach.sh` sends it: frames that say
//! which stream their bytes belong to and at which byte of it they start,
//! and a last one with the run's status. The client writes each byte of a
//! stream once, in order: bytes it already has are skipped, and a gap (the
//! workspace keeps only the last 64 MiB of a stream) is counted as dropped.
//! Everything here comes from the workspace, so every field is bounded and
//! anything else is refused.

use std::io::{BufRead, Write};

/// The size of a piece of a stored stream (`scripts/wrap.sh`): no frame is
/// longer.
pub const PIECE: u64 = 8 * 1024 * 1024;

/// How many pieces a stored stream keeps: the cap is `PIECE * PIECES`.
pub const PIECES: u64 = 8;

/// Where the client stands in each stream of a run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Got {
    /// The next byte of stdout the client wants.
    pub out: u64,
    /// The next byte of stderr.
    pub err: u64,
    /// Bytes of stdout the workspace no longer had when they were asked
    /// for.
    pub out_dropped: u64,
    pub err_dropped: u64,
}

/// How a run ended, as its record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    /// The command exited (or a signal ended it) by itself.
    Exit,
    /// Its timeout ended it.
    Timeout,
    /// It was stopped: Ctrl-C, `runs --stop`, the MCP `run_stop`.
    Interrupted,
}

impl How {
    pub fn word(self) -> &'static str {
        match self {
            How::Exit => "exit",
            How::Timeout => "timeout",
            How::Interrupted => "interrupted",
        }
    }
}

/// What one reading of frames came to.
#[derive(Debug, Default)]
pub struct Read {
    /// The run's end, when the frames reached it.
    pub ended: Option<(i32, How)>,
    /// Whoever reads the local stdout or stderr went away.
    pub closed: bool,
}

/// Why the frames were refused.
#[derive(Debug)]
pub struct Malformed(pub String);

/// Reads frames from `from` to its end, writing each stream's new bytes to
/// `out` or `err` and moving `got` on. A read that stops short (the link
/// dropped) leaves `got` at the last byte written.
pub fn read(
    from: &mut impl BufRead,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
    got: &mut Got,
) -> Result<Read, Malformed> {
    let mut result = Read::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let mut head = Vec::new();
        // A header is a few words: 64 bytes is plenty, more is not ours.
        let n = std::io::Read::take(&mut *from, 64)
            .read_until(b'\n', &mut head)
            .map_err(|_| Malformed::cut())?;
        if n == 0 {
            return Ok(result);
        }
        if head.last() != Some(&b'\n') {
            // The link dropped inside a header, or it is not a header.
            return if head.len() < 64 {
                Ok(result)
            } else {
                Err(Malformed("a frame header longer than 64 bytes".into()))
            };
        }
        let text = std::str::from_utf8(&head[..head.len() - 1])
            .map_err(|_| Malformed("a frame header that is not text".into()))?;
        let words: Vec<&str> = text.split(' ').collect();
        match words.as_slice() {
            ["x", status, how] => {
                let status = status
                    .parse::<i32>()
                    .ok()
                    .filter(|s| (0..=255).contains(s))
                    .ok_or_else(|| Malformed(format!("a status of {status:?}")))?;
                let how = match *how {
                    "exit" => How::Exit,
                    "timeout" => How::Timeout,
                    "interrupted" => How::Interrupted,
                    other => return Err(Malformed(format!("an ending of {other:?}"))),
                };
                result.ended = Some((status, how));
            }
            [letter @ ("o" | "e"), at, len] => {
                let (Ok(at), Ok(len)) = (at.parse::<u64>(), len.parse::<u64>()) else {
                    return Err(Malformed(format!("a frame header {text:?}")));
                };
                if len == 0 || len > PIECE {
                    return Err(Malformed(format!("a frame of {len} bytes")));
                }
                let is_out = *letter == "o";
                let (next, dropped) = if is_out {
                    (&mut got.out, &mut got.out_dropped)
                } else {
                    (&mut got.err, &mut got.err_dropped)
                };
                if at > *next {
                    *dropped += at - *next;
                    *next = at;
                }
                // Bytes before `next` are had already: read and skipped.
                let mut skip = next.saturating_sub(at);
                let mut left = len;
                while left > 0 {
                    let want = left.min(buf.len() as u64) as usize;
                    let n = match from.read(&mut buf[..want]) {
                        Ok(0) | Err(_) => return Ok(result),
                        Ok(n) => n,
                    };
                    left -= n as u64;
                    let from_here = skip.min(n as u64) as usize;
                    skip -= from_here as u64;
                    let new = &buf[from_here..n];
                    if new.is_empty() {
                        continue;
                    }
                    let to: &mut (dyn Write + Send) = if is_out { &mut *out } else { &mut *err };
                    if to.write_all(new).and_then(|()| to.flush()).is_err() {
                        result.closed = true;
                        return Ok(result);
                    }
                    *next += new.len() as u64;
                }
            }
            _ => return Err(Malformed(format!("a frame header {text:?}"))),
        }
    }
}

impl Malformed {
    fn cut() -> Malformed {
        Malformed("a frame header that could not be read".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], got: &mut Got) -> (Vec<u8>, Vec<u8>, Result<Read, Malformed>) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let r = read(&mut &input[..], &mut out, &mut err, got);
        (out, err, r)
    }

    #[test]
    fn each_byte_once_in_order_and_gaps_counted() {
        let mut got = Got::default();
        let (out, err, r) = frames(b"o 0 3\nabce 0 2\nxyo 3 2\nde", &mut got);
        assert_eq!((&out[..], &err[..]), (&b"abcde"[..], &b"xy"[..]));
        assert!(r.unwrap().ended.is_none());
        // Again from an older byte (a resent frame): nothing repeated.
        let mut again = got;
        let (out, _, _) = frames(b"o 2 5\ncdefg", &mut again);
        assert_eq!(out, b"fg");
        assert_eq!(again.out, 7);
        // A gap: the workspace had dropped those bytes.
        let (out, _, r) = frames(b"o 20 1\nzx 3 timeout\n", &mut again);
        assert_eq!(out, b"z");
        assert_eq!((again.out, again.out_dropped), (21, 13));
        assert_eq!(r.unwrap().ended, Some((3, How::Timeout)));
    }

    #[test]
    fn a_cut_read_keeps_what_was_written() {
        let mut got = Got::default();
        let (out, _, r) = frames(b"o 0 10\nabc", &mut got);
        assert_eq!(out, b"abc");
        assert_eq!(got.out, 3);
        assert!(r.is_ok());
        let (_, _, r) = frames(b"o 3 ", &mut got);
        assert!(r.is_ok(), "a header cut by the link");
    }

    #[test]
    fn forged_frames_are_refused() {
        for bad in [
            &b"o 0 99999999999\n"[..],
            b"o -1 2\nab",
            b"o 0 0\n",
            b"q 0 1\na",
            b"x 999 exit\n",
            b"x 0 reboot\n",
            b"\x1b[2J\n",
            &[b'o'; 100],
        ] {
            let mut got = Got::default();
            let (out, _, r) = frames(bad, &mut got);
            assert!(r.is_err(), "{:?}", String::from_utf8_lossy(bad));
            assert!(out.is_empty());
        }
    }
}
