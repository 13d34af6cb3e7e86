//! The launcher end to end: real release archives served over `file://` and
//! a loopback HTTP server, the real launcher binary run directly and through
//! the real shim, in a scratch bundle, HOME and cache per test.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;
use std::process::Stdio;
use std::time::Duration;

use crate::util::{
    VERSION, World, assert_ok, assert_refused, payload, payload_args, release, run, stderr,
};
use runcode_e2e::proxy::Proxy;
use runcode_e2e::serve::{Rule, Server};

pub(crate) fn asset() -> String {
    release::host_asset()
}

pub(crate) fn asset_path() -> String {
    format!("/{}", asset())
}

pub(crate) fn tricky_args() -> Vec<OsString> {
    vec![
        OsString::from("exec"),
        OsString::from("--"),
        OsString::from(""),
        OsString::from("two words"),
        OsString::from("--json-not"),
        OsString::from("quote ' \" $HOME `x` *"),
        OsString::from("line\nbreak"),
        OsString::from_vec(vec![0xff, 0xfe, b'x']),
    ]
}

#[test]
fn a_first_run_downloads_verifies_caches_and_passes_arguments_byte_for_byte() {
    let w = World::new();
    let rel = w.release("rel", &payload("good"));
    let server = Server::start(&rel);
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .args(tricky_args()));
    assert_ok(&out);
    let expected: Vec<Vec<u8>> = tricky_args().into_iter().map(OsString::into_vec).collect();
    assert_eq!(payload_args(&out), expected);
    let err = stderr(&out);
    let fetching = format!(
        "runcode: fetching {VERSION} ({}/{}) ...",
        release::host_os(),
        release::host_arch()
    );
    assert_eq!(err.matches("fetching").count(), 1, "{err}");
    assert!(err.contains(&fetching), "{err}");
    assert_eq!(
        w.cache_entries(),
        vec![
            ".lock".to_owned(),
            "runcode".to_owned(),
            release::cached_name(VERSION)
        ]
    );
    let mode = std::fs::metadata(w.cache.join("bin").join(release::cached_name(VERSION)))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "the cached binary is executable");
    assert_eq!(server.hits(&asset_path()), 1);
    assert_eq!(server.hits("/checksums.txt"), 1);

    // The second run is served from the cache: no request, no message.
    let again = run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .arg("--"));
    assert_ok(&again);
    assert_eq!(payload_args(&again), vec![b"--".to_vec()]);
    assert_eq!(server.hits(&asset_path()), 1);
    assert!(!stderr(&again).contains("fetching"));
}

#[test]
fn file_urls_serve_as_a_local_mirror() {
    let w = World::new();
    let rel = w.release("my mirror", &payload("file"));
    let out = run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
        .arg("x"));
    assert_ok(&out);
    assert_eq!(payload_args(&out), vec![b"x".to_vec()]);
}

#[test]
fn the_exit_status_is_the_clis_own() {
    let w = World::new();
    let rel = w.release("rel", &payload("exit"));
    for cmd in [w.shim(), w.launcher()] {
        let mut cmd = cmd;
        let out = run(cmd
            .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
            .env("PAYLOAD_EXIT", "7"));
        assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    }
}

#[test]
fn the_cache_is_used_when_the_release_host_is_unreachable() {
    let w = World::new();
    let rel = w.release("rel", &payload("cached"));
    assert_ok(&run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))));
    // A port nothing listens on: a closed listener's port.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", format!("http://127.0.0.1:{dead}"))
        .arg("hi"));
    assert_ok(&out);
    assert_eq!(payload_args(&out), vec![b"hi".to_vec()]);
}

