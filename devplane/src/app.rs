//! The devplane's shared state and the workspace operations behind the API:
//! start (with a boot delay), stop, mint, create, delete, and restoring
//! running gateways after a restart.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::ca::{self, Authorities, Mode};
use crate::dev::Controls;
use crate::relay::Relay;
use crate::sshd::{self, Files, Gateway};
use crate::state::{self, Power, Saved, Workspace};
use crate::{clock, names};

/// The app as the HTTP handlers share it.
pub type AppState = std::sync::Arc<App>;

/// The longest session a mint grants, whatever was asked.
pub const MAX_TTL: u64 = 1800;

pub struct Options {
    pub data_dir: PathBuf,
    pub workspaces: u32,
    pub boot_delay: Duration,
    pub ssh_disabled: bool,
    pub token: Option<String>,
    /// Put a relay with faults on demand (`/_dev/link`) in front of each
    /// gateway; bundles then name the relay.
    pub relay: bool,
    /// How gateways know minted keys: listed, or certified by a CA.
    pub credential: Mode,
}

pub struct App {
    pub data_dir: PathBuf,
    pub sshd: PathBuf,
    pub user: String,
    pub boot_delay: Duration,
    pub ssh_disabled: bool,
    pub relay: bool,
    /// The CAs, in certificate mode.
    pub authorities: Option<Authorities>,
    /// `http://127.0.0.1:<port>`, known once the listener is bound.
    pub base: Mutex<String>,
    inner: Mutex<Inner>,
}

pub struct Inner {
    pub saved: Saved,
    pub gateways: HashMap<u64, Gateway>,
    /// The relay in front of each gateway: the port bundles name.
    pub relays: HashMap<u64, Relay>,
    pub dev: Controls,
    /// Bumped by every start and stop, so a boot that finishes after the
    /// workspace was stopped again knows it is stale.
    epochs: HashMap<u64, u64>,
    /// Set by `shutdown`: a boot that finishes after it keeps no gateway.
    shut: bool,
}

/// A refusal the API turns into a status and a message.
#[derive(Debug)]
pub struct Refusal {
    pub status: u16,
    pub message: String,
}

