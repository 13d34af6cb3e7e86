//! `runcode-devplane`: a local control plane serving the control-plane API
//! on loopback, whose workspaces are real OpenSSH servers. docs/api.md has
//! every endpoint.

pub mod api;
pub mod app;
pub mod ca;
mod clock;
pub mod dev;
mod login;
mod names;
mod procs;
pub mod relay;
pub mod sshd;
pub mod state;

use std::sync::Arc;

pub use app::Options;

/// One line on stderr, prefixed with the program's name.
#[allow(clippy::print_stderr)]
pub fn say(message: &str) {
    eprintln!("runcode-devplane: {message}");
}

/// Serves until SIGINT or SIGTERM, then stops every gateway it started.
/// Prints the ready line (one JSON object) on stdout once it listens.
pub async fn serve(opts: Options, port: u16) -> Result<(), String> {
    let sshd = sshd::find()?;
    let user = current_user();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let base = format!(
        "http://127.0.0.1:{}",
        listener.local_addr().map_err(|e| e.to_string())?.port()
    );
    let data_dir = opts.data_dir.clone();
    let app = tokio::task::spawn_blocking(move || app::App::open(&opts, sshd, user))
        .await
        .map_err(|e| e.to_string())??;
    base.clone_into(
        &mut app
            .base
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    ready_line(&app, &base, &data_dir);

    let router = api::router(Arc::clone(&app));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stop_signal())
        .await;
    let stopper = Arc::clone(&app);
    let _ = tokio::task::spawn_blocking(move || stopper.shutdown()).await;
    served.map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)]
fn ready_line(app: &app::App, base: &str, data_dir: &std::path::Path) {
    use std::io::Write;
    let inner = app.lock();
    let workspaces: Vec<serde_json::Value> = inner
        .saved
        .workspaces
        .iter()
        .map(|w| app.listing(w))
        .collect();
    let line = serde_json::json!({
        "api_base": base,
        "web_base": base,
        "token": inner.saved.token,
        "data_dir": data_dir,
        "credential": if app.authorities.is_some() { "certificate" } else { "key" },
        "workspaces": workspaces,
    });
    println!("{line}");
    let _ = std::io::stdout().flush();
}

async fn stop_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
    say("stopping every gateway");
}

/// The OS user the gateways log in as: the effective user's name (`$USER`
/// can be stale, as under `runuser`), then the usual variables.
fn current_user() -> String {
    if procs::is_root() {
        return "root".to_owned();
    }
    let from_id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|n| !n.is_empty());
    from_id
        .or_else(|| {
            ["USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|n| !n.is_empty()))
        })
        .unwrap_or_else(|| "runcode".to_owned())
}