#[test]
fn the_real_cli_runs_through_the_launcher() {
    let w = World::new();
    let cli = std::fs::read(crate::util::built("runcode")).unwrap();
    let rel = w.release("rel", &cli);
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
        .arg("--version"));
    assert_ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("runcode {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn runcode_bin_is_run_as_is_and_a_missing_one_is_refused() {
    let w = World::new();
    let bin = w.path("mine/runcode");
    std::fs::create_dir_all(bin.parent().unwrap()).unwrap();
    crate::util::write_exe(&bin, &payload("explicit"));
    let out = run(w
        .shim()
        .env("RUNCODE_BIN", &bin)
        .env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .arg("a b"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=explicit"));
    assert_eq!(payload_args(&out), vec![b"a b".to_vec()]);
    assert!(w.cache_entries().is_empty(), "RUNCODE_BIN touches no cache");

    let missing = run(w.launcher().env("RUNCODE_BIN", w.path("nope/runcode")));
    assert_refused(&missing, "RUNCODE_BIN=");
    assert_eq!(
        stderr(&missing).lines().count(),
        1,
        "one line: {}",
        stderr(&missing)
    );

    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert_refused(
        &run(w.launcher().env("RUNCODE_BIN", &bin)),
        "not executable",
    );
}

#[test]
fn a_runcode_on_path_is_used_without_any_download() {
    let w = World::new();
    let rel = w.release("rel", &payload("download"));
    let server = Server::start(&rel);
    let brew = w.path("brew/bin");
    std::fs::create_dir_all(&brew).unwrap();
    crate::util::write_exe(&brew.join("runcode"), &payload("brew"));
    // The plugin's own bin/ comes first on PATH, as agents set it up: the
    // shim there must be skipped, not run again.
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        w.bundle_bin.display(),
        brew.display()
    );
    let out = run(w
        .shim()
        .env("PATH", path)
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .arg("x"));
    assert_ok(&out);
    let err = stderr(&out);
    assert!(err.contains("payload=brew"), "{err}");
    assert!(
        err.contains(&format!("guard={}", w.launcher.display())),
        "RUNCODE_LAUNCHER names the launcher: {err}"
    );
    assert!(
        server.requests().is_empty(),
        "no download when PATH has a CLI"
    );
}

#[test]
fn a_launcher_on_path_does_not_bounce_back() {
    let w = World::new();
    let rel = w.release("rel", &payload("cache"));
    // Another copy of the launcher, named runcode, on PATH: without the loop
    // guard the two would exec each other forever.
    let other = w.path("other/bin");
    std::fs::create_dir_all(&other).unwrap();
    crate::util::install_exe(&w.launcher, &other.join("runcode"));
    let path = format!("{}:/usr/bin:/bin", other.display());
    let mut cmd = w.launcher();
    cmd.env("PATH", path)
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
        .env("RUNCODE_PIN_VERSION", VERSION)
        .env("RUNCODE_LAUNCHER_DEBUG", "1");
    let out = run(&mut cmd);
    assert_ok(&out);
    let err = stderr(&out);
    assert!(err.contains("payload=cache"), "{err}");
    assert_eq!(
        err.matches("PATH: running").count(),
        1,
        "exactly one hop through PATH: {err}"
    );
    assert!(
        err.contains("RUNCODE_LAUNCHER is set: not looking on PATH"),
        "{err}"
    );

    // Already guarded on entry: PATH is not consulted at all.
    let guarded = run(w
        .launcher()
        .env("RUNCODE_LAUNCHER", "/elsewhere")
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel)));
    assert_ok(&guarded);
}

#[test]
fn sixteen_first_runs_at_once_share_one_download() {
    let w = World::new();
    let rel = w.release(
        "rel",
        &[payload("many"), crate::util::noise(2_000_000)].concat(),
    );
    let server = Server::start(&rel);
    let children: Vec<_> = (0..16)
        .map(|i| {
            let mut cmd = if i % 2 == 0 { w.shim() } else { w.launcher() };
            cmd.env("RUNCODE_DOWNLOAD_BASE", server.url(""))
                .arg(i.to_string());
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert_ok(&out);
        assert_eq!(payload_args(&out), vec![i.to_string().into_bytes()]);
    }
    assert_eq!(
        w.cache_entries(),
        vec![
            ".lock".to_owned(),
            "runcode".to_owned(),
            release::cached_name(VERSION)
        ]
    );
    assert_eq!(
        server.hits(&asset_path()),
        1,
        "one download served everyone"
    );
}

#[test]
fn a_failure_under_json_prints_one_json_object() {
    let w = World::new();
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", "http://example.com")
        .args(["list", "--json"]));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let line = stdout.trim();
    assert!(
        line.starts_with(
            "{\"error\":\"launcher_failed\",\"message\":\"refusing http://example.com"
        ),
        "{line}"
    );
    assert!(line.ends_with("\"}"), "{line}");
    // --json after `--` belongs to the remote command, not to runcode.
    let out = run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", "http://example.com")
        .args(["exec", "--", "tool", "--json"]));
    assert!(out.stdout.is_empty());
}

#[test]
fn proxies_from_the_environment_are_used() {
    let w = World::new();
    let rel = w.release("rel", &payload("proxied"));
    let server = Server::start(&rel);
    let proxy = Proxy::start();
    let out = run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env("http_proxy", proxy.url()));
    assert_ok(&out);
    let target = format!("127.0.0.1:{}", server.port());
    assert!(
        proxy.tunnels().iter().filter(|t| **t == target).count() >= 2,
        "{:?}",
        proxy.tunnels()
    );

    // NO_PROXY exempts the host.
    let w2 = World::new();
    let proxy2 = Proxy::start();
    let out = run(w2
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env("HTTP_PROXY", proxy2.url())
        .env("NO_PROXY", "127.0.0.1"));
    assert_ok(&out);
    assert!(proxy2.tunnels().is_empty());
}