impl Refusal {
    pub fn new(status: u16, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

impl App {
    /// Loads or creates the state, and restarts the gateways of workspaces
    /// that were running when the devplane last stopped.
    pub fn open(opts: &Options, sshd: PathBuf, user: String) -> Result<Arc<App>, String> {
        runcode_rules::fs::private_dir(&opts.data_dir)
            .map_err(|e| format!("{}: {e}", opts.data_dir.display()))?;
        let mut saved = match state::load(&opts.data_dir)? {
            Some(saved) => saved,
            None => initial(opts, &user),
        };
        if let Some(token) = &opts.token {
            saved.token.clone_from(token);
        }
        state::save(&opts.data_dir, &saved)?;
        let authorities = match opts.credential {
            Mode::Key => None,
            Mode::Certificate => Some(Authorities::open(&opts.data_dir)?),
        };
        let app = Arc::new(App {
            data_dir: opts.data_dir.clone(),
            sshd,
            user,
            boot_delay: opts.boot_delay,
            ssh_disabled: opts.ssh_disabled,
            relay: opts.relay,
            authorities,
            base: Mutex::new(String::new()),
            inner: Mutex::new(Inner {
                saved,
                gateways: HashMap::new(),
                relays: HashMap::new(),
                dev: Controls::default(),
                epochs: HashMap::new(),
                shut: false,
            }),
        });
        app.restore()?;
        Ok(app)
    }

    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn token(&self) -> String {
        self.lock().saved.token.clone()
    }

    pub fn base(&self) -> String {
        self.base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub fn files(&self, id: u64) -> Files {
        Files::new(&self.data_dir, id)
    }

    fn launch(&self, id: u64) -> Result<Gateway, String> {
        sshd::launch(
            &self.sshd,
            &self.files(id),
            &self.user,
            self.authorities.as_ref(),
        )
    }

    pub fn web_url(&self, ws: &Workspace) -> String {
        format!("{}/ws/{}/", self.base(), ws.title)
    }

    fn restore(&self) -> Result<(), String> {
        let ids: Vec<(u64, bool, Power)> = {
            let inner = self.lock();
            inner
                .saved
                .workspaces
                .iter()
                .map(|w| (w.id, w.ssh_capable(), w.power))
                .collect()
        };
        for (id, capable, power) in ids {
            sshd::kill_stale(&self.files(id));
            if !matches!(power, Power::Running | Power::Starting) {
                continue;
            }
            if capable {
                let gateway = self.launch(id)?;
                let relay = if self.relay {
                    let relay = tokio::runtime::Handle::current()
                        .block_on(Relay::start(gateway.port))
                        .map_err(|e| format!("workspace {id}: no relay: {e}"))?;
                    Some(relay)
                } else {
                    None
                };
                let mut inner = self.lock();
                inner.gateways.insert(id, gateway);
                if let Some(relay) = relay {
                    inner.relays.insert(id, relay);
                }
            }
            let mut inner = self.lock();
            if let Some(ws) = inner.saved.workspaces.iter_mut().find(|w| w.id == id) {
                ws.power = Power::Running;
            }
        }
        let inner = self.lock();
        state::save(&self.data_dir, &inner.saved)
    }

    /// Begins a start: `starting` now, `running` once the boot delay has
    /// passed and the gateway answers.
    pub fn start(self: &Arc<Self>, id: u64) -> Result<String, Refusal> {
        let epoch = {
            let mut inner = self.lock();
            let ws = find_mut(&mut inner.saved, id)?;
            if matches!(ws.power, Power::Running | Power::Starting) {
                return Ok(format!(
                    "workspace {id} is already {}",
                    power_word(ws.power)
                ));
            }
            ws.power = Power::Starting;
            let epoch = inner.bump(id);
            self.persist(&inner);
            epoch
        };
        let app = Arc::clone(self);
        tokio::spawn(async move { app.boot(id, epoch).await });
        Ok(format!("starting workspace {id}"))
    }

    async fn boot(self: Arc<Self>, id: u64, epoch: u64) {
        tokio::time::sleep(self.boot_delay).await;
        let capable = self
            .lock()
            .saved
            .workspaces
            .iter()
            .any(|w| w.id == id && w.ssh_capable());
        let app = Arc::clone(&self);
        let launched = if capable {
            tokio::task::spawn_blocking(move || app.launch(id).map(Some))
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
        } else {
            Ok(None)
        };
        let relay = match &launched {
            Ok(Some(g)) if self.relay => Relay::start(g.port).await.ok(),
            _ => None,
        };
        let mut inner = self.lock();
        // A shutdown that came meanwhile wants no new gateway: the epoch
        // it bumped makes this one unwanted, and it is stopped below.
        let current = inner.epochs.get(&id) == Some(&epoch) && !inner.shut;
        match launched {
            Ok(gateway) if current => {
                if let Some(g) = gateway {
                    inner.gateways.insert(id, g);
                }
                if let Some(r) = relay {
                    inner.relays.insert(id, r);
                }
                if let Ok(ws) = find_mut(&mut inner.saved, id) {
                    ws.power = Power::Running;
                }
                self.persist(&inner);
            }
            Ok(gateway) => {
                // Stopped or deleted while booting: this gateway is not wanted.
                drop(inner);
                if let Some(g) = gateway {
                    tokio::task::spawn_blocking(move || sshd::stop(g));
                }
            }
            Err(e) => {
                crate::say(&format!("workspace {id}: the gateway did not start: {e}"));
                if current && let Ok(ws) = find_mut(&mut inner.saved, id) {
                    ws.power = Power::Stopped;
                }
                self.persist(&inner);
            }
        }
    }

    /// Stops a workspace: its sshd and every session go, its keys are dropped.
    pub async fn stop(self: &Arc<Self>, id: u64) -> Result<String, Refusal> {
        let gateway = {
            let mut inner = self.lock();
            let ws = find_mut(&mut inner.saved, id)?;
            if ws.power == Power::Stopped {
                return Ok(format!("workspace {id} is already stopped"));
            }
            ws.power = Power::Stopped;
            inner.bump(id);
            self.persist(&inner);
            inner.relays.remove(&id);
            inner.gateways.remove(&id)
        };
        if let Some(g) = gateway {
            let _ = tokio::task::spawn_blocking(move || sshd::stop(g)).await;
        }
        let _ = sshd::revoke(&self.files(id));
        Ok(format!("stopping workspace {id}"))
    }

    /// Registers `public_key` for `ttl` seconds (capped) and answers the bundle.
    pub fn mint(
        &self,
        id: u64,
        public_key: &str,
        ttl: u64,
        client: &str,
    ) -> Result<serde_json::Value, Refusal> {
        if self.ssh_disabled {
            return Err(Refusal::new(
                503,
                "SSH access is not enabled on this server yet",
            ));
        }
        let mut inner = self.lock();
        let ws = find_mut(&mut inner.saved, id)?.clone();
        if !ws.ssh_capable() {
            return Err(Refusal::new(
                409,
                format!("workspace {id} cannot be reached over SSH"),
            ));
        }
        let port = match (ws.power, inner.gateways.get(&id)) {
            (Power::Running, Some(g)) => inner.relays.get(&id).map_or(g.port, |r| r.port),
            _ => return Err(Refusal::new(409, format!("workspace {id} is not running"))),
        };
        let key = ssh_key::PublicKey::from_openssh(public_key)
            .map_err(|_| Refusal::new(400, "public_key must be one OpenSSH public key line"))?;
        let key_line = key
            .to_openssh()
            .map_err(|e| Refusal::new(400, e.to_string()))?;
        let key_line = key_line
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        let comment: String = client
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
            .take(40)
            .collect();
        // `/_dev/expire` stands in for waiting out a window: the session
        // comes back with its time already up.
        let expires = if inner.dev.take_expiry(id) {
            clock::now().saturating_sub(1)
        } else {
            clock::now() + ttl.clamp(1, MAX_TTL)
        };
        let files = self.files(id);
        let comment = format!("runcode-{comment}");
        let certified = self.authorities.is_some();
        sshd::add_key(&files, &key_line, &comment, expires, certified)
            .map_err(|e| Refusal::new(500, e))?;
        let host_key = files.prepare().map_err(|e| Refusal::new(500, e))?;
        let (known_hosts, credential) = match &self.authorities {
            None => (
                format!("[127.0.0.1]:{port} {host_key}"),
                serde_json::json!({"type": "key", "certificate": null}),
            ),
            Some(ca) => {
                // `/_dev/certificate` arms a certificate that ends before
                // the session does.
                let ends = inner
                    .dev
                    .take_short_certificate(id)
                    .map_or(expires, |secs| expires.min(clock::now() + secs));
                let now = clock::now();
                let good = ca
                    .sign_user(
                        &key,
                        &comment,
                        &[&ws.ssh_user],
                        ca::user_valid_after(now),
                        ends,
                    )
                    .map_err(|e| Refusal::new(500, e))?;
                let certificate = inner
                    .dev
                    .hostile_certificate(ca, &key, &ws.ssh_user, good, now, &self.data_dir)
                    .map_err(|e| Refusal::new(500, e))?;
                let pin = ca
                    .pin_line("127.0.0.1", port)
                    .map_err(|e| Refusal::new(500, e))?;
                (
                    pin,
                    serde_json::json!({"type": "certificate", "certificate": certificate}),
                )
            }
        };
        let bundle = serde_json::json!({
            "host": "127.0.0.1",
            "port": port,
            "user": ws.ssh_user,
            "known_hosts": known_hosts,
            "expires_at": clock::iso8601(expires),
            "web_url": self.web_url(&ws),
            "workdir": files.workdir().display().to_string(),
            "credential": credential,
            "ssh_config": format!("Host runcode-{user}\n  HostName 127.0.0.1\n  Port {port}\n  User {user}\n", user = ws.ssh_user),
        });
        Ok(inner.dev.hostile_bundle(bundle, &self.data_dir))
    }

    /// Creates an owned, SSH-capable workspace and starts it.
    pub fn create(
        self: &Arc<Self>,
        custom_title: Option<String>,
    ) -> Result<serde_json::Value, Refusal> {
        let ws = {
            let mut inner = self.lock();
            let id = inner.saved.next_id;
            inner.saved.next_id += 1;
            let ws = Workspace {
                id,
                title: names::title(id),
                custom_title,
                provider: "aws".to_owned(),
                shared: false,
                power: Power::Stopped,
                ssh_user: self.user.clone(),
            };
            inner.saved.workspaces.push(ws.clone());
            self.persist(&inner);
            ws
        };
        self.start(ws.id)?;
        let inner = self.lock();
        let current = inner
            .saved
            .workspaces
            .iter()
            .find(|w| w.id == ws.id)
            .unwrap_or(&ws);
        Ok(self.listing(current))
    }

    /// Deletes an owned workspace, its gateway and its files.
    pub async fn delete(self: &Arc<Self>, id: u64) -> Result<String, Refusal> {
        {
            let mut inner = self.lock();
            let ws = find_mut(&mut inner.saved, id)?;
            if ws.shared {
                return Err(Refusal::new(
                    403,
                    format!("workspace {id} belongs to a teammate"),
                ));
            }
        }
        self.stop(id).await?;
        {
            let mut inner = self.lock();
            inner.saved.workspaces.retain(|w| w.id != id);
            inner.bump(id);
            self.persist(&inner);
        }
        let _ = std::fs::remove_dir_all(self.files(id).dir);
        Ok(format!("deleted workspace {id}"))
    }

    /// A workspace as production lists it.
    pub fn listing(&self, ws: &Workspace) -> serde_json::Value {
        let (interim, current) = match ws.power {
            Power::Running => (None, "Running"),
            Power::Stopped => (None, "Stopped"),
            Power::Starting => (Some("Starting"), "Stopped"),
            Power::Stopping => (Some("Stopping"), "Running"),
        };
        serde_json::json!({
            "id": ws.id,
            "title": ws.title,
            "custom_title": ws.custom_title,
            "provider": ws.provider,
            "interim_state": interim,
            "current_state": current,
            "ssh_user": ws.ssh_user,
            "web_url": self.web_url(ws),
        })
    }

    fn persist(&self, inner: &Inner) {
        if let Err(e) = state::save(&self.data_dir, &inner.saved) {
            crate::say(&format!("cannot save state: {e}"));
        }
    }

    /// Stops every gateway (on SIGINT/SIGTERM). States are kept, so a
    /// restart brings the running workspaces back.
    pub fn shutdown(&self) {
        let gateways: Vec<Gateway> = {
            let mut inner = self.lock();
            inner.shut = true;
            inner.relays.clear();
            inner.gateways.drain().map(|(_, g)| g).collect()
        };
        for g in gateways {
            sshd::stop(g);
        }
    }
}

impl Inner {
    fn bump(&mut self, id: u64) -> u64 {
        let epoch = self.epochs.entry(id).or_insert(0);
        *epoch += 1;
        *epoch
    }

    pub fn gateway_pid(&self, id: u64) -> Option<(u32, u16)> {
        self.gateways.get(&id).map(|g| (g.pid(), g.port))
    }
}

fn find_mut(saved: &mut Saved, id: u64) -> Result<&mut Workspace, Refusal> {
    saved
        .workspaces
        .iter_mut()
        .find(|w| w.id == id)
        .ok_or_else(|| Refusal::new(404, format!("no workspace {id}")))
}

fn power_word(power: Power) -> &'static str {
    match power {
        Power::Running => "running",
        Power::Starting => "starting",
        Power::Stopped => "stopped",
        Power::Stopping => "stopping",
    }
}

/// The first start: `n` owned workspaces (the first one running), one shared
/// by a teammate, and one that is not SSH-capable.
fn initial(opts: &Options, user: &str) -> Saved {
    let mut bytes = [0u8; 24];
    ssh_key::rand_core::RngCore::fill_bytes(&mut ssh_key::rand_core::OsRng, &mut bytes);
    let token = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut workspaces = Vec::new();
    let mut id = 1001;
    let mut add = |custom: Option<&str>, provider: &str, shared: bool, power: Power| {
        workspaces.push(Workspace {
            id,
            title: names::title(id),
            custom_title: custom.map(str::to_owned),
            provider: provider.to_owned(),
            shared,
            power,
            ssh_user: user.to_owned(),
        });
        id += 1;
    };
    for n in 0..opts.workspaces {
        let power = if n == 0 {
            Power::Running
        } else {
            Power::Stopped
        };
        add(Some(&format!("Project {}", n + 1)), "aws", false, power);
    }
    add(Some("Team demo"), "aws", true, Power::Stopped);
    add(Some("Notebook"), "gcp", false, Power::Stopped);
    Saved {
        token,
        email: "developer@devplane.local".to_owned(),
        next_id: id,
        workspaces,
    }
}
