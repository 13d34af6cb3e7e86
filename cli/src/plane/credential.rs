//! The bundle's `credential`: how the gateway will know this CLI's key. A
//! missing field, `{"type": "key"}` or a null certificate is the key itself
//! (registered with the control plane). A certificate is one OpenSSH user
//! certificate line, and before anything is written it must certify the
//! public key this CLI just made, for the bundle's user, now (within
//! `SKEW`), carry a signature that verifies, and be nothing more: anything
//! else is `unsafe_bundle`. Pure; docs/security.md has the rules.

use serde_json::Value;
use ssh_key::certificate::{CertType, Certificate};

use crate::error::{Error, Result};

/// The clock skew allowed between this machine and the signer, in seconds:
/// a certificate valid from up to this far in the future, or one whose end
/// is this close, is still accepted (laptop clocks drift by minutes).
pub const SKEW: i64 = 300;

/// What the session authenticates with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The key alone.
    Key,
    /// The key and this certificate, which ends at `valid_before`.
    Certificate { line: String, valid_before: i64 },
}

impl Credential {
    /// When the session ends: the bundle's `expires_at`, or the
    /// certificate's end when that comes first.
    pub fn session_end(&self, expires_at: i64) -> i64 {
        match self {
            Credential::Key => expires_at,
            Credential::Certificate { valid_before, .. } => expires_at.min(*valid_before),
        }
    }
}

fn refuse(why: &str) -> Error {
    Error::UnsafeBundle(format!("its credential {why}"))
}

/// Validates `field` (the bundle's `credential`) against the key this CLI
/// made (`key`), the bundle's `user` and the time `now`.
pub fn validate(
    field: &Value,
    key: &ssh_key::PublicKey,
    user: &str,
    now: i64,
) -> Result<Credential> {
    let kind = match field {
        Value::Null => return Ok(Credential::Key),
        Value::Object(map) => map.get("type").and_then(Value::as_str).unwrap_or("key"),
        _ => return Err(refuse("is not an object")),
    };
    match (kind, &field["certificate"]) {
        ("key", _) | ("certificate", Value::Null) => Ok(Credential::Key),
        ("certificate", Value::String(text)) => certificate(text, key, user, now),
        ("certificate", _) => Err(refuse("has a certificate that is not a string")),
        _ => Err(refuse("is of an unknown type")),
    }
}

