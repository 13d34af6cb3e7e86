//! The gateways: one real OpenSSH `sshd` per running workspace, on loopback,
//! with its own port, ed25519 host key, managed `authorized_keys` (each key
//! carrying `expiry-time`, so sshd itself ends the session window) and
//! `workdir`. Everything of a workspace lives in `<data-dir>/ws-<id>/`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::ca::Authorities;
use crate::{clock, procs};

/// Finds `sshd` on PATH or in `/usr/sbin`.
pub fn find() -> Result<PathBuf, String> {
    runcode_rules::program::find("sshd").or_else(|| runcode_rules::program::find_in("sshd", ["/usr/sbin"])).ok_or_else(|| {
        "sshd (the OpenSSH server) is not installed: on Debian or Ubuntu run `sudo apt-get install openssh-server`; \
         macOS ships it as /usr/sbin/sshd"
            .to_owned()
    })
}

/// The files of one workspace's gateway.
pub struct Files {
    pub dir: PathBuf,
    pub id: u64,
}

impl Files {
    pub fn new(data_dir: &Path, id: u64) -> Files {
        Files {
            dir: data_dir.join(format!("ws-{id}")),
            id,
        }
    }
    pub fn host_key(&self) -> PathBuf {
        self.dir.join("ssh_host_ed25519_key")
    }
    pub fn config(&self) -> PathBuf {
        self.dir.join("sshd_config")
    }
    pub fn authorized_keys(&self) -> PathBuf {
        self.dir.join("authorized_keys")
    }
    /// The host key's certificate (certificate mode).
    pub fn host_certificate(&self) -> PathBuf {
        self.dir.join("ssh_host_ed25519_key-cert.pub")
    }
    /// The keys sshd refuses whatever certifies them (`RevokedKeys`).
    pub fn revoked_keys(&self) -> PathBuf {
        self.dir.join("revoked_keys")
    }
    /// The keys certified for this gateway's sessions, with their ends,
    /// as `authorized_keys` lists them in key mode: what a revocation
    /// moves to `revoked_keys`.
    pub fn certified(&self) -> PathBuf {
        self.dir.join("certified_keys")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.dir.join("sshd.pid")
    }
    pub fn log(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }
    pub fn workdir(&self) -> PathBuf {
        self.dir.join("workdir")
    }

    /// The environment entry sshd gives every session of this gateway, and
    /// so every process those sessions start, wherever it moves (a daemon
    /// that left its session keeps it): how a stop finds them all.
    pub fn marker(&self) -> String {
        format!("RUNCODE_GATEWAY={}", self.dir.display())
    }

    /// Creates the directory, the workdir and the host key (kept across
    /// restarts, so the pinned key stays the same). Returns the public key
    /// as `ssh-ed25519 <base64>`.
    pub fn prepare(&self) -> Result<String, String> {
        let io = |e: std::io::Error| format!("{}: {e}", self.dir.display());
        runcode_rules::fs::private_dir(&self.dir).map_err(io)?;
        std::fs::create_dir_all(self.workdir()).map_err(io)?;
        let key_path = self.host_key();
        let key = match std::fs::read_to_string(&key_path) {
            Ok(text) => ssh_key::PrivateKey::from_openssh(&text)
                .map_err(|e| format!("{}: {e}", key_path.display()))?,
            Err(_) => {
                let key = ssh_key::PrivateKey::random(
                    &mut ssh_key::rand_core::OsRng,
                    ssh_key::Algorithm::Ed25519,
                )
                .map_err(|e| e.to_string())?;
                let text = key
                    .to_openssh(ssh_key::LineEnding::LF)
                    .map_err(|e| e.to_string())?;
                runcode_rules::fs::write_private(&key_path, text.as_bytes(), 0o600).map_err(io)?;
                key
            }
        };
        let mut public = key.public_key().clone();
        public.set_comment("");
        public
            .to_openssh()
            .map(|s| s.trim().to_owned())
            .map_err(|e| e.to_string())
    }
}

/// The sshd configuration of one gateway. Paths are quoted so a data dir
/// with spaces still works. With `user_ca` (certificate mode) sshd trusts
/// only that CA's certificates, never an `authorized_keys` file, refuses
/// the keys in `revoked_keys`, and presents a host certificate.
pub fn render_config(files: &Files, port: u16, user: &str, user_ca: Option<&Path>) -> String {
    let q = |p: &Path| format!("\"{}\"", p.display());
    let trust = match user_ca {
        None => format!("AuthorizedKeysFile {}\n", q(&files.authorized_keys())),
        Some(ca) => format!(
            "AuthorizedKeysFile none\nTrustedUserCAKeys {}\nRevokedKeys {}\nHostCertificate {}\n",
            q(ca),
            q(&files.revoked_keys()),
            q(&files.host_certificate()),
        ),
    };
    format!(
        "# Written by runcode-devplane at every start of this workspace.\n\
         ListenAddress 127.0.0.1:{port}\n\
         HostKey {host_key}\n\
         PidFile {pid}\n\
         {trust}\
         AllowUsers {user}\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitEmptyPasswords no\n\
         PermitRootLogin prohibit-password\n\
         UsePAM no\n\
         StrictModes no\n\
         AllowTcpForwarding yes\n\
         AllowStreamLocalForwarding no\n\
         AllowAgentForwarding no\n\
         X11Forwarding no\n\
         PermitTunnel no\n\
         PermitUserEnvironment no\n\
         GatewayPorts no\n\
         UseDNS no\n\
         PrintMotd no\n\
         PrintLastLog no\n\
         MaxStartups 64:30:128\n\
         MaxSessions 64\n\
         LogLevel VERBOSE\n\
         Subsystem sftp internal-sftp\n\
         SetEnv \"{marker}\" \"XDG_CACHE_HOME={cache}\"\n",
        marker = files.marker(),
        cache = files.dir.join("cache").display(),
        host_key = q(&files.host_key()),
        pid = q(&files.pid_file()),
    )
}

