//! A devplane for the demo and the benchmarks: the release binary started on
//! a data dir, read from its ready line, and stopped with SIGTERM (every
//! gateway with it) when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::sh;

pub struct Plane {
    child: Child,
    /// The ready line: `api_base`, `web_base`, `token`, `data_dir`, `workspaces`.
    pub ready: Value,
}

impl Plane {
    /// Builds and starts `runcode-devplane serve --data-dir <data> <args>`.
    pub fn start(data: &Path, args: &[&str]) -> Result<Plane, String> {
        sh::run(sh::cargo().args(["build", "--quiet", "--release", "-p", "runcode-devplane"]))?;
        crate::prereq::openssh()?;
        let mut child = Command::new(sh::root().join("target/release/runcode-devplane"))
            .arg("serve")
            .args(args)
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the devplane: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        // Held before parsing, so a bad line still stops the devplane.
        let mut plane = Plane {
            child,
            ready: Value::Null,
        };
        plane.ready = serde_json::from_str(&line)
            .map_err(|e| format!("the devplane's ready line {line:?}: {e}"))?;
        Ok(plane)
    }

    pub fn api(&self) -> String {
        self.ready["api_base"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn token(&self) -> String {
        self.ready["token"].as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}
