//! Time as the API and sshd want it: ISO 8601 in UTC for `expires_at`, and
//! `YYYYMMDDHHMMSSZ` for the `expiry-time` option of `authorized_keys`.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Splits seconds since the epoch into a UTC date and time.
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    let year = yoe + era * 400 + i64::from(month <= 2);
    let [h, m, s] = [rem / 3600, rem % 3600 / 60, rem % 60].map(|v| u32::try_from(v).unwrap_or(0));
    (year, month, day, h, m, s)
}

/// `2026-11-22T10:30:00+00:00`
pub fn iso8601(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
}

/// `20261122103000Z`, which sshd reads as UTC.
pub fn sshd_expiry(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = civil(secs);
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")
}

/// Reads back an `sshd_expiry` stamp (for pruning), `None` if malformed.
pub fn parse_sshd_expiry(stamp: &str) -> Option<u64> {
    let digits = stamp.strip_suffix('Z')?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| digits[r].parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(8..10)?, num(10..12)?, num(12..14)?);
    // Days from civil (the inverse of `civil`).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_agree_with_known_instants() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_795_343_400), "2026-11-22T10:30:00+00:00");
        assert_eq!(sshd_expiry(951_782_400), "20000229000000Z");
        for t in [0, 951_782_400, 1_795_343_400, 4_102_444_799] {
            assert_eq!(parse_sshd_expiry(&sshd_expiry(t)), Some(t));
        }
        assert_eq!(parse_sshd_expiry("2026"), None);
    }
}
