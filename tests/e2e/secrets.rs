//! Secrets (docs/security.md, "Secrets") against the devplane's real sshd:
//! `secret set`, `list` and `rm` (no value ever printed, the file 0600); a
//! command gets exactly the value (checked by digest: these tests never
//! print a value, and their failure messages show outputs with the values
//! masked); no process's argv on either side holds it while the command
//! runs; the session directory, the local files and the workspace's run
//! records do not hold it afterwards; every output hides it, split across
//! writes, at read boundaries, two at once; the MCP server hides every value
//! the attached workspace may use, named or not; hostile names, another
//! workspace's secret and a missing one are refused with nothing sent.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::util::cli::Cli;
use crate::util::mcp::Raw;
use crate::util::world::{attached, attached_with};

/// A random value of 32 hex digits (never printed).
pub(crate) fn random_value() -> String {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").unwrap(),
        &mut bytes,
    )
    .unwrap();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn sha256(text: &str) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            std::io::Write::write_all(&mut c.stdin.take().unwrap(), text.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// `text` with every value masked, for a failure message.
fn masked(text: &str, values: &[&str]) -> String {
    values
        .iter()
        .fold(text.to_owned(), |t, v| t.replace(v, "<VALUE>"))
}

fn set(cli: &Cli, name: &str, value: &str, ws: Option<&str>) -> std::process::Output {
    let mut args = vec!["--json", "secret", "set", name];
    if let Some(ws) = ws {
        args.extend(["--workspace", ws]);
    }
    cli.run_fed(&args, format!("{value}\n").as_bytes())
}

/// Files under `dir` (recursively) whose bytes hold `value`.
pub(crate) fn holding(dir: &Path, value: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(meta) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file()
                && std::fs::read(&p)
                    .is_ok_and(|b| b.windows(value.len()).any(|w| w == value.as_bytes()))
            {
                found.push(p.display().to_string());
            }
        }
    }
    found
}

/// Processes whose command line holds `value`.
fn argv_holding(value: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|b| b.windows(value.len()).any(|w| w == value.as_bytes()))
        })
        .count()
}

