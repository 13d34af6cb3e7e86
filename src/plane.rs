//! The one way the suites and xtask run a devplane: `runcode-devplane serve
//! --data-dir <dir> <args>` started from a given command (the binary, or
//! `setpriv` in front of it), its JSON ready line read, and SIGTERM on stop
//! or drop, which takes every gateway with it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Plane {
    child: Option<Child>,
    /// The ready line: `api_base`, `web_base`, `token`, `data_dir`, `workspaces`.
    pub ready: Value,
}

impl Plane {
    /// Starts `command serve --data-dir <data_dir> <args>` and waits for its
    /// ready line.
    pub fn spawn(mut command: Command, data_dir: &Path, args: &[&str]) -> Result<Plane, String> {
        let mut child = command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the devplane: {e}"))?;
        let stdout = child.stdout.take().expect("piped");
        // Held before the line is read, so a failure still stops it.
        let mut plane = Plane {
            child: Some(child),
            ready: Value::Null,
        };
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .map_err(|e| format!("the devplane's ready line: {e}"))?;
        plane.ready = serde_json::from_str(&line)
            .map_err(|e| format!("the devplane's ready line {line:?}: {e}"))?;
        Ok(plane)
    }

    pub fn api(&self) -> String {
        self.field("api_base")
    }

    pub fn token(&self) -> String {
        self.field("token")
    }

    fn field(&self, name: &str) -> String {
        self.ready[name].as_str().unwrap_or_default().to_owned()
    }

    /// The devplane's pid, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then up to 20 s for a clean exit (SIGKILL after that).
    pub fn stop(&mut self) -> Result<ExitStatus, String> {
        let mut child = self.child.take().ok_or("the devplane is not running")?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("the devplane did not stop within 20 s of SIGTERM".to_owned())
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = self.stop();
        }
    }
}
