//! Secrets in Linux's OS credential store (docs/security.md, "Where the
//! value is"): with Secret Service on the session bus, here the real GNOME
//! Keyring on a D-Bus session bus of the test's own, unlocked as a desktop
//! login unlocks it, `secret set` keeps the value there and in no file of
//! runcode's; a command gets exactly that value (by digest, never printed);
//! the MCP server hides it; without that bus it cannot be read (so it came
//! from the keyring, not a file); `secret rm` takes it out of the keyring.
//! With a bus but no keyring that answers, or a locked one (runcode drives
//! no unlock prompt), the value goes to the 0600 file.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::secrets::{holding, random_value};
use crate::util::both;
use crate::util::cli::Cli;
use crate::util::world::attached;

/// A session bus (dbus-daemon) and, when asked, GNOME Keyring on it, for
/// one test; both killed when dropped.
struct Desktop {
    address: String,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Desktop {
    fn start(keyring: bool) -> Desktop {
        for tool in ["dbus-daemon", "gnome-keyring-daemon", "dbus-send"] {
            assert!(
                Command::new("sh")
                    .args(["-c", &format!("command -v {tool}")])
                    .stdout(Stdio::null())
                    .status()
                    .unwrap()
                    .success(),
                "{tool} is missing: the test command installs dbus-daemon, dbus-bin and gnome-keyring (apt)"
            );
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("bus");
        let address = format!("unix:path={}", socket.display());
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        // What the bus starts on demand (a keyring, by activation) gets
        // this environment: the test's own home, never the user's.
        let bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile"])
            .arg(format!("--address={address}"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut desktop = Desktop {
            address,
            children: vec![bus],
            _dir: dir,
        };
        desktop.wait_for("org.freedesktop.DBus");
        if keyring {
            // As a desktop login unlocks it: the password on stdin; a
            // fresh home gets a new login keyring, the default collection.
            let mut daemon = Command::new("gnome-keyring-daemon")
                .args(["--foreground", "--unlock", "--components=secrets"])
                .env_clear()
                .env("PATH", "/usr/bin:/bin")
                .env("HOME", &home)
                .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            {
                use std::io::Write;
                let mut stdin = daemon.stdin.take().unwrap();
                stdin.write_all(b"a login password\n").unwrap();
            }
            desktop.children.push(daemon);
            desktop.wait_for("org.freedesktop.secrets");
        }
        desktop
    }

    /// Waits until `name` has an owner on the bus (asked without
    /// activating anything).
    fn wait_for(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new("dbus-send")
                .arg(format!("--bus={}", self.address))
                .args([
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                ])
                .arg(format!("string:{name}"))
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).contains("boolean true") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{name} never came on the bus: {}",
                both(&out)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // And what the bus started by activation: every process whose
        // environment names this bus.
        let mine = format!("DBUS_SESSION_BUS_ADDRESS={}\0", self.address);
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            if std::fs::read(e.path().join("environ"))
                .is_ok_and(|b| b.windows(mine.len()).any(|w| w == mine.as_bytes()))
            {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

/// `runcode --json secret set NAME` with `value` on `bus`: where it was
/// kept (`keyring` or `file`).
fn set_on(cli: &Cli, bus: &Desktop, name: &str, value: &str) -> String {
    let out = on(
        cli,
        Some(bus),
        &["--json", "secret", "set", name],
        format!("{value}\n").as_bytes(),
    );
    assert!(
        out.status.success(),
        "{}",
        both(&out).replace(value, "<VALUE>")
    );
    let entry: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    entry["store"].as_str().unwrap_or_default().to_owned()
}

/// `runcode ARGS` on `bus` (or none), `input` on stdin.
fn on(cli: &Cli, bus: Option<&Desktop>, args: &[&str], input: &[u8]) -> Output {
    let mut cmd = cli.cmd();
    if let Some(d) = bus {
        cmd.env("DBUS_SESSION_BUS_ADDRESS", &d.address);
    }
    cmd.args(args);
    Cli::feed(cmd, input)
}

#[test]
fn with_secret_service_the_value_lives_in_the_keyring_and_no_file() {
    let desktop = Desktop::start(true);
    let (_dp, cli, _) = attached();
    let value = random_value();
    let digest = crate::secrets::sha256(&value);

    assert_eq!(set_on(&cli, &desktop, "API_TOKEN", &value), "keyring");
    assert!(
        holding(&cli.home, &value).is_empty(),
        "no file of runcode's holds the value: {:?}",
        holding(&cli.home, &value)
    );

    // The command gets exactly the value, read back from the keyring.
    let line = [
        "exec",
        "--secret",
        "API_TOKEN",
        "--",
        "printf %s \"$API_TOKEN\" | sha256sum",
    ];
    let out = on(&cli, Some(&desktop), &line, b"");
    assert!(out.status.success(), "{}", both(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&digest),
        "the command saw another value"
    );
    // Printed, it is hidden.
    let out = on(
        &cli,
        Some(&desktop),
        &["exec", "--secret", "API_TOKEN", "--", "echo \"$API_TOKEN\""],
        b"",
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[secret:API_TOKEN]\n");

    // Without the bus, the value cannot be had: it is in no file.
    let out = on(
        &cli,
        None,
        &["--json", "exec", "--secret", "API_TOKEN", "--", "true"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));
    assert!(both(&out).contains("secret_missing"), "{}", both(&out));

    // rm takes it out of the keyring: with the bus again, it is missing.
    let out = on(
        &cli,
        Some(&desktop),
        &["--json", "secret", "rm", "API_TOKEN"],
        b"",
    );
    assert!(out.status.success(), "{}", both(&out));
    let out = on(
        &cli,
        Some(&desktop),
        &["exec", "--secret", "API_TOKEN", "--", "true"],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", both(&out));

    // A locked keyring: runcode drives no unlock prompt, so the next value
    // goes to the 0600 file (and nothing waits for an answer).
    let lock = Command::new("dbus-send")
        .arg(format!("--bus={}", desktop.address))
        .args([
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .output()
        .unwrap();
    assert!(lock.status.success(), "{}", both(&lock));
    assert_eq!(
        set_on(&cli, &desktop, "LATER_TOKEN", &random_value()),
        "file"
    );
}

/// A session bus on which no keyring answers (its activation starts one
/// that has no unlocked collection): the value goes to the 0600 file, and
/// the command still gets it.
#[test]
fn with_a_bus_but_no_usable_keyring_the_value_goes_to_the_file() {
    let desktop = Desktop::start(false);
    let (_dp, cli, _) = attached();
    let value = random_value();
    assert_eq!(set_on(&cli, &desktop, "API_TOKEN", &value), "file");
    let file = cli.home.join(".config/runcode/secrets.values.json");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let line = [
        "exec",
        "--secret",
        "API_TOKEN",
        "--",
        "printf %s \"$API_TOKEN\" | sha256sum",
    ];
    let out = on(&cli, Some(&desktop), &line, b"");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(&crate::secrets::sha256(&value)),
        "{}",
        both(&out).replace(&value, "<VALUE>")
    );
}