#[test]
fn redirects_are_followed_only_to_safe_places() {
    let w = World::new();
    let rel = w.release("rel", &payload("redirected"));
    let server = Server::start(&rel);
    std::fs::create_dir_all(rel.join("real")).unwrap();
    std::fs::copy(rel.join(asset()), rel.join("real").join(asset())).unwrap();
    server.rule(&asset_path(), Rule::Redirect(format!("/real/{}", asset())));
    assert_ok(&run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))));

    let w = World::new();
    server.rule(
        &asset_path(),
        Rule::Redirect(format!("http://downloads.example.com/{}", asset())),
    );
    assert_refused(
        &run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", server.url(""))),
        "refusing redirect",
    );
    w.assert_cache_clean();

    let w = World::new();
    server.rule(
        &asset_path(),
        Rule::Redirect(release::file_url(&rel.join(asset()))),
    );
    assert_refused(
        &run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", server.url(""))),
        "refusing redirect",
    );
}

#[test]
fn a_launcher_killed_mid_download_leaves_a_cache_the_next_run_completes() {
    let w = World::new();
    let rel = w.release(
        "rel",
        &[payload("resumed"), crate::util::noise(1_000_000)].concat(),
    );
    let stalling = Server::start(&rel);
    stalling.rule(&asset_path(), Rule::Stall { after: 100_000 });
    let mut child = w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", stalling.url(""))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        stalling.wait_stalled(Duration::from_secs(30)),
        "the download started"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        w.cache_entries().iter().any(|n| n.starts_with(".staging-")),
        "killed mid-download: {:?}",
        w.cache_entries()
    );

    let good = Server::start(&rel);
    let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", good.url("")));
    assert_ok(&out);
    assert_eq!(
        w.cache_entries(),
        vec![
            ".lock".to_owned(),
            "runcode".to_owned(),
            release::cached_name(VERSION)
        ],
        "stale staging swept"
    );
}

#[test]
fn mirrors_are_tried_in_order() {
    let w = World::new();
    let rel = w.release("rel", &payload("mirror"));
    let good = Server::start(&rel);
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bases = format!("http://127.0.0.1:{dead}/down {}", good.url("/"));
    let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", bases));
    assert_ok(&out);
    assert!(
        stderr(&out).contains("trying the next mirror"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_release_without_this_platform_names_the_asset_and_url() {
    let w = World::new();
    let rel = release::Tree::new(&w.path("rel"))
        .asset("runcode_plan9_mips.tar.gz", release::standard_archive(b"x"))
        .write();
    let server = Server::start(&rel);
    let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", server.url("/")));
    assert_refused(&out, &asset());
    assert!(
        stderr(&out).contains(&server.url(&asset_path())),
        "{}",
        stderr(&out)
    );
    w.assert_cache_clean();
}

#[test]
fn stale_versions_are_tidied_and_recent_ones_kept() {
    let w = World::new();
    let bin = w.cache.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let old = bin.join(release::cached_name("v0.0.1"));
    let recent = bin.join(release::cached_name("v0.0.2"));
    for f in [&old, &recent] {
        std::fs::write(f, b"old").unwrap();
    }
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    let rel = w.release("rel", &payload("new"));
    assert_ok(&run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))));
    assert!(!old.exists(), "unused for 40 days: removed");
    assert!(recent.exists(), "used recently: kept");
}

#[test]
fn the_shim_names_runcode_bin_when_no_launcher_fits() {
    let w = World::new();
    std::fs::remove_file(&w.launcher).unwrap();
    let out = run(&mut w.shim());
    assert_refused(&out, "RUNCODE_BIN");
    // Under --json an agent gets the launcher's JSON refusal from the shim too.
    crate::util::assert_refused_json(&run(w.shim().args(["--json", "list"])), "RUNCODE_BIN");
    // After `--` the words are the remote command's, not the shim's.
    let out = run(w.shim().args(["exec", "--", "--json"]));
    assert!(out.stdout.is_empty());
}