/// A running sshd.
pub struct Gateway {
    pub port: u16,
    child: Child,
    pid_file: PathBuf,
    marker: String,
}

impl Gateway {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Starts the gateway of `files` for `user` and waits until it answers with
/// an SSH banner. Retries with another port if the chosen one was taken.
/// With `authorities` (certificate mode) the host key is certified anew,
/// for the names ssh reaches the gateway under: its address and the
/// `config-ssh` host name of the workspace (docs/api.md).
pub fn launch(
    sshd: &Path,
    files: &Files,
    user: &str,
    authorities: Option<&Authorities>,
) -> Result<Gateway, String> {
    let host_key = files.prepare()?;
    ensure_keys_file(files)?;
    if let Some(ca) = authorities {
        let key = ssh_key::PublicKey::from_openssh(&host_key).map_err(|e| e.to_string())?;
        let synthetic = format!("ws-{}.runcode.invalid", files.id);
        let cert = ca.sign_host(&key, &["127.0.0.1", &synthetic], clock::now())?;
        runcode_rules::fs::write_private(
            &files.host_certificate(),
            format!("{cert}\n").as_bytes(),
            0o600,
        )
        .map_err(|e| e.to_string())?;
    }
    let user_ca = authorities.map(Authorities::user_ca_file);
    let mut last = String::new();
    for _ in 0..3 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        std::fs::write(files.config(), render_config(files, port, user, user_ca))
            .map_err(|e| e.to_string())?;
        if procs::is_root() {
            ensure_privsep_dir(sshd, files)?;
        }
        let _ = std::fs::remove_file(files.log());
        let child = Command::new(sshd)
            .arg("-D")
            .arg("-f")
            .arg(files.config())
            .arg("-E")
            .arg(files.log())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", sshd.display()))?;
        let mut gateway = Gateway {
            port,
            child,
            pid_file: files.pid_file(),
            marker: files.marker(),
        };
        match wait_ready(&mut gateway, files) {
            Ok(()) => return Ok(gateway),
            Err(e) => {
                stop(gateway);
                last = e;
                if !last.contains("Address already in use") {
                    break;
                }
            }
        }
    }
    Err(last)
}

fn wait_ready(gateway: &mut Gateway, files: &Files) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = gateway.child.try_wait() {
            let mut stderr = String::new();
            if let Some(mut pipe) = gateway.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            let log = std::fs::read_to_string(files.log()).unwrap_or_default();
            return Err(format!(
                "sshd exited ({status}): {}{}",
                stderr.trim(),
                log.trim()
            ));
        }
        if banner(gateway.port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Err(format!(
        "sshd did not answer on 127.0.0.1:{} within 20 s",
        gateway.port
    ))
}

fn banner(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).is_ok() && &buf == b"SSH-"
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind(("127.0.0.1", 0))?
        .local_addr()?
        .port())
}

/// As root, sshd insists on its privilege-separation directory (Debian's
/// is /run/sshd, which a fresh container lacks). sshd's own config test
/// names the directory it wants; create it.
fn ensure_privsep_dir(sshd: &Path, files: &Files) -> Result<(), String> {
    let out = Command::new(sshd)
        .arg("-t")
        .arg("-f")
        .arg(files.config())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stderr);
    if let Some(rest) = text
        .split("Missing privilege separation directory: ")
        .nth(1)
    {
        let dir = rest.lines().next().unwrap_or("").trim();
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755));
        }
    }
    Ok(())
}

/// Stops a gateway and everything it started (per-connection processes
/// call setsid, so they are found by parentage, not by process group).
pub fn stop(gateway: Gateway) {
    drop(gateway);
}

/// A gateway dropped anywhere is stopped: one replaced in the table, or
/// one whose boot finished while the devplane was shutting down (its task
/// cancelled, or the table already emptied) never outlives the devplane.
impl Drop for Gateway {
    fn drop(&mut self) {
        halt(self);
    }
}

