//! Names for temporary files and directories that no other process, and no
//! other call in this one, can be using: the process id, a per-process
//! counter and the clock's nanoseconds.

use std::sync::atomic::{AtomicU32, Ordering};

// 32 bits, as the pid and the nanoseconds: the launcher formats no wider
// integer, and so carries no code for one (P7).
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `<prefix><pid>-<n>-<nanos><suffix>`.
pub fn name(prefix: &str, suffix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{prefix}{}-{n}-{nanos}{suffix}", std::process::id())
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_names_differ_and_keep_their_ends() {
        let (a, b) = (super::name(".x-", ".tmp"), super::name(".x-", ".tmp"));
        assert_ne!(a, b);
        assert!(a.starts_with(".x-") && a.ends_with(".tmp"));
    }
}
