//! The shell scripts runcode runs on the workspace, one file each beside
//! this one. Their text is constant: every value reaches a script as a
//! positional argument (`sh -c <script> sh <args>`, made by `line`) or on
//! stdin, never by pasting it into the text, so no value can become code.
//! POSIX sh and coreutils only; the workspace's own shell starts `sh`.
//!
//! The statuses the scripts share are named in `status`; the unit tests
//! below run every script under the local `sh` and `bash` with hostile
//! arguments and check what it did.

use crate::text::shell_quote;

/// The wrapper of a recorded run (`remote::runs`).
pub const WRAP: &str = include_str!("wrap.sh");
/// A recorded run started in the background (`exec --detach`).
pub const DETACH: &str = include_str!("detach.sh");
/// What the workspace knows of a run.
pub const PROBE: &str = include_str!("probe.sh");
/// A run's output from a given byte on.
pub const ATTACH: &str = include_str!("attach.sh");
/// The runs on the workspace.
pub const LIST: &str = include_str!("list.sh");
/// Ends a run's processes (Ctrl-C, a timeout).
pub const END: &str = include_str!("end.sh");
/// Stops a run and says how it ended (`runs --stop`, `run_stop`).
pub const STOP: &str = include_str!("stop.sh");
/// `put`/`write` of one file.
pub const RECEIVE_FILE: &str = include_str!("receive_file.sh");
/// `put` of a folder.
pub const RECEIVE_TREE: &str = include_str!("receive_tree.sh");
/// `get` of a file or a folder.
pub const SEND: &str = include_str!("send.sh");
/// The MCP `read_file` by lines.
pub const READ_LINES: &str = include_str!("read_lines.sh");
/// The MCP `search`.
pub const SEARCH: &str = include_str!("search.sh");
/// The MCP `list_files`.
pub const LIST_FILES: &str = include_str!("list_files.sh");
/// The listener tables `forward --auto` watches.
pub const LISTENERS: &str = include_str!("listeners.sh");
/// The digest of `runcode context`, sent on stdin (`stdin_line`).
pub const CONTEXT: &str = include_str!("context.sh");

/// The exit statuses the scripts give. The Rust side reads `CHANGED`,
/// `KIND` and `MISSING`; the other two are told apart by what the script printed, and
/// are named here so the tests and docs/sessions.md agree with the scripts.
#[cfg_attr(not(all(test, unix)), allow(dead_code))]
pub mod status {
    /// Not readable: `send` found no file or folder at the path.
    pub const NOT_READABLE: i32 = 2;
    /// A guarded write found the file changed since it was read.
    pub const CHANGED: i32 = 3;
    /// A file would have replaced a folder, or a folder a file.
    pub const KIND: i32 = 4;
    /// The path the MCP tools were given is not there (or not a file); the
    /// run `stop` was given has no record.
    pub const MISSING: i32 = 66;
    /// The run could not be recorded on the workspace.
    pub const NO_RECORD: i32 = 125;
}

/// The remote command line that runs `script` with `args` as `$1`...
pub fn line(script: &str, args: &[&str]) -> String {
    let mut line = format!("sh -c {} sh", shell_quote(script));
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    line
}

/// The remote command line that runs the script sent on stdin with `args`.
pub fn stdin_line(args: &[&str]) -> String {
    let mut line = String::from("sh -s --");
    for arg in args {
        line.push(' ');
        line.push_str(&shell_quote(arg));
    }
    line
}

#[cfg(all(test, unix))]
mod tests {
    use std::path::Path;
    use std::process::{Command, Output, Stdio};

    use super::*;

    /// Arguments a hostile caller might pass: quotes, substitutions,
    /// newlines, globs, leading dashes, `=`.
    const HOSTILE: &[&str] = &[
        "a'b",
        "a\"b",
        "$(touch pwned)",
        "`touch pwned`",
        "x\ntouch pwned",
        "-rf",
        "--help",
        "*",
        "x=1",
        "; touch pwned #",
    ];

