//! The control-plane HTTP client (docs/api.md): `https://`, or `http://`
//! to loopback only, checked before any request and at every redirect; 20 s
//! timeouts; every status mapped to a stable code; bodies that are not JSON,
//! or that say `{"error": true}`, reported as the failures they are.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, Result};

const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_REDIRECTS: usize = 5;

/// May the token travel to `url`? `https://` anywhere; `http://` only to
/// `localhost`, `127.0.0.0/8` or `::1`; never with a user or password in it.
pub fn is_safe_base(url: &str) -> bool {
    crate::url::is_secure_web(url)
}

pub fn check_base(url: &str) -> Result<()> {
    if is_safe_base(url) {
        Ok(())
    } else {
        Err(Error::InsecureBase {
            url: crate::text::clean(url, false),
        })
    }
}

/// The origin of `url`: scheme, host and port, the port made explicit, so
/// `https://a` and `https://a:443` are one origin.
fn origin(url: &str) -> Option<(String, String, u16)> {
    let p = runcode_rules::url::parts(url)?;
    let scheme = p.scheme.to_ascii_lowercase();
    let host_port = p.host_port();
    let port = match host_port.rsplit_once(':') {
        Some((_, port)) if !host_port.ends_with(']') => port.parse().ok()?,
        _ if scheme == "https" => 443,
        _ => 80,
    };
    Some((scheme, p.host().to_ascii_lowercase(), port))
}

pub struct Api {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl Api {
    pub fn new(base: &str, token: String) -> Result<Api> {
        check_base(base)?;
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .user_agent(concat!("runcode/", env!("CARGO_PKG_VERSION")))
            .proxy(ureq::Proxy::try_from_env())
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots()).build())
            .build();
        Ok(Api {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent: config.new_agent(),
        })
    }

    /// One request; the answer's JSON body on 2xx.
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut url = format!("{}{path}", self.base);
        for _ in 0..=MAX_REDIRECTS {
            let request = ureq::http::Request::builder()
                .method(method)
                .uri(&url)
                .header("Authorization", format!("Token {}", self.token))
                .header("Accept", "application/json")
                .header("Content-Type", "application/json")
                .body(body.map(Value::to_string).unwrap_or_default())
                .map_err(|e| Error::Network(format!("{url}: {e}")))?;
            let mut response = self
                .agent
                .run(request)
                .map_err(|e| network_error(&url, &e))?;
            let status = response.status().as_u16();
            if (300..400).contains(&status) {
                let location = response
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let next = join(&url, location);
                check_base(&next)?;
                if origin(&next) != origin(&self.base) {
                    return Err(Error::OtherOrigin {
                        url: crate::text::clean(&next, false),
                        origin: crate::text::clean(&self.base, false),
                    });
                }
                url = next;
                continue;
            }
            let text = response
                .body_mut()
                .with_config()
                .limit(8 << 20)
                .read_to_string()
                .unwrap_or_default();
            return interpret(status, &text, &url, path);
        }
        Err(Error::Http(format!("too many redirects from {path}")))
    }

    pub fn workspaces(&self, category: &str) -> Result<Vec<Value>> {
        let answer = self.call(
            "GET",
            &format!("/api/rc/workspaces?category={category}"),
            None,
        )?;
        answer["data"]["workspaces"]
            .as_array()
            .cloned()
            .ok_or_else(|| {
                Error::Http("the workspace list has no data.workspaces array".to_owned())
            })
    }

    /// Start or stop. A refusal in the body becomes `start_failed` / `stop_failed`.
    pub fn power(&self, id: u64, on: bool) -> Result<String> {
        let verb = if on { "start" } else { "stop" };
        match self.call(
            "GET",
            &format!("/api/rc/workspace/{verb}?workspace_id={id}"),
            None,
        ) {
            Ok(answer) => Ok(answer["message"].as_str().unwrap_or_default().to_owned()),
            Err(Error::Http(message)) if on => Err(Error::StartFailed(message)),
            Err(Error::Http(message)) => Err(Error::StopFailed(message)),
            Err(e) => Err(e),
        }
    }

    /// Registers a public key; answers the raw bundle (validated by the caller).
    pub fn mint(&self, id: u64, public_key: &str, ttl: u64, client: &str) -> Result<Value> {
        let body = serde_json::json!({"public_key": public_key, "ttl": ttl, "client": client});
        let answer = self.call(
            "POST",
            &format!("/api/rc/workspace/{id}/ssh-session"),
            Some(&body),
        )?;
        if answer["bundle"].is_object() {
            Ok(answer["bundle"].clone())
        } else {
            Err(Error::Http("the session answer has no bundle".to_owned()))
        }
    }
}