/// With no launcher for the machine, the shim runs `RUNCODE_BIN` itself,
/// and refuses one that is not an executable file.
#[test]
fn the_shim_runs_runcode_bin_when_no_launcher_fits() {
    let w = World::new();
    std::fs::remove_file(&w.launcher).unwrap();
    let own = w.tmp.path().join("own-runcode");
    crate::util::write_exe(&own, &payload("own"));
    let out = run(w.shim().env("RUNCODE_BIN", &own).args(["a b", ""]));
    assert_ok(&out);
    assert_eq!(payload_args(&out), vec![b"a b".to_vec(), Vec::new()]);
    let out = run(w
        .shim()
        .env("RUNCODE_BIN", w.tmp.path().join("missing"))
        .arg("--json"));
    crate::util::assert_refused_json(&out, "not an executable file");
}

/// The shim learns the machine from /proc on Linux, forking nothing; where
/// /proc does not say (macOS, or a kernel without `kernel/arch`), `uname`
/// does. A `uname` that answers for another machine is the fault injected.
#[cfg(target_os = "linux")]
#[test]
fn the_shim_reads_the_machine_from_proc_and_falls_back_to_uname() {
    let w = World::new();
    let rel = w.release("rel", &payload("proc"));
    let fake = w.tmp.path().join("fake-uname");
    std::fs::create_dir_all(&fake).unwrap();
    crate::util::write_exe(&fake.join("uname"), b"#!/bin/sh\necho Darwin arm64\n");
    let path = format!("{}:/usr/bin:/bin", fake.display());
    let out = run(w
        .shim()
        .env("PATH", &path)
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
        .arg("hi"));
    assert_ok(&out);
    assert_eq!(payload_args(&out), vec![b"hi".to_vec()]);

    if !crate::util::is_root() || !crate::util::is_installed("unshare") {
        return crate::util::skip("hiding /proc/sys/kernel needs root and unshare");
    }
    // /proc/sys/kernel hidden: the shim asks uname, here the fake one.
    let hidden = |path: &str| {
        let mut cmd = w.cmd(std::path::Path::new("/usr/bin/unshare"));
        cmd.args(["--mount", "sh", "-c"])
            .arg(r#"mount -t tmpfs none /proc/sys/kernel && exec "$0" "$@""#)
            .arg(&w.shim)
            .arg("hi")
            .env("PATH", path)
            .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel));
        run(&mut cmd)
    };
    assert_refused(&hidden(&path), "no launcher for Darwin arm64");
    let out = hidden("/usr/bin:/bin");
    assert_ok(&out);
    assert_eq!(payload_args(&out), vec![b"hi".to_vec()]);

    // Claude Code on Windows runs its Bash tool in Git Bash, where `runcode`
    // is this shim and uname names MINGW, MSYS or Cygwin: the shim hands over
    // to the Windows launcher (here a stand-in that says which it is).
    let dir = w.shim.parent().unwrap().join("launcher");
    crate::util::write_exe(
        &dir.join("runcode-launcher-windows-amd64.exe"),
        b"#!/bin/sh\necho windows-amd64 \"$@\"\n",
    );
    for system in [
        "MINGW64_NT-10.0-19045 x86_64",
        "MSYS_NT-10.0-19045 x86_64",
        "CYGWIN_NT-10.0-19045 x86_64",
        // Windows on ARM without an arm64 launcher: x64 runs there.
        "MINGW64_NT-10.0-22631 aarch64",
    ] {
        crate::util::write_exe(
            &fake.join("uname"),
            format!("#!/bin/sh\necho '{system}'\n").as_bytes(),
        );
        let out = hidden(&path);
        assert_ok(&out);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "windows-amd64 hi",
            "{system}"
        );
    }
}

#[test]
fn debug_output_tells_each_decision() {
    let w = World::new();
    let rel = w.release("rel", &payload("debug"));
    let out = run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))
        .env("RUNCODE_LAUNCHER_DEBUG", "1"));
    assert_ok(&out);
    let err = stderr(&out);
    for needle in ["cache miss", "verified", "installed"] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let out = run(w.launcher().env("RUNCODE_LAUNCHER_DEBUG", "1"));
    assert!(stderr(&out).contains("cache: running"));
}

#[test]
fn running_from_the_cache_marks_the_binary_as_used() {
    let w = World::new();
    let rel = w.release("rel", &payload("used"));
    assert_ok(&run(w
        .launcher()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))));
    let cached = w.cache.join("bin").join(release::cached_name(VERSION));
    let long_ago = std::time::SystemTime::now() - Duration::from_secs(40 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&cached)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
    assert_ok(&run(&mut w.launcher()));
    let age = std::fs::metadata(&cached)
        .unwrap()
        .modified()
        .unwrap()
        .elapsed()
        .unwrap();
    assert!(
        age < Duration::from_secs(24 * 3600),
        "a run refreshes the last-use time, so tidying keeps it"
    );
}