fn halt(gateway: &mut Gateway) {
    let pid = gateway.child.id();
    let family = procs::descendants(pid);
    procs::signal(pid, false);
    for p in &family {
        procs::signal(*p, false);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline && matches!(gateway.child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(10));
    }
    if matches!(gateway.child.try_wait(), Ok(None)) {
        let _ = gateway.child.kill();
    }
    let _ = gateway.child.wait();
    for p in procs::alive(&family) {
        procs::signal(p, true);
    }
    end_marked(&gateway.marker);
    let _ = std::fs::remove_file(&gateway.pid_file);
}

/// Ends whatever the gateway's sessions started that outlived them
/// (detached commands, background servers): nothing a workspace ran may
/// outlive its gateway. Twice, so a process started during the first pass
/// goes too.
fn end_marked(marker: &str) {
    for _ in 0..2 {
        for p in procs::with_env(marker) {
            procs::signal(p, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills an sshd left running by a devplane that was killed outright (its
/// pid file is still there and the process runs our config).
pub fn kill_stale(files: &Files) {
    let Ok(text) = std::fs::read_to_string(files.pid_file()) else {
        return;
    };
    if let Ok(pid) = text.trim().parse::<u32>()
        && procs::cmdline_mentions(pid, &files.config())
    {
        let family = procs::descendants(pid);
        procs::signal(pid, true);
        for p in family {
            procs::signal(p, true);
        }
    }
    end_marked(&files.marker());
    let _ = std::fs::remove_file(files.pid_file());
}

/// Makes the key lists that do not exist yet, empty (sshd refuses every
/// key when its `RevokedKeys` file cannot be read).
fn ensure_keys_file(files: &Files) -> Result<(), String> {
    for list in [files.authorized_keys(), files.revoked_keys()] {
        if !list.exists() {
            runcode_rules::fs::write_private(&list, b"", 0o600).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Adds `public_key` valid until `expires` (seconds since the epoch), and
/// drops lines that have expired: to `authorized_keys`, or with
/// `certified` to the list of certified keys a revocation reads.
pub fn add_key(
    files: &Files,
    public_key: &str,
    comment: &str,
    expires: u64,
    certified: bool,
) -> Result<(), String> {
    let now = clock::now();
    let list = if certified {
        files.certified()
    } else {
        files.authorized_keys()
    };
    let old = std::fs::read_to_string(&list).unwrap_or_default();
    let mut lines: Vec<String> = old
        .lines()
        .filter(|l| key_expiry(l).is_some_and(|e| e > now))
        .map(str::to_owned)
        .collect();
    lines.push(format!(
        "expiry-time=\"{}\" {public_key} {comment}",
        clock::sshd_expiry(expires)
    ));
    let text = lines.join("\n") + "\n";
    runcode_rules::fs::write_private(&list, text.as_bytes(), 0o600).map_err(|e| e.to_string())
}

/// Makes every key expire now (a second ago): sshd refuses them from the
/// next connection on, as it would once their window ran out. A
/// certificate cannot be shortened, so certified keys are revoked.
pub fn expire(files: &Files) -> Result<(), String> {
    revoke_certified(files)?;
    let past = clock::sshd_expiry(clock::now().saturating_sub(1));
    let old = std::fs::read_to_string(files.authorized_keys()).unwrap_or_default();
    let text: String = old
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("expiry-time=\"")?.split_once('"')?.1;
            Some(format!("expiry-time=\"{past}\"{rest}\n"))
        })
        .collect();
    runcode_rules::fs::write_private(&files.authorized_keys(), text.as_bytes(), 0o600)
        .map_err(|e| e.to_string())
}

/// Removes every key and revokes every certified one: new connections are
/// refused, open ones stay.
pub fn revoke(files: &Files) -> Result<(), String> {
    if files.dir.exists() {
        runcode_rules::fs::write_private(&files.authorized_keys(), b"", 0o600)
            .map_err(|e| e.to_string())?;
        revoke_certified(files)?;
    }
    Ok(())
}

/// Moves the certified keys to `revoked_keys` (plain key lines, which sshd
/// matches against a certificate's key): their certificates stop working
/// from the next connection on.
fn revoke_certified(files: &Files) -> Result<(), String> {
    let certified = std::fs::read_to_string(files.certified()).unwrap_or_default();
    if certified.trim().is_empty() {
        return Ok(());
    }
    let mut revoked = std::fs::read_to_string(files.revoked_keys()).unwrap_or_default();
    for line in certified.lines() {
        let key = line
            .strip_prefix("expiry-time=\"")
            .and_then(|l| l.split_once("\" "));
        if let Some((_, key)) = key {
            revoked.push_str(key);
            revoked.push('\n');
        }
    }
    let io = |e: std::io::Error| e.to_string();
    runcode_rules::fs::write_private(&files.revoked_keys(), revoked.as_bytes(), 0o600)
        .map_err(io)?;
    runcode_rules::fs::write_private(&files.certified(), b"", 0o600).map_err(io)
}

fn key_expiry(line: &str) -> Option<u64> {
    let stamp = line.strip_prefix("expiry-time=\"")?.split('"').next()?;
    clock::parse_sshd_expiry(stamp)
}