impl Api {
    pub fn create(&self, name: Option<&str>) -> Result<Value> {
        let body = name.map_or_else(|| serde_json::json!({}), |n| serde_json::json!({"name": n}));
        let answer = self.call("POST", "/api/rc/workspaces", Some(&body))?;
        Ok(answer["data"]["workspace"].clone())
    }

    pub fn delete(&self, id: u64) -> Result<String> {
        let answer = self.call("DELETE", &format!("/api/rc/workspace/{id}"), None)?;
        Ok(answer["message"].as_str().unwrap_or_default().to_owned())
    }
}

/// The human text of an error body: `message`, else `detail`, else a string `error`.
/// What a final (non-redirect) answer means: the JSON body of a 2xx, else
/// the error for its status, with the server's message cleaned for a
/// terminal. Pure: the fuzz checks feed it any status and body.
pub fn interpret(status: u16, text: &str, url: &str, path: &str) -> Result<Value> {
    let json: Option<Value> = serde_json::from_str(text).ok();
    if !(200..300).contains(&status) {
        return Err(status_error(status, server_message(json.as_ref()), path));
    }
    let json = json.ok_or_else(|| {
        Error::Http(format!(
            "{} answered {status} with a body that is not JSON",
            crate::text::clean(url, false)
        ))
    })?;
    if json["error"] == Value::Bool(true) {
        return Err(Error::Http(
            server_message(Some(&json)).unwrap_or_else(|| "the server refused".to_owned()),
        ));
    }
    Ok(json)
}

fn server_message(body: Option<&Value>) -> Option<String> {
    let body = body?;
    ["message", "detail", "error"]
        .iter()
        .find_map(|k| body[*k].as_str().filter(|s| !s.trim().is_empty()))
        .map(|s| crate::text::clean(s, false))
}

fn status_error(status: u16, message: Option<String>, path: &str) -> Error {
    let text = |default: &str| message.clone().unwrap_or_else(|| default.to_owned());
    match status {
        400 => Error::BadRequest(text("the server rejected the request (400)")),
        401 => Error::Unauthorized(format!(
            "{}: run `runcode login` again or check RUNCODE_TOKEN",
            text("the token was refused (401)")
        )),
        403 => Error::Forbidden(text("not allowed (403)")),
        404 => Error::NotFound(text("not found (404)")),
        409 => Error::Conflict(text(
            "the workspace is not running or cannot be reached over SSH (409)",
        )),
        429 => Error::RateLimited(format!(
            "{}; wait a minute and try again",
            text("too many requests (429)")
        )),
        503 if path.ends_with("/ssh-session") => Error::Unavailable(format!(
            "SSH access is not enabled on the server yet (503){}",
            message.map(|m| format!(": {m}")).unwrap_or_default()
        )),
        503 => Error::Unavailable(text(
            "the control plane is unavailable (503); try again shortly",
        )),
        _ => Error::Http(format!(
            "HTTP {status}{}",
            message.map(|m| format!(": {m}")).unwrap_or_default()
        )),
    }
}

/// A failed request: `network_blocked` when the OS refused this process a
/// socket (a sandbox), `network` for everything else.
fn network_error(url: &str, err: &ureq::Error) -> Error {
    match err {
        ureq::Error::Io(e) if blocked_socket(e) => Error::NetworkBlocked(blocked_message(
            &format!("{}: {e}", crate::text::clean(url, false)),
        )),
        other => Error::Network(network_message(url, other)),
    }
}

/// Whether an I/O error is the OS refusing a socket or a connect (EPERM or
/// EACCES; WSAEACCES on Windows), as sandboxes do, rather than a refusal by
/// the other side, a timeout or a missing route.
pub fn blocked_socket(e: &std::io::Error) -> bool {
    let raw = e.raw_os_error();
    e.kind() == std::io::ErrorKind::PermissionDenied
        || if cfg!(windows) {
            raw == Some(10013)
        } else {
            matches!(raw, Some(1 | 13))
        }
}

/// The `network_blocked` message: what happened, and the two ways out.
pub fn blocked_message(what: &str) -> String {
    format!(
        "{what}: this process may not open network sockets (a sandbox refused it; this is not an outage). \
         Use the runcode MCP tools, whose server runs outside the sandbox, or allow network in the sandbox \
         (Codex: `network_access = true` under `[sandbox_workspace_write]` in config.toml)"
    )
}

