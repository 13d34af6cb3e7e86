//! The HTTP surface: the control-plane API under `/api/rc` (docs/api.md),
//! the login pages, workspace web pages, and the `/_dev/` test controls, with token auth,
//! injected faults and a request log in two middleware layers.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::{AppState, Refusal};
use crate::dev::{self, Fault, Hostile, Logged};
use crate::{login, procs, relay, sshd};

pub fn router(app: AppState) -> Router {
    let guarded = Router::new()
        .route("/api/rc/workspaces", get(list).post(create))
        .route("/api/rc/workspace/start", get(start))
        .route("/api/rc/workspace/stop", get(stop))
        .route("/api/rc/workspace/{id}/ssh-session", post(mint))
        .route("/api/rc/workspace/{id}", delete(remove))
        .route("/_dev/revoke", post(dev_revoke))
        .route("/_dev/expire", post(dev_expire))
        .route("/_dev/certificate", post(dev_certificate))
        .route("/_dev/drop", post(dev_drop))
        .route("/_dev/hostile", post(dev_hostile))
        .route("/_dev/fault", post(dev_fault))
        .route("/_dev/reset", post(dev_reset))
        .route("/_dev/requests", get(dev_requests))
        .route("/_dev/gateway/{id}", get(dev_gateway))
        .route("/_dev/link", post(dev_link))
        .layer(from_fn_with_state(Arc::clone(&app), guard));
    Router::new()
        .merge(guarded)
        .route("/auth/cli-login/", get(login::consent))
        .route("/auth/cli-login", get(login::consent))
        .route("/auth/cli-login/authorize", get(login::authorize))
        .route("/ws/{title}/", get(login::workspace_page))
        .fallback(|| async { refuse(404, "not found") })
        .layer(from_fn_with_state(Arc::clone(&app), record))
        .with_state(app)
}

fn refuse(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (code, Json(json!({"error": true, "message": message}))).into_response()
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.status, &self.message)
    }
}

/// Records every request but the test controls' own.
async fn record(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), ToString::to_string);
    let response = next.run(req).await;
    if !path.starts_with("/_dev/") {
        let status = response.status().as_u16();
        app.lock().dev.log.push(Logged {
            method,
            path,
            status,
        });
    }
    response
}

/// Token auth for the API and the test controls, then injected faults.
async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let expected = format!("Token {}", app.token());
    let given = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Invalid token."})),
        )
            .into_response();
    }
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") {
        let fault = app.lock().dev.take_fault(&path);
        if let Some(Fault {
            status,
            body,
            delay_ms,
            ..
        }) = fault
        {
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            if status.is_some() || body.is_some() {
                let code = StatusCode::from_u16(status.unwrap_or(200))
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body =
                    body.unwrap_or_else(|| json!({"message": "injected failure"}).to_string());
                return (code, Body::from(body)).into_response();
            }
        }
    }
    next.run(req).await
}

#[derive(Deserialize)]
struct Category {
    category: Option<String>,
}

async fn list(State(app): State<AppState>, Query(q): Query<Category>) -> Response {
    let shared = match q.category.as_deref() {
        Some("active") => false,
        Some("shared") => true,
        _ => return refuse(400, "category must be active or shared"),
    };
    let mut inner = app.lock();
    let mut entries: Vec<Value> = inner
        .saved
        .workspaces
        .iter()
        .filter(|w| w.shared == shared)
        .map(|w| app.listing(w))
        .collect();
    if !entries.is_empty() && inner.dev.title_hostile() {
        entries.iter_mut().for_each(dev::hostile_titles);
    }
    if !entries.is_empty()
        && let Some(title) = inner.dev.title_inject()
    {
        entries.iter_mut().for_each(|e| dev::inject_title(e, title));
    }
    Json(json!({"data": {"workspaces": entries}})).into_response()
}

#[derive(Deserialize)]
struct WorkspaceId {
    workspace_id: Option<String>,
}

fn parse_id(raw: Option<&str>) -> Result<u64, Refusal> {
    raw.and_then(|s| s.parse().ok())
        .ok_or_else(|| Refusal::new(400, "workspace_id must be a number"))
}

async fn start(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    let message = app.start(id)?;
    Ok(Json(json!({"error": false, "message": message})).into_response())
}

async fn stop(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    let message = app.stop(id).await?;
    Ok(Json(json!({"error": false, "message": message})).into_response())
}

async fn mint(
    State(app): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let id = parse_id(Some(&id))?;
    let request: Value = serde_json::from_slice(&body)
        .map_err(|_| Refusal::new(400, "the body must be a JSON object"))?;
    let key = request["public_key"]
        .as_str()
        .filter(|k| !k.contains(['\n', '\r']));
    let key =
        key.ok_or_else(|| Refusal::new(400, "public_key must be one OpenSSH public key line"))?;
    let ttl = request["ttl"].as_u64().unwrap_or(1800);
    let client = request["client"].as_str().unwrap_or("unknown");
    let bundle = app.mint(id, key, ttl, client)?;
    Ok(Json(json!({"error": false, "bundle": bundle})).into_response())
}