    /// The local shells to try: `sh`, `dash` and `bash`, those present.
    fn shells() -> Vec<&'static str> {
        let shells: Vec<&str> = ["sh", "dash", "bash"]
            .into_iter()
            .filter(|s| which::which(s).is_ok())
            .collect();
        assert!(shells.contains(&"bash"), "bash is needed for these tests");
        shells
    }

    /// Runs `script` under `shell` as the workspace would: the line through
    /// `shell -c`, in `dir`, HOME and XDG_CACHE_HOME there, SHELL the shell.
    fn run_with(shell: &str, dir: &Path, script: &str, args: &[&str], stdin: &[u8]) -> Output {
        run_text(shell, dir, &line(script, args), stdin)
    }

    /// `run_with` for a whole command line, as the CLI may prefix it.
    fn run_text(shell: &str, dir: &Path, text: &str, stdin: &[u8]) -> Output {
        let mut child = Command::new(shell)
            .arg("-c")
            .arg(text)
            .current_dir(dir)
            .env("HOME", dir)
            .env("XDG_CACHE_HOME", dir.join("cache"))
            .env("SHELL", which::which(shell).unwrap())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let mut input = child.stdin.take().unwrap();
        // A script that does not read its stdin may close it first.
        let _ = input.write_all(stdin);
        drop(input);
        child.wait_with_output().unwrap()
    }

    /// `script` run under each shell in turn, all in `dir`.
    fn run_in(dir: &Path, script: &str, args: &[&str], stdin: &[u8]) -> Vec<Output> {
        shells()
            .into_iter()
            .map(|shell| run_with(shell, dir, script, args, stdin))
            .collect()
    }

    /// `script` run under each shell, each in a folder of its own.
    fn fresh(script: &str, args: &[&str]) -> Vec<(tempfile::TempDir, Output)> {
        shells()
            .into_iter()
            .map(|shell| {
                let dir = tempfile::tempdir().unwrap();
                let out = run_with(shell, dir.path(), script, args, b"");
                (dir, out)
            })
            .collect()
    }

    fn no_pwned(dir: &Path) {
        assert!(!dir.join("pwned").exists(), "an argument ran as code");
    }

    #[test]
    fn receive_file_writes_exactly_the_named_file() {
        for name in HOSTILE {
            let dir = tempfile::tempdir().unwrap();
            for out in run_in(dir.path(), RECEIVE_FILE, &[name, "n", "5"], b"hello") {
                assert!(out.status.success(), "{name:?}: {out:?}");
                assert_eq!(String::from_utf8_lossy(&out.stdout), *name);
                assert_eq!(std::fs::read(dir.path().join(name)).unwrap(), b"hello");
            }
            no_pwned(dir.path());
            let leftovers: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().contains("runcode-tmp"))
                .collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }

    #[test]
    fn receive_file_refuses_a_short_stream_and_a_changed_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "old").unwrap();
        for out in run_in(dir.path(), RECEIVE_FILE, &["f", "n", "9"], b"new") {
            assert_eq!(out.status.code(), Some(1));
        }
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"old");
        for out in run_in(dir.path(), RECEIVE_FILE, &["f", "n", "3", "1 2"], b"new") {
            assert_eq!(out.status.code(), Some(status::CHANGED));
        }
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"old");
        let sum = crate::remote::transfer::posix_cksum(b"old");
        for shell in shells() {
            let args = ["f", "n", "3", &sum];
            let out = run_with(shell, dir.path(), RECEIVE_FILE, &args, b"new");
            assert!(out.status.success(), "{shell}: {out:?}");
            assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"new");
            // Put back for the next shell.
            std::fs::write(dir.path().join("f"), "old").unwrap();
        }
    }

    #[test]
    fn a_folder_is_never_replaced_by_a_file_nor_a_file_by_a_folder() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("d/n")).unwrap();
        std::fs::write(dir.path().join("f"), "keep").unwrap();
        // A file whose place in `d` is a folder; `write` (no name) to `d`.
        for args in [&["d", "n", "1"][..], &["d", "", "1"][..]] {
            for out in run_in(dir.path(), RECEIVE_FILE, args, b"x") {
                assert_eq!(out.status.code(), Some(status::KIND), "{args:?}: {out:?}");
            }
        }
        assert!(dir.path().join("d/n").is_dir());
        for out in run_in(dir.path(), RECEIVE_TREE, &["f", "n"], b"") {
            assert_eq!(out.status.code(), Some(status::KIND), "{out:?}");
        }
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"keep");
    }

    #[test]
    fn send_reads_only_the_named_path() {
        for name in HOSTILE {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), "data").unwrap();
            for out in run_in(dir.path(), SEND, &[name], b"") {
                assert!(out.status.success(), "{name:?}: {out:?}");
                assert_eq!(out.stdout, b"F4\ndata", "{name:?}");
            }
            no_pwned(dir.path());
        }
        let dir = tempfile::tempdir().unwrap();
        for out in run_in(dir.path(), SEND, &["$(touch pwned)"], b"") {
            assert_eq!(out.status.code(), Some(status::NOT_READABLE));
        }
        no_pwned(dir.path());
    }

    #[test]
    fn receive_tree_replaces_only_the_named_folder() {
        // A tar of one folder `tree` holding `f`.
        let src = tempfile::tempdir().unwrap();
        std::fs::create_dir(src.path().join("tree")).unwrap();
        std::fs::write(src.path().join("tree/f"), "x").unwrap();
        let tar = Command::new("tar")
            .args(["-cf", "-", "tree"])
            .current_dir(src.path())
            .output()
            .unwrap()
            .stdout;
        for name in HOSTILE {
            let dir = tempfile::tempdir().unwrap();
            for out in run_in(dir.path(), RECEIVE_TREE, &[name, "n"], &tar) {
                assert!(out.status.success(), "{name:?}: {out:?}");
                assert_eq!(
                    std::fs::read(dir.path().join(name).join("f")).unwrap(),
                    b"x"
                );
            }
            no_pwned(dir.path());
        }
    }

    #[test]
    fn the_reading_tools_take_their_path_literally() {
        for name in HOSTILE {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(name), "one\ntwo needle\nthree\n").unwrap();
            for out in run_in(dir.path(), READ_LINES, &[name, "2", "3", "100"], b"") {
                assert!(out.status.success(), "{name:?}: {out:?}");
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    "     2\ttwo needle\n     3\tthree\n",
                    "{name:?}"
                );
                assert_eq!(String::from_utf8_lossy(&out.stderr).trim(), "3");
            }
            for out in run_in(dir.path(), SEARCH, &[name, "needle", "10", "", ""], b"") {
                assert!(out.status.success(), "{name:?}: {out:?}");
                // One file searched: grep names no file, just the line.
                assert_eq!(out.stdout, b"2:two needle\n", "{name:?}: {out:?}");
            }
            for out in run_in(dir.path(), LIST_FILES, &[".", "1", "50"], b"") {
                assert!(
                    String::from_utf8_lossy(&out.stdout).contains(&format!("./{name}")),
                    "{name:?}: {out:?}"
                );
            }
            no_pwned(dir.path());
        }
        let dir = tempfile::tempdir().unwrap();
        for script in [READ_LINES, SEARCH, LIST_FILES] {
            for out in run_in(
                dir.path(),
                script,
                &["$(touch pwned)", "1", "1", "", ""],
                b"",
            ) {
                assert_eq!(out.status.code(), Some(status::MISSING), "{out:?}");
            }
        }
        no_pwned(dir.path());
    }

    #[test]
    fn a_hostile_pattern_or_glob_stays_a_pattern() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rs"), "fn x() {}\n").unwrap();
        for pattern in HOSTILE {
            for out in run_in(dir.path(), SEARCH, &[".", pattern, "10", "1", pattern], b"") {
                assert!(out.status.success(), "{pattern:?}: {out:?}");
            }
        }
        for out in run_in(dir.path(), SEARCH, &[".", "FN", "10", "1", "*.rs"], b"") {
            assert!(String::from_utf8_lossy(&out.stdout).contains("a.rs:1:fn x"));
        }
        no_pwned(dir.path());
    }

    #[test]
    fn a_run_is_recorded_probed_listed_and_attached() {
        let dir = tempfile::tempdir().unwrap();
        for (i, out) in run_in(
            dir.path(),
            WRAP,
            &[
                "7-0-1",
                "echo out; echo err >&2; exit 4",
                "",
                "x;touch pwned",
            ],
            b"",
        )
        .into_iter()
        .enumerate()
        {
            if i == 0 {
                assert_eq!(out.status.code(), Some(4), "{out:?}");
                assert_eq!(out.stdout, b"out\n");
                assert_eq!(out.stderr, b"err\n");
            } else {
                // The same id again: its record is taken.
                assert_eq!(out.status.code(), Some(status::NO_RECORD), "{out:?}");
            }
        }
        let runs = dir.path().join("cache/runcode/runs/7-0-1");
        assert_eq!(std::fs::read_to_string(runs.join("status")).unwrap(), "4\n");
        for out in run_in(dir.path(), PROBE, &["7-0-1"], b"") {
            assert_eq!(out.stdout, b"done 4\n");
        }
        for out in run_in(dir.path(), LIST, &[], b"") {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let fields: Vec<&str> = text.trim_end().split('\t').collect();
            assert_eq!(fields.len(), 5, "{text:?}");
            assert_eq!(&fields[..3], ["7-0-1", "done", "4"], "{text:?}");
            assert!(fields[3].parse::<i64>().is_ok(), "a start time: {text:?}");
            assert_eq!(fields[4], "echo out; echo err >&2; exit 4");
        }
        // Frames from byte 1 of stdout and 0 of stderr, and the end.
        for out in run_in(dir.path(), ATTACH, &["7-0-1", "1", "0"], b"") {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                "o 1 3\nut\ne 0 4\nerr\nx 4 exit\n"
            );
        }
        // A run never seen is marked void at once (`unknown`), a second
        // probe finds that mark (`void`), and it is not listed.
        for (i, out) in run_in(dir.path(), PROBE, &["8-0-1"], b"")
            .into_iter()
            .enumerate()
        {
            let want: &[u8] = if i == 0 { b"unknown\n" } else { b"void\n" };
            assert_eq!(out.stdout, want);
        }
        assert!(dir.path().join("cache/runcode/runs/8-0-1/void").exists());
        for out in run_in(dir.path(), LIST, &[], b"") {
            assert!(String::from_utf8_lossy(&out.stdout).starts_with("7-0-1\tdone\t4\t"));
            assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
        }
        // Acknowledged runs go, hostile names never reach rm.
        for out in run_in(
            dir.path(),
            WRAP,
            &["9-0-1", "true", "", "7-0-1", "../../../x", "*"],
            b"",
        ) {
            if out.status.success() {
                break;
            }
        }
        let mut gone = false;
        for _ in 0..100 {
            gone = !runs.exists();
            if gone {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert!(gone, "an acknowledged run is removed");
        assert!(dir.path().join("cache/runcode/runs/8-0-1").exists());
        no_pwned(dir.path());
    }

    #[test]
    fn a_hostile_command_line_runs_as_the_users_own_shell_would() {
        for text in HOSTILE {
            let command = format!("printf %s {}", shell_quote(text));
            for (dir, out) in fresh(WRAP, &["2-0-1", &command, ""]) {
                assert!(out.status.success(), "{text:?}: {out:?}");
                assert_eq!(out.stdout, text.as_bytes(), "{text:?}");
                let record = dir.path().join("cache/runcode/runs/2-0-1");
                let kept = std::fs::read(record.join("out.000000")).unwrap();
                assert_eq!(kept, text.as_bytes());
                no_pwned(dir.path());
            }
        }
        for (_, out) in fresh(WRAP, &["2-0-1", "exit 7", ""]) {
            assert_eq!(out.status.code(), Some(7));
        }
    }

    #[test]
    fn secrets_arrive_exported_before_stdin_and_never_in_the_record() {
        use base64::Engine as _;
        let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
        for text in HOSTILE.iter().filter(|t| t.len() >= 2) {
            let value = format!("v{text}\n$(touch pwned)");
            let preamble = format!(
                "SECRET_A={}\nSECRET_B={}\n.\nthe rest\n",
                b64(&value),
                b64("bbbbbbbb")
            );
            for shell in shells() {
                let dir = tempfile::tempdir().unwrap();
                let fed = format!(
                    "RUNCODE_SECRETS=1 {}",
                    line(
                        WRAP,
                        &["5-0-1", "printf %s \"$SECRET_A|$SECRET_B|\"; cat", ""]
                    )
                );
                let out = run_text(shell, dir.path(), &fed, preamble.as_bytes());
                assert!(out.status.success(), "{shell} {text:?}: {out:?}");
                assert_eq!(
                    String::from_utf8_lossy(&out.stdout),
                    format!("{value}|bbbbbbbb|the rest\n"),
                    "{shell} {text:?}"
                );
                no_pwned(dir.path());
                let record = dir.path().join("cache/runcode/runs/5-0-1");
                for name in ["cmd", "started", "pid"] {
                    let kept = std::fs::read(record.join(name)).unwrap_or_default();
                    assert!(
                        !String::from_utf8_lossy(&kept).contains("bbbbbbbb"),
                        "{name}"
                    );
                }
            }
        }
        // A name that is no variable name: refused before anything runs.
        let preamble = format!("x;touch pwned={}\n.\n", b64("vvvvvvvv"));
        for shell in shells() {
            let dir = tempfile::tempdir().unwrap();
            let fed = format!(
                "RUNCODE_SECRETS=1 {}",
                line(WRAP, &["6-0-1", "touch ran", ""])
            );
            let out = run_text(shell, dir.path(), &fed, preamble.as_bytes());
            assert_eq!(out.status.code(), Some(125), "{shell}: {out:?}");
            assert!(!dir.path().join("ran").exists());
            no_pwned(dir.path());
        }
    }

    #[test]
    fn a_stream_keeps_its_last_pieces_and_attach_says_what_went() {
        // 80 MiB of stdout: ten pieces of 8 MiB written, the last eight
        // kept; attach from byte 0 starts at the first kept byte.
        let dir = tempfile::tempdir().unwrap();
        let out = run_with(
            "sh",
            dir.path(),
            WRAP,
            &["3-0-1", "head -c 83886080 /dev/zero; echo tail >&2", ""],
            b"",
        );
        assert_eq!(out.stdout.len(), 83_886_080);
        let record = dir.path().join("cache/runcode/runs/3-0-1");
        let mut pieces: Vec<String> = std::fs::read_dir(&record)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("out."))
            .collect();
        pieces.sort();
        assert_eq!(pieces.first().map(String::as_str), Some("out.000002"));
        assert_eq!(pieces.len(), 8, "{pieces:?}");
        let attach = run_with("sh", dir.path(), ATTACH, &["3-0-1", "0", "0"], b"");
        let head = String::from_utf8_lossy(&attach.stdout[..40]).into_owned();
        assert!(head.starts_with("o 16777216 8388608\n"), "{head:?}");
        assert!(attach.stdout.ends_with(b"e 0 5\ntail\nx 0 exit\n"));
    }

    #[test]
    fn a_timeout_ends_the_command_and_stop_ends_a_run() {
        let dir = tempfile::tempdir().unwrap();
        let out = run_with("sh", dir.path(), WRAP, &["4-0-1", "sleep 30", "1"], b"");
        assert_eq!(out.status.code(), Some(124));
        let record = dir.path().join("cache/runcode/runs/4-0-1");
        assert!(record.join("timedout").exists());
        let attach = run_with("sh", dir.path(), ATTACH, &["4-0-1", "0", "0"], b"");
        assert_eq!(attach.stdout, b"x 124 timeout\n");
        let stop = run_with("sh", dir.path(), STOP, &["4-0-1", END], b"");
        assert_eq!(stop.stdout, b"done 124 already\n");
        let stop = run_with("sh", dir.path(), STOP, &["5-0-1", END], b"");
        assert_eq!(stop.status.code(), Some(status::MISSING));
        no_pwned(dir.path());
    }

    #[test]
    fn the_listener_tables_and_context_run() {
        let dir = tempfile::tempdir().unwrap();
        for out in run_in(dir.path(), LISTENERS, &[], b"") {
            assert!(out.status.success());
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(stdin_line(&["$(touch pwned)"]))
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(CONTEXT.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!(
                "cwd={}",
                dir.path().canonicalize().unwrap().display()
            )),
            "{text}"
        );
        assert!(text.contains("os="), "{text}");
        no_pwned(dir.path());
    }

    #[test]
    fn end_stops_only_the_named_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut mine = Command::new("sleep")
            .arg("30")
            .env("RUNCODE_RUN_ID", "5-0-1")
            .spawn()
            .unwrap();
        let mut other = Command::new("sleep")
            .arg("30")
            .env("RUNCODE_RUN_ID", "5-0-2")
            .spawn()
            .unwrap();
        let out = Command::new("sh")
            .arg("-c")
            .arg(line(END, &["5-0-1"]))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(mine.wait().is_ok_and(|s| !s.success()), "the run is ended");
        assert!(other.try_wait().unwrap().is_none(), "another run is not");
        let _ = other.kill();
        let _ = other.wait();
    }
}