fn certificate(text: &str, key: &ssh_key::PublicKey, user: &str, now: i64) -> Result<Credential> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    if line.chars().any(char::is_control) {
        return Err(refuse("is more than one certificate line"));
    }
    let fields: Vec<&str> = line.split(' ').collect();
    let (kind, comment) = match fields[..] {
        [kind, _blob] => (kind, ""),
        [kind, _blob, comment] => (kind, comment),
        _ => return Err(refuse("is not one `<type> <base64> [comment]` line")),
    };
    if !kind.ends_with("-cert-v01@openssh.com") {
        return Err(refuse("is not a certificate"));
    }
    if !comment
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b))
    {
        return Err(refuse("carries a comment ssh must not see"));
    }
    let cert = Certificate::from_openssh(line).map_err(|_| refuse("does not parse"))?;
    if cert.cert_type() != CertType::User {
        return Err(refuse("is not a user certificate"));
    }
    if cert.public_key() != key.key_data() {
        return Err(refuse(
            "certifies another key than the one this runcode made",
        ));
    }
    if !cert.valid_principals().iter().any(|p| p == user) {
        return Err(refuse("is not valid for the bundle's user"));
    }
    let after = i64::try_from(cert.valid_after()).unwrap_or(i64::MAX);
    let before = i64::try_from(cert.valid_before()).unwrap_or(i64::MAX);
    if after > now + SKEW {
        return Err(refuse("is not valid yet"));
    }
    if before <= now {
        return Err(refuse("has expired"));
    }
    cert.verify_signature()
        .map_err(|_| refuse("carries a signature that does not verify"))?;
    Ok(Credential::Certificate {
        line: format!("{line}\n"),
        valid_before: before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use ssh_key::rand_core::OsRng;
    use ssh_key::{Algorithm, PrivateKey};

    const NOW: i64 = 1_795_343_400;

    fn key() -> PrivateKey {
        PrivateKey::random(&mut OsRng, Algorithm::Ed25519).unwrap()
    }

    fn cert(of: &PrivateKey, kind: CertType, principal: &str, after: i64, before: i64) -> String {
        let ca = key();
        let mut b = ssh_key::certificate::Builder::new_with_random_nonce(
            &mut OsRng,
            of.public_key(),
            u64::try_from(after).unwrap(),
            u64::try_from(before).unwrap(),
        )
        .unwrap();
        b.cert_type(kind).unwrap();
        b.valid_principal(principal).unwrap();
        b.sign(&ca).unwrap().to_openssh().unwrap()
    }

    fn check(field: &Value, mine: &PrivateKey) -> Result<Credential> {
        validate(field, mine.public_key(), "royal-tree", NOW)
    }

    #[test]
    fn a_key_credential_in_every_spelling_is_the_key() {
        let mine = key();
        for field in [
            Value::Null,
            json!({"type": "key"}),
            json!({"type": "key", "certificate": null}),
            json!({"type": "certificate", "certificate": null}),
        ] {
            assert_eq!(check(&field, &mine).unwrap(), Credential::Key, "{field}");
        }
    }

    #[test]
    fn a_good_certificate_passes_and_ends_the_session() {
        let mine = key();
        let line = cert(&mine, CertType::User, "royal-tree", NOW - 10, NOW + 600);
        let got = check(&json!({"type": "certificate", "certificate": line}), &mine).unwrap();
        assert_eq!(
            got,
            Credential::Certificate {
                line: format!("{line}\n"),
                valid_before: NOW + 600
            }
        );
        assert_eq!(got.session_end(NOW + 1800), NOW + 600);
        assert_eq!(got.session_end(NOW + 60), NOW + 60);
        // A small skew is allowed at the start.
        let early = cert(&mine, CertType::User, "royal-tree", NOW + 60, NOW + 600);
        assert!(check(&json!({"type": "certificate", "certificate": early}), &mine).is_ok());
    }

    #[test]
    fn every_other_certificate_is_refused() {
        let mine = key();
        let good = cert(&mine, CertType::User, "royal-tree", NOW - 10, NOW + 600);
        let bad = [
            (
                "another key",
                cert(&key(), CertType::User, "royal-tree", NOW - 10, NOW + 600),
            ),
            (
                "a host certificate",
                cert(&mine, CertType::Host, "royal-tree", NOW - 10, NOW + 600),
            ),
            (
                "the wrong principal",
                cert(&mine, CertType::User, "root", NOW - 10, NOW + 600),
            ),
            (
                "expired",
                cert(&mine, CertType::User, "royal-tree", NOW - 600, NOW - 1),
            ),
            (
                "not yet valid",
                cert(&mine, CertType::User, "royal-tree", NOW + 3600, NOW + 7200),
            ),
            ("a second line", format!("{good}\n{good}")),
            ("a trailing directive", format!("{good}\nProxyCommand sh")),
            (
                "garbage",
                "ssh-ed25519-cert-v01@openssh.com AAAAnotbase64".to_owned(),
            ),
            ("a plain key", mine.public_key().to_openssh().unwrap()),
            (
                "an odd comment",
                format!(
                    "{} x;y",
                    good.rsplit_once(' ').map_or(good.as_str(), |(a, _)| a)
                ),
            ),
        ];
        for (what, line) in bad {
            let err =
                check(&json!({"type": "certificate", "certificate": line}), &mine).expect_err(what);
            assert_eq!(err.code().as_str(), "unsafe_bundle", "{what}");
        }
        for field in [
            json!("key"),
            json!({"type": "password"}),
            json!({"type": "certificate", "certificate": 7}),
        ] {
            assert!(check(&field, &mine).is_err(), "{field}");
        }
    }
}
