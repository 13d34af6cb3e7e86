//! `runcode login`: the browser loopback login (docs/api.md), or
//! `--paste`. The token is saved (0600) only once the control plane took
//! it: a refused one is `unauthorized` and nothing is saved; one that
//! cannot be checked (the network is down) is saved with a warning.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::plane::api::{self, Api};
use crate::plane::token;

pub fn run(ctx: &Ctx, paste: bool, no_browser: bool, timeout: u64) -> Result<i32> {
    api::check_base(&ctx.api_base)?;
    let (token, email) = if paste {
        (read_pasted()?, None)
    } else {
        browser(ctx, no_browser, timeout)?
    };
    let verified = match Api::new(&ctx.api_base, token.clone()).and_then(|a| a.workspaces("active"))
    {
        Ok(_) => true,
        Err(e @ (Error::Unauthorized(_) | Error::Forbidden(_))) => {
            return Err(Error::Unauthorized(format!(
                "the control plane refused this token ({e}); nothing was saved: log in again"
            )));
        }
        Err(e) => {
            ctx.out.warn(&format!(
                "the token was saved but could not be checked: {e}"
            ));
            false
        }
    };
    token::save(&ctx.paths, &token)?;
    // A token from the environment or the command line wins over the file.
    let overridden = token::overridden_by(ctx.token.as_deref());
    if let Some(source) = overridden {
        ctx.out.warn(&format!(
            "{source} is set and is used instead of the token just saved; unset it to use this one"
        ));
    }
    let email = email.map(|e| crate::text::clean(&e, false));
    let who = email
        .as_deref()
        .map(|e| format!(" as {e}"))
        .unwrap_or_default();
    let human = format!(
        "logged in{who}; token saved to {}",
        ctx.paths.token().display()
    );
    ctx.out.result(&json!({"logged_in": true, "email": email, "verified": verified, "token_file": ctx.paths.token(), "overridden_by": overridden}), &human);
    Ok(0)
}

fn read_pasted() -> Result<String> {
    let token = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Paste your RunCode API token: ")
            .map_err(|e| Error::LoginFailed(e.to_string()))?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::LoginFailed(e.to_string()))?;
        line
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::LoginFailed("no token was pasted".to_owned()));
    }
    Ok(token)
}

/// Random, URL-safe, 256 bits.
fn new_state() -> String {
    let mut bytes = [0u8; 32];
    ssh_key::rand_core::RngCore::fill_bytes(&mut ssh_key::rand_core::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn browser(ctx: &Ctx, no_browser: bool, timeout: u64) -> Result<(String, Option<String>)> {
    api::check_base(&ctx.web_base)?;
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::LoginFailed(format!("cannot listen on 127.0.0.1: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::LoginFailed(e.to_string()))?
        .port();
    let state = new_state();
    let url = format!(
        "{}/auth/cli-login/?port={port}&state={state}",
        ctx.web_base.trim_end_matches('/')
    );
    if no_browser || !crate::wiring::open::url(&url) {
        ctx.out.progress(&format!(
            "open this URL in a browser where you are logged in to RunCode:\n  {url}"
        ));
    } else {
        ctx.out.progress(&format!(
            "opened your browser; if nothing appeared, open:\n  {url}"
        ));
    }
    ctx.out
        .progress(&format!("waiting for the browser (up to {timeout} s)..."));
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::LoginFailed(e.to_string()))?;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(result) = callback(stream, &state) {
                    return result;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => return Err(Error::LoginFailed(e.to_string())),
        }
    }
    Err(Error::LoginFailed(format!(
        "login timed out after {timeout} s; try `runcode login --paste`"
    )))
}

/// Handles one request on the listener: `None` for anything that is not the
/// callback (answered 404, keep waiting), else the outcome.
fn callback(mut stream: TcpStream, state: &str) -> Option<Result<(String, Option<String>)>> {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut line = String::new();
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    reader.by_ref().take(8192).read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1).unwrap_or("");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/callback" {
        respond(&mut stream, 404, "Not found.");
        return None;
    }
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode(v))
    };
    if param("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            400,
            "This login link does not belong to this runcode. Run `runcode login` again.",
        );
        return Some(Err(Error::LoginFailed("the browser answered with a different state (a cross-site request?); run `runcode login` again".to_owned())));
    }
    let Some(token) = param("token").filter(|t| !t.is_empty()) else {
        respond(
            &mut stream,
            400,
            "No token arrived. Run `runcode login` again.",
        );
        return Some(Err(Error::LoginFailed(
            "the browser came back without a token".to_owned(),
        )));
    };
    respond(
        &mut stream,
        200,
        "runcode is logged in. You can close this tab.",
    );
    Some(Ok((token, param("email"))))
}

fn respond(stream: &mut TcpStream, status: u16, text: &str) {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        _ => "Not Found",
    };
    let body =
        format!("<!doctype html><meta charset=\"utf-8\"><title>runcode</title><p>{text}</p>\n");
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}

/// Percent-decoding (and `+` as space) of a query value.
fn decode(value: &str) -> String {
    String::from_utf8_lossy(&runcode_rules::percent::decode(value, true)).into_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_decode() {
        assert_eq!(super::decode("dev%40example.com"), "dev@example.com");
        assert_eq!(super::decode("a+b%2"), "a b%2");
        assert_eq!(super::decode("%zz"), "%zz");
    }
}
