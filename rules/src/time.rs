//! Civil time in UTC without a calendar crate: seconds since the epoch to a
//! date and back (Howard Hinnant's algorithms), ISO 8601 as the API writes
//! it, and the `YYYYMMDDHHMMSSZ` stamps of sshd's `expiry-time`.

/// A UTC date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

/// Seconds since the epoch, now (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Splits seconds since the epoch into a UTC date and time.
pub fn civil(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
    }
}

/// Seconds since the epoch of a UTC date and time (the inverse of `civil`).
pub fn epoch(c: Civil) -> i64 {
    let y = if c.month <= 2 { c.year - 1 } else { c.year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((c.month + 9) % 12) + 2) / 5 + c.day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + c.hour * 3600 + c.minute * 60 + c.second
}

/// `2026-11-22T10:30:00+00:00` for seconds since the epoch.
pub fn iso8601(secs: i64) -> String {
    stamp(secs, ["-", "T", ":", "+00:00"])
}

/// The date and time of `secs`, their fields joined by `[date, between,
/// time, end]`.
fn stamp(secs: i64, [date, between, time, end]: [&str; 4]) -> String {
    let c = civil(secs);
    format!(
        "{:04}{date}{:02}{date}{:02}{between}{:02}{time}{:02}{time}{:02}{end}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// ISO 8601 date-time to seconds since the epoch: `T` or space between date
/// and time, optional fraction, then `Z`, `±HH:MM`, `±HHMM`, or nothing (UTC).
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, rest) = text.split_at_checked(10)?;
    let rest = rest.strip_prefix(['T', 't', ' '])?;
    let d: Vec<&str> = date.split('-').collect();
    let [y, mo, da] = d[..] else { return None };
    let (year, month, day) = (digits(y, 4)?, digits(mo, 2)?, digits(da, 2)?);
    let (clock, zone) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let clock = clock.split('.').next()?;
    let c: Vec<&str> = clock.split(':').collect();
    let (hour, minute, second) = match c[..] {
        [h, m] => (digits(h, 2)?, digits(m, 2)?, 0),
        [h, m, s] => (digits(h, 2)?, digits(m, 2)?, digits(s, 2)?),
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let offset = match zone {
        "" | "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let d: String = zone[1..].chars().filter(|c| *c != ':').collect();
            let (oh, om) = (digits(d.get(0..2)?, 2)?, digits(d.get(2..)?, 2)?);
            sign * (oh * 3600 + om * 60)
        }
    };
    let civil = Civil {
        year,
        month,
        day,
        hour,
        minute,
        second,
    };
    Some(epoch(civil) - offset)
}

/// `20261122103000Z`, which sshd reads as UTC.
pub fn sshd_stamp(secs: i64) -> String {
    stamp(secs, ["", "", "", "Z"])
}

/// Reads back an `sshd_stamp`, `None` if malformed.
pub fn parse_sshd_stamp(stamp: &str) -> Option<i64> {
    let d = stamp.strip_suffix('Z')?;
    if d.len() != 14 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| d[r].parse::<i64>().ok();
    Some(epoch(Civil {
        year: n(0..4)?,
        month: n(4..6)?,
        day: n(6..8)?,
        hour: n(8..10)?,
        minute: n(10..12)?,
        second: n(12..14)?,
    }))
}

/// A field of exactly `len` ASCII digits.
fn digits(s: &str, len: usize) -> Option<i64> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse::<i64>().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_agree_with_known_instants_and_round_trip() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_795_343_400), "2026-11-22T10:30:00+00:00");
        assert_eq!(sshd_stamp(951_782_400), "20000229000000Z");
        for t in [0, 951_782_400, 1_795_343_400, 4_102_444_799, -86_401] {
            assert_eq!(parse_iso8601(&iso8601(t)), Some(t));
            assert_eq!(parse_sshd_stamp(&sshd_stamp(t)), Some(t));
            assert_eq!(epoch(civil(t)), t);
        }
        assert_eq!(
            parse_iso8601("2026-11-22 12:30:00+0200"),
            Some(1_795_343_400)
        );
        assert_eq!(parse_iso8601("2026-11-22T10:30Z"), Some(1_795_343_400));
        assert_eq!(parse_iso8601("2026-13-22T10:30Z"), None);
        assert_eq!(parse_sshd_stamp("2026"), None);
    }
}
