//! The waits that can be changed through the environment, read in one
//! place. Each is a bound a user may want shorter or longer (a slow
//! network, a script that would rather fail fast), and the end-to-end
//! tests use the same settings to make a long wait short. docs/cli.md
//! ("Tuning the waits") lists them; a tidy test keeps that list and `ALL`
//! the same. A value that is not a number, or is out of its range, is
//! ignored and the default holds.

use std::time::Duration;

/// One setting: its variable, unit, default and range.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    pub var: &'static str,
    /// Milliseconds per unit of the variable's value.
    pub unit_ms: u64,
    pub default: u64,
    pub min: u64,
    pub max: u64,
    /// What it bounds, for the docs.
    pub what: &'static str,
}

/// How long a command whose link dropped keeps trying to reach the
/// workspace again before it gives up with `disconnected`.
pub const RESUME: Knob = Knob {
    var: "RUNCODE_RESUME_SECS",
    unit_ms: 1000,
    default: 300,
    min: 1,
    max: 3600,
    what: "seconds a command whose connection dropped keeps trying to reach the workspace again",
};

/// How often `start`, `connect --start` and `open --editor --start` ask
/// whether a booting workspace runs yet.
pub const POLL: Knob = Knob {
    var: "RUNCODE_POLL_MS",
    unit_ms: 1,
    default: 3000,
    min: 50,
    max: 60_000,
    what: "milliseconds between two looks at a booting workspace",
};

/// How long a transfer runs before it shows progress.
pub const PROGRESS_AFTER: Knob = Knob {
    var: "RUNCODE_PROGRESS_AFTER_MS",
    unit_ms: 1,
    default: 1000,
    min: 0,
    max: 60_000,
    what: "milliseconds a put, get or write runs before it shows its progress",
};

/// How long the MCP `exec` and `run_output` wait for a command before they
/// hand its run back, when the call names no `wait_seconds`: below the
/// shortest tool timeout of the clients runcode ships for (Codex's 300 s).
pub const MCP_WAIT: Knob = Knob {
    var: "RUNCODE_MCP_WAIT_SECS",
    unit_ms: 1000,
    default: 120,
    min: 1,
    max: 3600,
    what: "seconds the MCP exec and run_output tools wait before they hand a running command back (when the call names no wait_seconds)",
};

/// How long a session's connection (the OpenSSH master, or the held
/// connection of the builtin transport) stays up with no command on it,
/// for the next one; never past the session's end. Read when a command
/// starts the connection or runs on it.
pub const IDLE: Knob = Knob {
    var: "RUNCODE_IDLE_SECS",
    unit_ms: 1000,
    default: 300,
    min: 1,
    max: 3600,
    what: "seconds a session's connection (the OpenSSH master or the held connection) stays up with no command on it, never past the session",
};

pub const ALL: &[Knob] = &[RESUME, POLL, PROGRESS_AFTER, MCP_WAIT, IDLE];

impl Knob {
    /// The setting's value now.
    pub fn get(&self) -> Duration {
        let value = std::env::var(self.var)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|v| (self.min..=self.max).contains(v))
            .unwrap_or(self.default);
        Duration::from_millis(value.saturating_mul(self.unit_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_hold_for_values_out_of_range() {
        for knob in ALL {
            assert!(
                knob.min <= knob.default && knob.default <= knob.max,
                "{knob:?}"
            );
        }
        // The environment of the test process is not touched: each value
        // is judged the way `get` judges it.
        let judge = |k: &Knob, v: &str| {
            v.trim()
                .parse::<u64>()
                .ok()
                .filter(|v| (k.min..=k.max).contains(v))
                .unwrap_or(k.default)
        };
        assert_eq!(judge(&POLL, "10"), 3000);
        assert_eq!(judge(&POLL, "x"), 3000);
        assert_eq!(judge(&POLL, "100"), 100);
        assert_eq!(judge(&RESUME, "0"), 300);
    }
}
