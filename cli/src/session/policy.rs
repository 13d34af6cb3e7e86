//! When a cached session is good enough: a policy per kind of command, with
//! the margins of time left that each one needs (docs/sessions.md).

/// `Policy::Attach` reuses a cached session only with more than this left.
pub const ATTACH_MARGIN: i64 = 90;
/// `Policy::Command` reuses a cached session only with more than this left.
pub const COMMAND_MARGIN: i64 = 10;
/// `Policy::Proxy` renews a cached session with less than this left.
pub const PROXY_MARGIN: i64 = 60;

/// When a cached session is good enough, by what the command is about to do.
/// Every command that needs a session names its policy (the commands' tests
/// pin each one); docs/sessions.md explains the margins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// `connect`, `ssh`, `context`: the start of a piece of work. Reuse with
    /// more than `ATTACH_MARGIN` left, so the user is not handed a session
    /// about to end; else mint.
    Attach,
    /// `exec`, `put`, `get`, `write`, `forward`: one operation now. Reuse with
    /// more than `COMMAND_MARGIN` left (ssh's handshake fits; an
    /// authenticated connection then outlives the key's window); else mint.
    Command,
    /// `proxy`: ssh is already waiting on the other end. Reuse with more than
    /// `PROXY_MARGIN` left, else renew the key that is on disk (ssh read its
    /// public half before starting the proxy), under a per-workspace lock so
    /// that many connections at once mint once.
    Proxy,
}

impl Policy {
    pub fn margin(self) -> i64 {
        match self {
            Policy::Attach => ATTACH_MARGIN,
            Policy::Command => COMMAND_MARGIN,
            Policy::Proxy => PROXY_MARGIN,
        }
    }
}

/// What a command asks of `acquire`: its policy and its `--ttl` / `--force`.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub policy: Policy,
    /// Lifetime asked for a new session, in seconds.
    pub ttl: u64,
    /// Mint even when the cached session would do.
    pub force: bool,
}