#[test]
fn set_list_and_rm_never_print_a_value_and_keep_it_in_a_0600_file() {
    let (_dp, cli, _) = attached();
    let value = random_value();
    let out = set(&cli, "API_TOKEN", &value, None);
    assert!(
        out.status.success(),
        "{}",
        masked(&crate::util::both(&out), &[&value])
    );
    let out2 = set(&cli, "DB_URL", &random_value(), Some("1001"));
    assert!(out2.status.success());
    let listed = cli.ok(&["secret", "list"]);
    assert_eq!(
        listed["secrets"],
        json!([
            {"name": "API_TOKEN", "workspace_id": null, "store": "file"},
            {"name": "DB_URL", "workspace_id": 1001, "store": "file"},
        ])
    );
    let human = cli.run(&["secret", "list"]);
    for out in [&out, &human] {
        let all = crate::util::both(out);
        assert!(!all.contains(&value), "a value was printed");
    }
    use std::os::unix::fs::PermissionsExt;
    let config = cli.home.join(".config/runcode");
    for file in ["secrets.json", "secrets.values.json"] {
        let mode = std::fs::metadata(config.join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    assert!(
        !std::fs::read_to_string(config.join("secrets.json"))
            .unwrap()
            .contains(&value),
        "the index holds names only"
    );
    let rm = cli.ok(&["secret", "rm", "API_TOKEN"]);
    assert_eq!(rm["removed"], true);
    let listed = cli.ok(&["secret", "list"]);
    assert_eq!(listed["secrets"].as_array().unwrap().len(), 1);
    assert!(
        holding(&config, &value).is_empty(),
        "the value went with it"
    );
    cli.fails(&["secret", "rm", "API_TOKEN"], "secret_missing", 2);
}

#[test]
fn a_command_gets_exactly_the_value_and_nothing_else_keeps_it() {
    let (dp, cli, _) = attached();
    let value = random_value();
    assert!(set(&cli, "API_TOKEN", &value, None).status.success());
    let child = cli
        .cmd()
        .args([
            "--json",
            "exec",
            "--secret",
            "API_TOKEN",
            "--",
            "printf %s \"$API_TOKEN\" | sha256sum; sleep 3",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    // Both sides run on this machine: one look covers the CLI, ssh, sshd
    // and the command's shell.
    assert_eq!(argv_holding(&value), 0, "a command line holds the value");
    let out = child.wait_with_output().unwrap();
    let all = crate::util::both(&out);
    assert!(out.status.success(), "{}", masked(&all, &[&value]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&sha256(&value)),
        "the command saw another value: {}",
        masked(&all, &[&value])
    );
    assert!(!all.contains(&value));
    assert_eq!(
        holding(&cli.session_dir(1001), &value),
        Vec::<String>::new()
    );
    assert_eq!(holding(&cli.cache(), &value), Vec::<String>::new());
    let runs = dp.data_dir.join("ws-1001/cache/runcode/runs");
    assert!(runs.is_dir());
    assert_eq!(holding(&runs, &value), Vec::<String>::new());
}

#[test]
fn every_output_hides_the_values_split_at_boundaries_and_two_at_once() {
    let (_dp, cli, workdir) = attached();
    let (a, b) = (random_value(), random_value());
    assert!(set(&cli, "ALPHA_KEY", &a, None).status.success());
    assert!(set(&cli, "BETA_KEY", &b, Some("1001")).status.success());
    // ALPHA whole; split in two writes a second apart; across read
    // boundaries (after 64 KiB - 5, 128 KiB - 7 ... bytes); BETA, never
    // named, printed from a file.
    std::fs::write(workdir.join("beta.txt"), format!("b={b}\n")).unwrap();
    let script = "echo \"a=$ALPHA_KEY\"; \
         printf %s \"$ALPHA_KEY\" | head -c 9; sleep 1; printf '%s\\n' \"${ALPHA_KEY#?????????}\"; \
         for k in 1 2 3 4; do head -c $((65536 * k - 2 * k - 3)) /dev/zero | tr '\\0' x; printf %s \"$ALPHA_KEY\"; done; echo; \
         cat beta.txt; echo \"$ALPHA_KEY\" >&2";
    let out = cli
        .cmd()
        .args(["exec", "--secret", "ALPHA_KEY", "--", script])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let shown = |t: &str| {
        masked(
            &t.chars().filter(|c| *c != 'x').collect::<String>(),
            &[&a, &b],
        )
    };
    assert!(out.status.success(), "{}", shown(&stderr));
    assert!(
        !stdout.contains(&a) && !stdout.contains(&b),
        "{}",
        shown(&stdout)
    );
    assert!(!stderr.contains(&a), "{}", shown(&stderr));
    assert_eq!(
        stdout.matches("[secret:ALPHA_KEY]").count(),
        6,
        "{}",
        shown(&stdout)
    );
    assert!(
        stdout.starts_with("a=[secret:ALPHA_KEY]\n[secret:ALPHA_KEY]\n"),
        "{}",
        shown(&stdout)
    );
    assert!(
        stdout.ends_with("b=[secret:BETA_KEY]\n"),
        "{}",
        shown(&stdout)
    );
    assert_eq!(stderr.trim_end(), "[secret:ALPHA_KEY]");
    // attach hides them too.
    let started = cli.ok(&["exec", "--detach", "--", "cat beta.txt"]);
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    let out = cli.run(&["attach", &run_id]);
    let followed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(followed, "b=[secret:BETA_KEY]\n", "{}", shown(&followed));
    // Every x is still there: nothing but the values was touched.
    assert_eq!(
        stdout.matches('x').count(),
        (1..=4).map(|k| 65536 * k - 2 * k - 3).sum::<usize>()
    );
}

#[test]
fn a_run_given_a_secret_resumes_after_a_reset_whole_and_once() {
    let (dp, cli, workdir) = attached_with(&["--relay"]);
    let value = random_value();
    assert!(set(&cli, "API_TOKEN", &value, None).status.success());
    let run = cli
        .cmd()
        .args([
            "exec",
            "--secret",
            "API_TOKEN",
            "--",
            "echo run >> once.txt; echo a; sleep 3; printf %s \"$API_TOKEN\" | sha256sum",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    crate::util::wait_until(
        "the run started",
        std::time::Duration::from_secs(30),
        || workdir.join("once.txt").exists(),
    );
    dp.post("/_dev/link?workspace_id=1001", json!({"reset": true}));
    let out = run.wait_with_output().unwrap();
    let all = masked(&crate::util::both(&out), &[&value]);
    assert!(out.status.success(), "{all}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("a\n{}  -\n", sha256(&value)),
        "{all}"
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("once.txt")).unwrap(),
        "run\n"
    );
}

fn mcp(cli: &Cli) -> Raw {
    let mut cmd = cli.cmd();
    cmd.arg("mcp");
    Raw::start(&mut cmd)
}

fn text_of(result: &Value) -> String {
    result.to_string()
}

#[test]
fn the_mcp_server_hides_every_value_the_workspace_may_use_named_or_not() {
    let (_dp, cli, workdir) = attached();
    let (a, other) = (random_value(), random_value());
    assert!(set(&cli, "ALPHA_KEY", &a, Some("1001")).status.success());
    assert!(
        set(&cli, "ELSEWHERE_KEY", &other, Some("1002"))
            .status
            .success()
    );
    std::fs::write(workdir.join(".env"), format!("ALPHA_KEY={a}\n")).unwrap();
    let mut raw = mcp(&cli);
    let names = raw.call("secrets", &json!({}));
    assert_eq!(
        names["structuredContent"]["secrets"],
        json!([{"name": "ALPHA_KEY", "workspace_id": 1001, "store": "file"}]),
        "{names}"
    );
    // read_file of a file holding it.
    let read = raw.call("read_file", &json!({"path": ".env"}));
    let text = text_of(&read);
    assert!(
        !text.contains(&a) && text.contains("[secret:ALPHA_KEY]"),
        "{}",
        masked(&text, &[&a])
    );
    // search, whose matches quote the line.
    let found = raw.call("search", &json!({"pattern": "ALPHA_KEY=", "path": "."}));
    let text = text_of(&found);
    assert!(
        !text.contains(&a) && text.contains("ALPHA_KEY=[secret:ALPHA_KEY]"),
        "{}",
        masked(&text, &[&a])
    );
    // exec that never named it, printing the file.
    let ran = raw.call("exec", &json!({"command": "cat .env; echo done"}));
    let text = text_of(&ran);
    assert!(
        !text.contains(&a) && text.contains("[secret:ALPHA_KEY]"),
        "{}",
        masked(&text, &[&a])
    );
    // exec that names it gets it.
    let ran = raw.call(
        "exec",
        &json!({"command": "printf %s \"$ALPHA_KEY\" | sha256sum", "secrets": ["ALPHA_KEY"]}),
    );
    let text = text_of(&ran);
    assert!(text.contains(&sha256(&a)), "{}", masked(&text, &[&a]));
    // Another workspace's secret: refused, nothing ran.
    let refused = raw.call(
        "exec",
        &json!({"command": "touch ran-elsewhere", "secrets": ["ELSEWHERE_KEY"]}),
    );
    assert_eq!(
        refused["structuredContent"]["error"], "secret_missing",
        "{refused}"
    );
    assert!(!workdir.join("ran-elsewhere").exists());
}

#[test]
fn hostile_names_another_workspaces_secret_and_a_missing_one_are_refused() {
    let (_dp, cli, workdir) = attached();
    for name in ["LD_PRELOAD", "BASH_ENV", "A=B", "", "A\nB", "PATH", "IFS"] {
        let out = set(&cli, name, &random_value(), None);
        assert_eq!(out.status.code(), Some(2), "{name:?}");
        let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(failure["error"], "secret_refused", "{name:?}: {failure}");
    }
    let out = set(&cli, "SHORT", "1234567", None);
    let failure: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(failure["error"], "secret_refused", "{failure}");
    assert_eq!(cli.ok(&["secret", "list"])["secrets"], json!([]));
    assert!(
        set(&cli, "OTHER_KEY", &random_value(), Some("1002"))
            .status
            .success()
    );
    for (name, marker) in [
        ("OTHER_KEY", "ran-other"),
        ("MISSING_KEY", "ran-missing"),
        ("LD_PRELOAD", "ran-ld"),
    ] {
        let (code, failure) =
            cli.json(&["exec", "--secret", name, "--", &format!("touch {marker}")]);
        let want = if name == "LD_PRELOAD" {
            "secret_refused"
        } else {
            "secret_missing"
        };
        assert_eq!(
            (code, failure["error"].as_str()),
            (2, Some(want)),
            "{failure}"
        );
        assert!(!workdir.join(marker).exists(), "{marker}: nothing ran");
    }
}