fn network_message(url: &str, err: &ureq::Error) -> String {
    let url = crate::text::clean(url, false);
    match err {
        ureq::Error::Timeout(_) => format!("{url}: no answer within {} s", TIMEOUT.as_secs()),
        ureq::Error::HostNotFound => {
            format!("{url}: host not found (check --api-base and your network)")
        }
        ureq::Error::ConnectionFailed => {
            format!("{url}: cannot connect (is the control plane up? check --api-base)")
        }
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "the control plane at {url} refused the connection: nothing listens there (is it running? check --api-base or RUNCODE_API_BASE)"
        ),
        other => format!("{url}: {other}"),
    }
}

use crate::url::join;

/// The OS trust store (corporate proxies re-sign TLS with their own CA), the
/// standard web roots when the OS offers none. Loaded once per process.
fn roots() -> ureq::tls::RootCerts {
    static ROOTS: std::sync::OnceLock<ureq::tls::RootCerts> = std::sync::OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let native = rustls_native_certs::load_native_certs();
            let certs: Vec<ureq::tls::Certificate<'static>> = native
                .certs
                .iter()
                .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                .collect();
            if certs.is_empty() {
                ureq::tls::RootCerts::WebPki
            } else {
                ureq::tls::RootCerts::new_with_certs(&certs)
            }
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_scheme_host_and_port() {
        assert_eq!(
            origin("https://App.example/x"),
            origin("https://app.example:443/y")
        );
        assert_eq!(origin("http://127.0.0.1/a"), origin("http://127.0.0.1:80"));
        for other in [
            "http://app.example",
            "https://app.example:8443",
            "https://evil.example",
            "https://app.example.evil.example",
            "https://user@evil.example",
        ] {
            assert_ne!(origin("https://app.example"), origin(other), "{other}");
        }
        assert_eq!(origin("http://[::1]:8/a").map(|o| o.2), Some(8));
        assert_eq!(origin("http://[::1]/a").map(|o| o.2), Some(80));
    }

    #[test]
    fn only_https_or_loopback_http_carries_the_token() {
        for ok in [
            "https://app.runcode.io",
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:1/x",
            "http://127.2.3.4",
        ] {
            assert!(is_safe_base(ok), "{ok}");
        }
        for bad in [
            "http://app.runcode.io",
            "http://127.0.0.1.nip.io",
            "http://localhost.evil",
            "ftp://127.0.0.1",
            "app.runcode.io",
            "http://user@127.0.0.1",
            "https://",
            "file:///etc",
        ] {
            assert!(!is_safe_base(bad), "{bad}");
        }
    }

    /// The table the launcher's download rule answers too.
    #[test]
    fn the_token_rule_answers_the_shared_table() {
        use runcode_rules::cases::Case;
        for case in runcode_rules::cases::all() {
            match case {
                Case::Web { url, secure } => assert_eq!(is_safe_base(url), secure, "{url}"),
                Case::Join {
                    base,
                    location,
                    result,
                } => assert_eq!(join(base, location), result, "{base} + {location}"),
                Case::Host { .. } => {}
            }
        }
    }

    #[test]
    fn statuses_map_to_stable_codes() {
        let cases = [
            (400, "bad_request"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not_found"),
            (409, "conflict"),
            (429, "rate_limited"),
            (503, "unavailable"),
            (500, "http_error"),
            (418, "http_error"),
        ];
        for (status, code) in cases {
            assert_eq!(status_error(status, None, "/x").code().as_str(), code);
        }
        let msg = status_error(503, None, "/api/rc/workspace/1/ssh-session").to_string();
        assert!(msg.contains("SSH access is not enabled"), "{msg}");
    }

    #[test]
    fn messages_come_from_message_detail_or_error() {
        let m = |v: Value| server_message(Some(&v));
        assert_eq!(
            m(serde_json::json!({"message": "a", "detail": "b"})).as_deref(),
            Some("a")
        );
        assert_eq!(m(serde_json::json!({"detail": "b"})).as_deref(), Some("b"));
        assert_eq!(m(serde_json::json!({"error": "c"})).as_deref(), Some("c"));
        assert_eq!(m(serde_json::json!({"error": true})), None);
        assert_eq!(
            m(serde_json::json!({"message": "x\u{1b}[2Jy"})).as_deref(),
            Some("x[2Jy")
        );
    }
}
