//! The host key check of the builtin transport, as OpenSSH does it with the
//! session's `known_hosts` (docs/api.md): a plain line pins the workspace's
//! key exactly, for exactly the bundle's `[host]:port`; an
//! `@cert-authority` line for exactly that host accepts a host certificate
//! signed by that CA key, of host type, valid now, naming the host among
//! its principals. Anything else is refused.

use russh::keys::ssh_key::certificate::CertType;
use russh::keys::{Certificate, HashAlg, PublicKey};

/// What the session's `known_hosts` allows for one host.
#[derive(Debug, Default)]
pub struct Pins {
    /// Keys the host may present itself.
    keys: Vec<PublicKey>,
    /// CA keys whose host certificates it may present.
    authorities: Vec<PublicKey>,
}

/// How `known_hosts` names a host: `host` on port 22, `[host]:port` on
/// any other.
pub fn pattern(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    }
}

impl Pins {
    /// The lines of `text` for exactly `host` and `port`; other lines and
    /// lines that do not parse are left out (they pin nothing).
    pub fn read(text: &str, host: &str, port: u16) -> Pins {
        let want = pattern(host, port);
        let mut pins = Pins::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            let (authority, hosts) = match words.next() {
                Some("@cert-authority") => (true, words.next()),
                Some(w) if w.starts_with('@') => continue,
                first => (false, first),
            };
            let Some(hosts) = hosts else { continue };
            if !hosts.split(',').any(|h| h == want) {
                continue;
            }
            let key_text: Vec<&str> = words.take(2).collect();
            let Ok(key) = PublicKey::from_openssh(&key_text.join(" ")) else {
                continue;
            };
            if authority {
                pins.authorities.push(key);
            } else {
                pins.keys.push(key);
            }
        }
        pins
    }

    /// Whether any certificate authority is pinned for the host.
    pub fn has_authorities(&self) -> bool {
        !self.authorities.is_empty()
    }

    /// Whether the host's own key is pinned.
    pub fn accepts_key(&self, key: &PublicKey) -> bool {
        self.keys.iter().any(|k| k.key_data() == key.key_data())
    }

    /// Whether `cert` is a valid host certificate for `host` from a pinned
    /// authority, at this moment.
    pub fn accepts_certificate(&self, cert: &Certificate, host: &str) -> Result<(), String> {
        let fingerprints: Vec<_> = self
            .authorities
            .iter()
            .map(|k| k.fingerprint(HashAlg::Sha256))
            .collect();
        if fingerprints.is_empty() {
            return Err("no certificate authority is pinned for this host".to_owned());
        }
        cert.validate(fingerprints.iter())
            .map_err(|e| format!("the host certificate is not valid: {e}"))?;
        if cert.cert_type() != CertType::Host {
            return Err("the certificate is not a host certificate".to_owned());
        }
        if !cert.valid_principals().iter().any(|p| p == host) {
            return Err(format!("the host certificate does not name {host}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq2hYm1N9pO5Q2dJ7FQ8J2Wm1G8bX1Y0sE3iXyY4rMZ";

    #[test]
    fn only_lines_for_exactly_this_host_pin() {
        let text = format!(
            "[127.0.0.1]:2222 {KEY}\n[127.0.0.1]:2223 {KEY}\n@cert-authority [127.0.0.1]:2222 {KEY}\n@revoked [127.0.0.1]:2222 {KEY}\ngarbage\n"
        );
        let pins = Pins::read(&text, "127.0.0.1", 2222);
        assert_eq!((pins.keys.len(), pins.authorities.len()), (1, 1));
        let other = Pins::read(&text, "127.0.0.1", 2224);
        assert_eq!((other.keys.len(), other.authorities.len()), (0, 0));
        assert_eq!(pattern("h", 22), "h");
        let key = PublicKey::from_openssh(KEY).unwrap();
        assert!(pins.accepts_key(&key) && !other.accepts_key(&key));
    }
}
