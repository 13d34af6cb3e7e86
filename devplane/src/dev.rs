//! Test controls served under `/_dev/`: hostile answers (to prove the CLI
//! refuses them), injected slow or failing answers, revocation of a
//! workspace's keys, and the request log tests assert on.

use std::path::Path;

use serde::{Deserialize, Serialize};
use ssh_key::certificate::CertType;

use crate::ca::{self, Authorities};

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
    /// A custom title carrying URI parameters (`&host=evil.example...`),
    /// which `config-ssh` writes as the host's comment line.
    DisplayInject,
    /// That custom title, and a title that continues onto the comment line
    /// `config-ssh` wrote for it: `<title>\n  # <custom title>`.
    TitleInject,
    /// Certificate mode: a certificate of another key than the minted one.
    CertOtherKey,
    /// Certificate mode: a host certificate of the minted key.
    CertHost,
    /// Certificate mode: a certificate for another user.
    CertPrincipal,
    /// Certificate mode: a certificate that ended an hour ago.
    CertExpired,
    /// Certificate mode: a certificate that starts in an hour.
    CertFuture,
    /// Certificate mode: the real certificate and a second line with an
    /// ssh directive.
    CertSecondLine,
    /// Certificate mode: a certificate type and base64 that is not one.
    CertGarbage,
    /// Certificate mode: the minted public key itself, no certificate.
    CertPlainKey,
    /// Certificate mode: CA lines for every host, a list and another host
    /// around the real pin.
    CaWide,
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
    /// Workspaces whose next certificate ends this many seconds from now.
    short_certificates: Vec<(u64, u64)>,
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
        self.short_certificates.clear();
    }

    /// Arms workspace `id`'s next certificate to end `secs` from now.
    pub fn shorten_next_certificate(&mut self, id: u64, secs: u64) {
        self.short_certificates.push((id, secs));
    }

    /// Takes the armed certificate life of workspace `id`, if there is one.
    pub fn take_short_certificate(&mut self, id: u64) -> Option<u64> {
        let i = self.short_certificates.iter().position(|(w, _)| *w == id)?;
        Some(self.short_certificates.remove(i).1)
    }

    /// The certificate a mint answers: `good`, or what an armed hostile
    /// certificate mode makes of it.
    pub fn hostile_certificate(
        &mut self,
        ca: &Authorities,
        key: &ssh_key::PublicKey,
        user: &str,
        good: String,
        now: u64,
        data_dir: &Path,
    ) -> Result<String, String> {
        let day = (ca::user_valid_after(now), now + 3600);
        Ok(if self.take(Hostile::CertOtherKey) {
            let other = ca::random_key()?;
            ca.sign_with(other.public_key(), CertType::User, &[user], day)?
        } else if self.take(Hostile::CertHost) {
            ca.sign_with(key, CertType::Host, &[user], day)?
        } else if self.take(Hostile::CertPrincipal) {
            ca.sign_with(key, CertType::User, &["someone-else"], day)?
        } else if self.take(Hostile::CertExpired) {
            ca.sign_with(key, CertType::User, &[user], (now - 7200, now - 3600))?
        } else if self.take(Hostile::CertFuture) {
            ca.sign_with(key, CertType::User, &[user], (now + 3600, now + 7200))?
        } else if self.take(Hostile::CertSecondLine) {
            let marker = data_dir.join("pwned-certificate");
            format!("{good}\nProxyCommand touch {}", marker.display())
        } else if self.take(Hostile::CertGarbage) {
            "ssh-ed25519-cert-v01@openssh.com AAAAC3NzaC1lZDI1NTE5AAAAnotacertificate runcode"
                .to_owned()
        } else if self.take(Hostile::CertPlainKey) {
            ca::public_line(key)?
        } else {
            good
        })
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

    /// The armed title injection, if any: `Some(false)` for the custom
    /// title alone, `Some(true)` for the title too.
    pub fn title_inject(&mut self) -> Option<bool> {
        if self.take(Hostile::TitleInject) {
            Some(true)
        } else if self.take(Hostile::DisplayInject) {
            Some(false)
        } else {
            None
        }
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
        if self.take(Hostile::CaWide) {
            let real = b["known_hosts"].as_str().unwrap_or_default().to_owned();
            let ca = real.rsplit_once(" ssh-").map_or("", |(_, k)| k);
            b["known_hosts"] = format!(
                "@cert-authority * ssh-{ca}\n@cert-authority [127.0.0.1]:1,* ssh-{ca}\n\
                 @cert-authority [gw.example]:22 ssh-{ca}\n@cert-authority 127.0.0.1 ssh-{ca}\n{real}\n"
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
/// The custom title of the injection modes.
const INJECTED: &str = "pwn&host=evil.example&port=2222&user=root";

/// `DisplayInject` (`title` false) or `TitleInject` on one listing entry.
pub fn inject_title(entry: &mut serde_json::Value, title: bool) {
    entry["custom_title"] = INJECTED.into();
    if title {
        let real = entry["title"].as_str().unwrap_or_default().to_owned();
        entry["title"] = format!("{real}\n  # {INJECTED}").into();
    }
}

pub fn hostile_titles(entry: &mut serde_json::Value) {
    entry["title"] = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J-title".into();
    entry["custom_title"] = "clip\u{1b}]52;c;cHduZWQ=\u{7}\u{9b}31mred\u{7f}".into();
}
