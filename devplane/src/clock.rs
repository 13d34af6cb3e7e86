//! Time as the devplane counts it (unsigned seconds since the epoch): the
//! calendar itself is runcode-rules' `time`, shared with the CLI.

use runcode_rules::time;

pub fn now() -> u64 {
    u64::try_from(time::now()).unwrap_or(0)
}

fn signed(secs: u64) -> i64 {
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// `2026-11-22T10:30:00+00:00`, for the API's `expires_at`.
pub fn iso8601(secs: u64) -> String {
    time::iso8601(signed(secs))
}

/// `20261122103000Z`, for the `expiry-time` option of `authorized_keys`.
pub fn sshd_expiry(secs: u64) -> String {
    time::sshd_stamp(signed(secs))
}

/// Reads back an `sshd_expiry` stamp (for pruning), `None` if malformed.
pub fn parse_sshd_expiry(stamp: &str) -> Option<u64> {
    time::parse_sshd_stamp(stamp).and_then(|s| u64::try_from(s).ok())
}
