//! The browser login: a consent page at `/auth/cli-login/?port&state` with an
//! Authorize button that sends the browser to the CLI's loopback callback
//! with the `state`, the API token and the account's email.

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use runcode_rules::percent::encode;

use crate::app::AppState;

#[derive(Deserialize)]
pub struct LoginQuery {
    port: Option<String>,
    state: Option<String>,
}

/// A port the callback may use, and a `state` that is URL-safe.
fn checked(q: &LoginQuery) -> Option<(u16, String)> {
    let port = q
        .port
        .as_deref()
        .and_then(|p| p.parse::<u16>().ok())
        .filter(|p| *p > 0)?;
    let state = q.state.as_deref().filter(|s| {
        !s.is_empty()
            && s.len() <= 512
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b))
    })?;
    Some((port, state.to_owned()))
}

/// The 400 page for a link without a usable port or state.
fn bad_link() -> Response {
    let why = "this login link is incomplete: it needs a port and a URL-safe state; run `runcode login` again";
    (
        StatusCode::BAD_REQUEST,
        Html(page("Login link incomplete", why)),
    )
        .into_response()
}

pub async fn consent(Query(q): Query<LoginQuery>) -> Response {
    let Some((port, state)) = checked(&q) else {
        return bad_link();
    };
    let body = format!(
        "<p>The runcode CLI on this computer asks to use your account.</p>\n\
         <form method=\"get\" action=\"/auth/cli-login/authorize\">\n\
         <input type=\"hidden\" name=\"port\" value=\"{port}\">\n\
         <input type=\"hidden\" name=\"state\" value=\"{}\">\n\
         <button id=\"authorize\" type=\"submit\">Authorize</button>\n</form>",
        html_escape(&state)
    );
    Html(page("Authorize runcode", &body)).into_response()
}

pub async fn authorize(State(app): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    let Some((port, state)) = checked(&q) else {
        return bad_link();
    };
    let (token, email) = {
        let inner = app.lock();
        (inner.saved.token.clone(), inner.saved.email.clone())
    };
    let location = format!(
        "http://127.0.0.1:{port}/callback?state={state}&token={}&email={}",
        encode(&token),
        encode(&email)
    );
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// A workspace's web page (what `web_url` points at).
pub async fn workspace_page(
    axum::extract::Path(title): axum::extract::Path<String>,
) -> Html<String> {
    Html(page(
        "Workspace",
        &format!(
            "<p>Workspace <code>{}</code> on the devplane.</p>",
            html_escape(&title)
        ),
    ))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title} - runcode devplane</title></head>\n\
         <body><h1>{title}</h1>\n{body}\n</body></html>\n"
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
