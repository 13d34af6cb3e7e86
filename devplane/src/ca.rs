//! The certificate authorities of `serve --credential certificate`: a user
//! CA whose certificates the gateways trust instead of `authorized_keys`,
//! and a host CA that signs each gateway's host key, so bundles pin the
//! gateway by `@cert-authority`. Both are ed25519 keys kept under the data
//! directory (0600), made once and reused across restarts.

use std::path::{Path, PathBuf};

use ssh_key::certificate::{Builder, CertType};
use ssh_key::rand_core::OsRng;
use ssh_key::{Algorithm, LineEnding, PrivateKey, PublicKey};

/// How a gateway knows a minted key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The key is listed in the gateway's `authorized_keys`.
    Key,
    /// The key comes with a user certificate the gateway's CA signed.
    Certificate,
}

/// The two signing keys.
pub struct Authorities {
    user: PrivateKey,
    host: PrivateKey,
    user_public: PathBuf,
}

/// What a user certificate grants: a terminal and port forwarding (the
/// `forward` command), nothing else (no agent or X11 forwarding, no rc).
const USER_EXTENSIONS: [&str; 2] = ["permit-port-forwarding", "permit-pty"];

/// A host certificate's life; it is signed again at every gateway start.
const HOST_CERT_SECS: u64 = 365 * 24 * 3600;

/// Clock skew allowed backwards when a certificate starts.
const BACKDATE_SECS: u64 = 60;

impl Authorities {
    /// Loads the CAs from `data_dir`, making the missing ones.
    pub fn open(data_dir: &Path) -> Result<Authorities, String> {
        let user = load_or_make(&data_dir.join("user_ca"))?;
        let host = load_or_make(&data_dir.join("host_ca"))?;
        let user_public = data_dir.join("user_ca.pub");
        let line = public_line(user.public_key())?;
        runcode_rules::fs::write_private(&user_public, format!("{line}\n").as_bytes(), 0o600)
            .map_err(|e| format!("{}: {e}", user_public.display()))?;
        Ok(Authorities {
            user,
            host,
            user_public,
        })
    }

    /// The file sshd's `TrustedUserCAKeys` names.
    pub fn user_ca_file(&self) -> &Path {
        &self.user_public
    }

    /// The `known_hosts` line that pins a gateway at `[host]:port` by the
    /// host CA.
    pub fn pin_line(&self, host: &str, port: u16) -> Result<String, String> {
        Ok(format!(
            "@cert-authority [{host}]:{port} {}",
            public_line(self.host.public_key())?
        ))
    }

    /// A user certificate for `key`, valid for `principals` from a minute
    /// ago until `valid_before`, as one OpenSSH line.
    pub fn sign_user(
        &self,
        key: &PublicKey,
        key_id: &str,
        principals: &[&str],
        valid_after: u64,
        valid_before: u64,
    ) -> Result<String, String> {
        self.sign(
            &self.user,
            key,
            CertType::User,
            key_id,
            principals,
            (valid_after, valid_before),
        )
    }

    /// A certificate of `key` by the user CA, of type `kind`, for
    /// `principals` over `window`: the devplane's hostile modes.
    pub fn sign_with(
        &self,
        key: &PublicKey,
        kind: CertType,
        principals: &[&str],
        window: (u64, u64),
    ) -> Result<String, String> {
        self.sign(&self.user, key, kind, "runcode-hostile", principals, window)
    }

    /// The host certificate of a gateway's host key, for `principals`
    /// (the names ssh connects to it under).
    pub fn sign_host(
        &self,
        key: &PublicKey,
        principals: &[&str],
        now: u64,
    ) -> Result<String, String> {
        self.sign(
            &self.host,
            key,
            CertType::Host,
            "runcode-devplane-gateway",
            principals,
            (now.saturating_sub(BACKDATE_SECS), now + HOST_CERT_SECS),
        )
    }

    fn sign(
        &self,
        signer: &PrivateKey,
        key: &PublicKey,
        kind: CertType,
        key_id: &str,
        principals: &[&str],
        (after, before): (u64, u64),
    ) -> Result<String, String> {
        let text = |e: ssh_key::Error| e.to_string();
        let mut b =
            Builder::new_with_random_nonce(&mut OsRng, key.key_data().clone(), after, before)
                .map_err(text)?;
        b.cert_type(kind).map_err(text)?;
        b.key_id(key_id).map_err(text)?;
        for p in principals {
            b.valid_principal(*p).map_err(text)?;
        }
        if kind == CertType::User {
            for e in USER_EXTENSIONS {
                b.extension(e, "").map_err(text)?;
            }
        }
        b.comment("runcode").map_err(text)?;
        let cert = b.sign(signer).map_err(text)?;
        cert.to_openssh().map_err(text)
    }
}

/// When a user certificate minted now starts: a minute back, for clocks
/// that run behind.
pub fn user_valid_after(now: u64) -> u64 {
    now.saturating_sub(BACKDATE_SECS)
}

/// A fresh ed25519 key (the hostile modes sign with one).
pub fn random_key() -> Result<PrivateKey, String> {
    PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(|e| e.to_string())
}

fn load_or_make(path: &Path) -> Result<PrivateKey, String> {
    if let Ok(text) = std::fs::read_to_string(path) {
        return PrivateKey::from_openssh(&text).map_err(|e| format!("{}: {e}", path.display()));
    }
    let key = random_key()?;
    let text = key.to_openssh(LineEnding::LF).map_err(|e| e.to_string())?;
    runcode_rules::fs::write_private(path, text.as_bytes(), 0o600)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(key)
}

/// `<type> <base64>`, without the comment.
pub fn public_line(key: &PublicKey) -> Result<String, String> {
    let mut key = key.clone();
    key.set_comment("");
    key.to_openssh()
        .map(|s| s.trim().to_owned())
        .map_err(|e| e.to_string())
}