async fn create(State(app): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let request: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| Refusal::new(400, "the body must be a JSON object"))?
    };
    let name = request["name"].as_str().map(str::to_owned);
    if name
        .as_deref()
        .is_some_and(|n| n.trim().is_empty() || n.len() > 100)
    {
        return Err(Refusal::new(400, "name must be 1 to 100 characters"));
    }
    let workspace = app.create(name)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"error": false, "data": {"workspace": workspace}})),
    )
        .into_response())
}

async fn remove(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, Refusal> {
    let id = parse_id(Some(&id))?;
    let message = app.delete(id).await?;
    Ok(Json(json!({"error": false, "message": message})).into_response())
}

async fn dev_revoke(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    sshd::revoke(&app.files(id)).map_err(|e| Refusal::new(500, e))?;
    Ok(
        Json(json!({"error": false, "message": format!("revoked every key of workspace {id}")}))
            .into_response(),
    )
}

/// Time runs out now: the workspace's keys expire (sshd refuses them), and
/// its next mint answers a session whose `expires_at` has passed, so a test
/// sees an expired session without waiting for one.
async fn dev_expire(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    sshd::expire(&app.files(id)).map_err(|e| Refusal::new(500, e))?;
    app.lock().dev.expire_next(id);
    Ok(
        Json(json!({"error": false, "message": format!("expired the sessions of workspace {id}")}))
            .into_response(),
    )
}

#[derive(Deserialize)]
struct ShortCertificate {
    workspace_id: Option<String>,
    valid_secs: Option<u64>,
}

/// Certificate mode: the workspace's next certificate ends `valid_secs`
/// from now, before the session's `expires_at`.
async fn dev_certificate(
    State(app): State<AppState>,
    Query(q): Query<ShortCertificate>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    let secs = q
        .valid_secs
        .ok_or_else(|| Refusal::new(400, "valid_secs must be a number"))?;
    if app.authorities.is_none() {
        return Err(Refusal::new(
            409,
            "this devplane serves keys, not certificates",
        ));
    }
    app.lock().dev.shorten_next_certificate(id, secs);
    Ok(Json(json!({"error": false, "message": format!("the next certificate of workspace {id} ends in {secs} s")}))
        .into_response())
}

/// The network under open connections goes away: every process below the
/// gateway's listener (each connection, and what runs in it) is killed;
/// the listener stays, so new connections work.
async fn dev_drop(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    let gateway = app.lock().gateway_pid(id);
    let Some((pid, _)) = gateway else {
        return Err(Refusal::new(409, format!("workspace {id} has no gateway")));
    };
    let dropped = procs::descendants(pid);
    for child in &dropped {
        procs::signal(*child, true);
    }
    Ok(Json(json!({"error": false, "dropped": dropped.len()})).into_response())
}

#[derive(Deserialize)]
struct HostileRequest {
    mode: Hostile,
    #[serde(default = "one")]
    count: u32,
}

fn one() -> u32 {
    1
}

async fn dev_hostile(State(app): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let req: HostileRequest =
        serde_json::from_slice(&body).map_err(|e| Refusal::new(400, e.to_string()))?;
    app.lock().dev.add_hostile(req.mode, req.count);
    Ok(Json(json!({"error": false})).into_response())
}

async fn dev_fault(State(app): State<AppState>, body: Bytes) -> Result<Response, Refusal> {
    let fault: Fault =
        serde_json::from_slice(&body).map_err(|e| Refusal::new(400, e.to_string()))?;
    app.lock().dev.add_fault(fault);
    Ok(Json(json!({"error": false})).into_response())
}

async fn dev_reset(State(app): State<AppState>) -> Response {
    app.lock().dev.reset();
    Json(json!({"error": false})).into_response()
}

async fn dev_requests(State(app): State<AppState>) -> Response {
    let inner = app.lock();
    let mints = inner
        .dev
        .log
        .iter()
        .filter(|l| l.method == "POST" && l.path.ends_with("/ssh-session") && l.status == 200)
        .count();
    Json(json!({"requests": inner.dev.log, "mints": mints})).into_response()
}

/// The network between clients and workspace `workspace_id`'s gateway:
/// a body of `relay::Change` (delay, freeze, thaw, reset, down) changes it;
/// the answer is the state in force.
async fn dev_link(
    State(app): State<AppState>,
    Query(q): Query<WorkspaceId>,
    body: Bytes,
) -> Result<Response, Refusal> {
    let id = parse_id(q.workspace_id.as_deref())?;
    let change: relay::Change = if body.is_empty() {
        relay::Change::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Refusal::new(400, e.to_string()))?
    };
    let inner = app.lock();
    let Some(relay) = inner.relays.get(&id) else {
        return Err(Refusal::new(409, format!("workspace {id} has no gateway")));
    };
    let state = relay.apply(&change);
    Ok(Json(json!({"error": false, "link": state})).into_response())
}

async fn dev_gateway(
    State(app): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let id = parse_id(Some(&id))?;
    let files = app.files(id);
    let keys = std::fs::read_to_string(files.authorized_keys())
        .unwrap_or_default()
        .lines()
        .count();
    let inner = app.lock();
    let (pid, port) = inner
        .gateway_pid(id)
        .map_or((None, None), |(pid, port)| (Some(pid), Some(port)));
    let relay_port = inner.relays.get(&id).map(|r| r.port);
    Ok(Json(json!({"pid": pid, "port": port, "relay_port": relay_port, "workdir": files.workdir(), "authorized_keys": keys})).into_response())
}
