//! The real `runcode` binary in a scratch HOME with a scrubbed environment,
//! pointed at a devplane.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::devplane::Devplane;

pub struct Cli {
    pub tmp: tempfile::TempDir,
    pub home: PathBuf,
    pub api: String,
    pub token: Option<String>,
}

impl Cli {
    pub fn new(dp: &Devplane) -> Cli {
        let mut cli = Cli::bare(&dp.api);
        cli.token = Some(dp.token.clone());
        cli
    }

    /// No token: for login and no_token tests.
    pub fn bare(api: &str) -> Cli {
        let tmp = tempfile::Builder::new()
            .prefix("rc-cli-")
            .tempdir()
            .unwrap();
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Cli {
            tmp,
            home,
            api: api.to_owned(),
            token: None,
        }
    }

    pub fn cache(&self) -> PathBuf {
        self.home.join(".cache/runcode")
    }

    pub fn session_dir(&self, id: u64) -> PathBuf {
        self.cache().join(format!("ws-{id}"))
    }

    pub fn cmd(&self) -> Command {
        self.cmd_of(&super::built("runcode"))
    }

    /// `program` (another build of the CLI) in this scratch HOME.
    pub fn cmd_of(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("RUNCODE_API_BASE", &self.api)
            .env("RUNCODE_WEB_BASE", &self.api)
            .env("RUNCODE_POLL_MS", "200")
            .current_dir(self.tmp.path())
            .stdin(Stdio::null());
        if let Some(token) = &self.token {
            cmd.env("RUNCODE_TOKEN", token);
        }
        // A suite run again over runcode's own SSH client (docs/development.md).
        if let Some(transport) = std::env::var_os("RUNCODE_TRANSPORT") {
            cmd.env("RUNCODE_TRANSPORT", transport);
        }
        cmd
    }

    /// Runs with `input` on stdin (then closed).
    pub fn run_fed(&self, args: &[&str], input: &[u8]) -> Output {
        let mut cmd = self.cmd();
        cmd.args(args);
        Cli::feed(cmd, input)
    }

    /// Runs `cmd` (one of `cmd()`'s, given more) with `input` on stdin.
    pub fn feed(mut cmd: Command, input: &[u8]) -> Output {
        use std::io::Write;
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run runcode");
        let _ = child.stdin.take().expect("piped").write_all(input);
        child.wait_with_output().expect("run runcode")
    }

    /// Starts a command that reports as it goes (`forward --auto --json`):
    /// the child, and its JSON lines as they come.
    pub fn events(&self, args: &[&str]) -> (std::process::Child, std::sync::mpsc::Receiver<Value>) {
        use std::io::BufRead;
        let mut child = self
            .cmd()
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run runcode");
        let (tx, events) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(serde_json::from_str(&line).unwrap_or(Value::Null));
            }
        });
        (child, events)
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().expect("run runcode")
    }

    /// Runs with `--json`; answers the exit status and the one JSON object
    /// stdout must hold (success or failure).
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let out = self
            .cmd()
            .arg("--json")
            .args(args)
            .output()
            .expect("run runcode");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(
            lines.len(),
            1,
            "exactly one JSON line on stdout for {args:?}, got {stdout:?}; stderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let value: Value = serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", lines[0]));
        (out.status.code().unwrap_or(-1), value)
    }

    /// Runs with `--json` and expects success.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Value {
        let (code, value) = self.json(args);
        assert_eq!(code, 0, "{args:?} failed: {value}");
        value
    }

    /// Runs with `--json` and expects the failure `code` with `status`.
    #[track_caller]
    pub fn fails(&self, args: &[&str], code: &str, status: i32) -> Value {
        let (exit, value) = self.json(args);
        assert_eq!(
            (exit, value["error"].as_str()),
            (status, Some(code)),
            "{args:?}: {value}"
        );
        assert!(
            value["message"].as_str().is_some_and(|m| !m.is_empty()),
            "a message: {value}"
        );
        value
    }
}

/// `ssh -G -F <config> <alias>` as a map of lowercase keys to values.
pub fn ssh_g(config: &Path, alias: &str) -> std::collections::HashMap<String, String> {
    let out = Command::new("ssh")
        .arg("-G")
        .arg("-F")
        .arg(config)
        .arg(alias)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh -G: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect()
}
