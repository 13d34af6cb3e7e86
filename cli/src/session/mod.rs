//! Sessions: what a command needs to reach a workspace over ssh. The parts:
//! `policy` (when a cached session will do), `mint` (reuse or mint, and
//! renew), `store` (the session directory on disk) and `socket` (where the
//! master's control socket goes). A `Session` hands ssh its target; the
//! master is closed before its material goes.

mod mint;
mod policy;
mod socket;
mod store;

use std::path::Path;

pub use mint::{acquire, replace};
pub use policy::{Policy, Request};
pub use runcode_rules::time::now;
pub use socket::short_dir;
pub use store::{CERTIFICATE, FORWARDS, HELD, KEEPER, KEY, Meta, all, load, remove};

use crate::remote::ssh::{Control, Ssh, Streams, Target, Transport};

#[derive(Debug, Clone)]
pub struct Session {
    pub meta: Meta,
}

impl Session {
    pub fn seconds_left(&self) -> i64 {
        self.meta.expires_epoch - now()
    }

    pub fn config(&self) -> &Path {
        &self.meta.config
    }

    pub fn alias(&self) -> &str {
        &self.meta.alias
    }

    /// The session directory (`<cache>/ws-<id>/`), where its config lives.
    pub fn dir(&self) -> &Path {
        self.meta.config.parent().unwrap_or_else(|| Path::new("."))
    }

    /// What ssh needs to reach this session.
    pub fn target(&self) -> Target<'_> {
        Target {
            config: self.config(),
            alias: self.alias(),
            control_path: self.meta.control_path.as_deref(),
            seconds_left: self.seconds_left(),
        }
    }

    /// An ssh to this session through its shared master.
    pub fn ssh(&self) -> Ssh<'_> {
        Ssh::to(self.target())
    }

    /// Tells a running master (or held connection) to exit; its socket
    /// goes with it.
    pub fn close_master(&self) {
        // Each by its own client: a session may hold both, one opened
        // under each transport (RUNCODE_TRANSPORT changed in between).
        let exit = |via: Transport| {
            let _ = self
                .ssh()
                .via(via)
                .control(Control::Exit)
                .streams(Streams::Quiet)
                .command()
                .status();
        };
        if self.dir().join(HELD).exists() {
            exit(Transport::Builtin);
        }
        let Some(socket) = &self.meta.control_path else {
            return;
        };
        // A master being opened ahead of the first command is let finish
        // (its socket does not exist yet), then told to exit.
        crate::remote::ssh::wait_opened(self.dir());
        if !socket.exists() {
            return;
        }
        exit(Transport::OpenSsh);
        let _ = std::fs::remove_file(socket);
    }
}
