//! A command's side of the held connection: reach the session's holder
//! (starting it when there is none), prove it is the holder, send the
//! command, and relay its streams and status, as an OpenSSH client does
//! through its master.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;

use super::endpoint::{self, Stream, kind};
use super::{Said, passed};

/// How long a command waits for a holder it started to listen before it
/// connects by itself.
const START_WAIT: Duration = Duration::from_secs(5);

/// Starts the holder of session `dir`, detached from this command: its own
/// process group (a Ctrl-C in the terminal is not for it), no streams, and
/// on Windows none of this command's handles (see `runcode_win`).
pub fn start(dir: &Path, connect_timeout: Option<u64>) {
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("ssh-builtin")
        .arg("--session")
        .arg(dir)
        .arg("--hold");
    if let Some(secs) = connect_timeout {
        cmd.arg("--connect-timeout").arg(secs.to_string());
    }
    cmd.env_remove(crate::output::RESULT_FILE_VAR)
        .env_remove(crate::output::PROGRESS_FILE_VAR)
        .env_remove(crate::remote::interrupt::STOP_FILE_VAR);
    let _ = crate::remote::interrupt::spawn_apart(&mut cmd);
}

/// A proven stream to the holder, or None (there is none and none came up).
async fn reach(dir: &Path, connect_timeout: Option<u64>, start_one: bool) -> Option<Stream> {
    let first = endpoint::connect(dir).await;
    let mut stream = match first {
        Ok(s) => s,
        Err(_) if !start_one => return None,
        Err(_) => {
            start(dir, connect_timeout);
            let deadline = Instant::now() + START_WAIT;
            loop {
                tokio::time::sleep(Duration::from_millis(15)).await;
                if let Ok(s) = endpoint::connect(dir).await {
                    break s;
                }
                if Instant::now() >= deadline {
                    return None;
                }
            }
        }
    };
    let token = std::fs::read_to_string(dir.join(endpoint::TOKEN)).ok()?;
    match endpoint::prove_client(&mut stream, token.trim()).await {
        Ok(true) => Some(stream),
        _ => None,
    }
}

/// Runs `line` through the held connection: Some(status), or None when
/// no holder could be reached (nothing was sent: the caller connects by
/// itself).
pub async fn exec(
    dir: &Path,
    line: &str,
    connect_timeout: Option<u64>,
    said: &mut Said,
) -> Option<i32> {
    let mut stream = reach(dir, connect_timeout, true).await?;
    let ask = serde_json::json!({"op": "exec", "line": line}).to_string();
    // A request that could not be written was not read: nothing ran.
    endpoint::send(&mut stream, kind::REQUEST, ask.as_bytes())
        .await
        .ok()?;
    let (from_holder, mut to_holder) = tokio::io::split(stream);
    let mut from_holder = tokio::io::BufReader::with_capacity(endpoint::READ_BUFFER, from_holder);
    tokio::spawn(async move {
        let mut stdin = tokio::io::stdin();
        let mut buf = vec![0u8; endpoint::BATCH];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if endpoint::send(&mut to_holder, kind::STDIN, &buf[..n])
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let _ = endpoint::send(&mut to_holder, kind::STDIN_END, &[]).await;
        // Kept open: the holder takes its end for this command's.
        std::future::pending::<()>().await;
    });
    let (mut out, mut err) = (tokio::io::stdout(), tokio::io::stderr());
    let mut out_open = true;
    loop {
        match endpoint::receive(&mut from_holder).await {
            Ok(Some((kind::STDOUT, data))) => {
                if out_open {
                    out_open = passed(&mut out, &data).await;
                }
            }
            Ok(Some((kind::STDERR, data))) => {
                let _ = passed(&mut err, &data).await;
            }
            Ok(Some((kind::STATUS, data))) => return Some(status_of(&data)),
            Ok(Some((kind::FAILED, words))) => {
                for l in String::from_utf8_lossy(&words).lines() {
                    said.line(l);
                }
                return Some(255);
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                said.line("Connection to the workspace closed by remote host.");
                return Some(255);
            }
        }
    }
}

fn status_of(data: &[u8]) -> i32 {
    let bytes: [u8; 4] = data.try_into().unwrap_or([0, 0, 0, 255]);
    i32::try_from(u32::from_be_bytes(bytes)).unwrap_or(255)
}

/// `--control check|exit`, as `ssh -O` asks a master: check is 0 when a
/// holder answers with its connection up; exit ends it (0 when there is
/// none).
pub fn control(dir: &Path, op: &str) -> i32 {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return 255;
    };
    let none = if op == "exit" { 0 } else { 255 };
    runtime.block_on(async {
        let Some(mut stream) = reach(dir, None, false).await else {
            return none;
        };
        let ask = serde_json::json!({ "op": op }).to_string();
        if endpoint::send(&mut stream, kind::REQUEST, ask.as_bytes())
            .await
            .is_err()
        {
            return none;
        }
        let status = match endpoint::receive(&mut stream).await {
            Ok(Some((kind::STATUS, data))) => status_of(&data),
            _ => none,
        };
        if op == "exit" {
            gone(dir).await;
        }
        status
    })
}

/// Waits (5 s at most) until the holder has ended: its lock is free once
/// its process is gone, so nothing of the session outlives `disconnect`.
async fn gone(dir: &Path) {
    let Ok(lock) = crate::paths::lock_file(&dir.join("held.lock")) else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while lock.try_lock().is_err() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
