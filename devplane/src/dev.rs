//! Test controls served under `/_dev/`: hostile answers (to prove the CLI
//! refuses them), injected slow or failing answers, revocation of a
//! workspace's keys, and the request log tests assert on.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Ways the next answers can turn hostile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hostile {
    /// `user` with a newline and an ssh directive.
    User,
    /// `host` carrying an ssh option.
    Host,
    /// `port` that is not a port.
    Port,
    /// `workdir` with `..` and a command substitution.
    Workdir,
    /// `ssh_config` with a `ProxyCommand` that would touch a marker file.
    ProxyCommand,
    /// `known_hosts` with smuggled options, markers and comments around the real line.
    KnownHosts,
    /// `known_hosts` with no usable line at all.
    KnownHostsNone,
    /// Required bundle fields missing.
    Missing,
    /// Titles in the workspace list with terminal escape sequences.
    Title,
}

/// An injected fault for requests whose path starts with `path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fault {
    pub path: String,
    /// Answer with this status instead of serving the request.
    #[serde(default)]
    pub status: Option<u16>,
    /// The body of that answer (default: a JSON error message).
    #[serde(default)]
    pub body: Option<String>,
    /// Wait this long first.
    #[serde(default)]
    pub delay_ms: u64,
    /// How many requests it applies to.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Serialize)]
pub struct Logged {
    pub method: String,
    pub path: String,
    pub status: u16,
}

#[derive(Default)]
pub struct Controls {
    hostile: Vec<(Hostile, u32)>,
    faults: Vec<Fault>,
    /// Workspaces whose next mint answers a session that has already expired.
    expiring: Vec<u64>,
    pub log: Vec<Logged>,
}

impl Controls {
    pub fn add_hostile(&mut self, mode: Hostile, count: u32) {
        self.hostile.push((mode, count));
    }

    pub fn add_fault(&mut self, fault: Fault) {
        self.faults.push(fault);
    }

    pub fn reset(&mut self) {
        self.hostile.clear();
        self.faults.clear();
        self.expiring.clear();
    }

    /// Arms workspace `id`'s next mint to come back already expired.
    pub fn expire_next(&mut self, id: u64) {
        self.expiring.push(id);
    }

    /// Takes the armed expiry of workspace `id`, if there is one.
    pub fn take_expiry(&mut self, id: u64) -> bool {
        let found = self.expiring.iter().position(|w| *w == id);
        found.map(|i| self.expiring.remove(i)).is_some()
    }

    /// Takes one use of `mode` if it is armed.
    fn take(&mut self, mode: Hostile) -> bool {
        let Some(i) = self.hostile.iter().position(|(m, n)| *m == mode && *n > 0) else {
            return false;
        };
        self.hostile[i].1 -= 1;
        if self.hostile[i].1 == 0 {
            self.hostile.remove(i);
        }
        true
    }

    /// Takes one use of the first fault matching `path`.
    pub fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|f| path.starts_with(&f.path) && f.count > 0)?;
        let fault = self.faults[i].clone();
        self.faults[i].count -= 1;
        if self.faults[i].count == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    pub fn title_hostile(&mut self) -> bool {
        self.take(Hostile::Title)
    }

    /// Applies every armed bundle-level mode to `bundle`. Markers are files
    /// under the data dir that a hostile value would create if obeyed.
    pub fn hostile_bundle(
        &mut self,
        mut bundle: serde_json::Value,
        data_dir: &Path,
    ) -> serde_json::Value {
        let marker = |what: &str| data_dir.join(format!("pwned-{what}")).display().to_string();
        let b = &mut bundle;
        if self.take(Hostile::User) {
            b["user"] = format!("dev\nProxyCommand touch {}", marker("user")).into();
        }
        if self.take(Hostile::Host) {
            b["host"] = format!("127.0.0.1 -oProxyCommand=touch {}", marker("host")).into();
        }
        if self.take(Hostile::Port) {
            b["port"] = "22 -oProxyCommand=sh".into();
        }
        if self.take(Hostile::Workdir) {
            b["workdir"] = format!("/tmp/../$(touch {})", marker("workdir")).into();
        }
        if self.take(Hostile::ProxyCommand) {
            let cfg = b["ssh_config"].as_str().unwrap_or_default().to_owned();
            b["ssh_config"] = format!(
                "{cfg}  ProxyCommand sh -c 'touch {}'\n",
                marker("proxycommand")
            )
            .into();
        }
        if self.take(Hostile::KnownHosts) {
            let real = b["known_hosts"].as_str().unwrap_or_default().to_owned();
            b["known_hosts"] = format!(
                "# pinned by the server\n@cert-authority * {key}\ncommand=\"touch {m}\" {real}\n{real} trailing comment\n\
                 {real}\u{1b}]0;title\u{7}\nnot a key line\n",
                key = real.split_once(' ').map_or("", |(_, k)| k),
                m = marker("known-hosts"),
            )
            .into();
        }
        if self.take(Hostile::KnownHostsNone) {
            b["known_hosts"] = "# nothing here\n@revoked * garbage\nhost onlytwo\n".into();
        }
        if self.take(Hostile::Missing)
            && let Some(map) = b.as_object_mut()
        {
            map.remove("host");
            map.remove("expires_at");
        }
        bundle
    }
}

/// The hostile title and custom title of a listed workspace.
pub fn hostile_titles(entry: &mut serde_json::Value) {
    entry["title"] = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J-title".into();
    entry["custom_title"] = "clip\u{1b}]52;c;cHduZWQ=\u{7}\u{9b}31mred\u{7f}".into();
}
