//! The launcher's stable entry point (docs/launcher.md): the copy at
//! `<cache>/bin/runcode` follows the plugin's pin through an update, keeps
//! serving when the plugin is gone, is never cleaned up from under, is never
//! bypassed by a PATH link into the cache, never fails a status line, and
//! runs a Homebrew CLI while one is installed.

use std::time::Duration;

use crate::util::{VERSION, World, assert_ok, payload, payload_args, release, run, stderr};
use runcode_e2e::serve::Server;

fn asset() -> String {
    release::host_asset()
}

/// A second bundle in the same world pinning `version`: as a plugin update
/// installs it, in a folder of its own.
fn bundle(w: &World, name: &str, version: &str) -> std::path::PathBuf {
    let bin = w.path(&format!("{name}/bin"));
    std::fs::create_dir_all(bin.join("launcher")).unwrap();
    crate::util::install_exe(
        &w.launcher,
        &bin.join("launcher").join(w.launcher.file_name().unwrap()),
    );
    crate::util::install_exe(&w.shim, &bin.join("runcode"));
    std::fs::write(bin.join("RUNCODE_VERSION"), format!("{version}\n")).unwrap();
    bin.join("runcode")
}

fn entry_record(w: &World) -> String {
    std::fs::read_to_string(w.cache.join("entry")).unwrap_or_default()
}

#[test]
fn the_stable_entry_point_follows_the_plugins_pin_and_survives_an_update() {
    let w = World::new();
    let v1 = w.release("v1", &payload("one"));
    let server1 = Server::start(&v1);
    assert_ok(&run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", server1.url(""))
        .arg("x")));
    let stable = w.cache.join("bin/runcode");
    assert!(stable.is_file(), "{:?}", w.cache_entries());
    assert_eq!(entry_record(&w).lines().next(), Some(VERSION));

    // Run as other programs run it: no bundle near it, no network.
    let out = run(w.cmd(&stable).arg("from-config"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=one"), "{}", stderr(&out));
    assert_eq!(payload_args(&out), vec![b"from-config".to_vec()]);
    drop(server1);

    // The update: a new bundle in a new folder pins v2; one run through it
    // moves the entry point, and the old bundle can go.
    let v2_rel = release::Tree::new(&w.path("v2"))
        .asset(&asset(), release::standard_archive(&payload("two")))
        .write();
    let server2 = Server::start(&v2_rel);
    let shim2 = bundle(&w, "plugin-v2", "v2");
    assert_ok(&run(w
        .cmd(&shim2)
        .env("RUNCODE_DOWNLOAD_BASE", server2.url(""))));
    drop(server2);
    std::fs::remove_dir_all(w.path("plugin")).unwrap();
    assert_eq!(entry_record(&w).lines().next(), Some("v2"));
    let out = run(w.cmd(&stable).arg("after-update"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=two"), "{}", stderr(&out));

    // The record's version removed by hand: the newest cached CLI serves.
    std::fs::remove_file(w.cache.join("bin").join(release::cached_name("v2"))).unwrap();
    let out = run(&mut w.cmd(&stable));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=one"), "{}", stderr(&out));
}

#[test]
fn cleanup_never_removes_the_version_the_entry_point_serves() {
    let w = World::new();
    let v1 = w.release("v1", &payload("one"));
    let server = Server::start(&v1);
    assert_ok(&run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url(""))));
    drop(server);
    let served = w.cache.join("bin").join(release::cached_name(VERSION));
    let old = std::time::SystemTime::now() - Duration::from_secs(60 * 24 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&served)
        .unwrap()
        .set_modified(old)
        .unwrap();

    // Another version installed (a one-off pin: the record stays): the
    // cleanup runs and keeps the served version, however old.
    let other = release::Tree::new(&w.path("v9"))
        .asset(&asset(), release::standard_archive(&payload("nine")))
        .write();
    let server = Server::start(&other);
    assert_ok(&run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", server.url(""))
        .env("RUNCODE_PIN_VERSION", "v9")));
    assert_eq!(entry_record(&w).lines().next(), Some(VERSION));
    assert!(served.is_file(), "{:?}", w.cache_entries());
}

#[test]
fn the_stable_entry_points_status_line_fails_quietly() {
    let w = World::new();
    let v1 = w.release("v1", &payload("one"));
    let server = Server::start(&v1);
    assert_ok(&run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url(""))));
    drop(server);
    // Everything it could run is gone and the network is too.
    std::fs::remove_file(w.cache.join("bin").join(release::cached_name(VERSION))).unwrap();
    let out = run(w
        .cmd(&w.cache.join("bin/runcode"))
        .env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .arg("statusline"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty() && out.stderr.is_empty(), "{out:?}");
    // Any other command still says what went wrong.
    let out = run(w
        .cmd(&w.cache.join("bin/runcode"))
        .env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9")
        .arg("list"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_path_link_into_the_cache_never_overrides_the_plugins_pin() {
    let w = World::new();
    let v1 = w.release("v1", &payload("one"));
    let server = Server::start(&v1);
    assert_ok(&run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url(""))));
    drop(server);
    // `install-path` links ~/.local/bin/runcode to the entry point.
    let link_dir = w.home.join(".local/bin");
    std::fs::create_dir_all(&link_dir).unwrap();
    std::os::unix::fs::symlink(w.cache.join("bin/runcode"), link_dir.join("runcode")).unwrap();
    let v2_rel = release::Tree::new(&w.path("v2"))
        .asset(&asset(), release::standard_archive(&payload("two")))
        .write();
    let server = Server::start(&v2_rel);
    let shim2 = bundle(&w, "plugin-v2", "v2");
    let path = format!("{}:/usr/bin:/bin", link_dir.display());
    let out = run(w
        .cmd(&shim2)
        .env("PATH", &path)
        .env("RUNCODE_DOWNLOAD_BASE", server.url("")));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=two"), "{}", stderr(&out));
}

#[test]
fn the_entry_point_runs_a_homebrew_cli_while_one_is_installed() {
    let w = World::new();
    let v1 = w.release("v1", &payload("one"));
    let server = Server::start(&v1);
    assert_ok(&run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url(""))));
    drop(server);
    let stable = w.cache.join("bin/runcode");

    // `brew install`: the keg, and the link on PATH that `brew upgrade` moves.
    let prefix = w.path("homebrew");
    let keg = prefix.join("Cellar/runcode/9.9.9/bin");
    std::fs::create_dir_all(&keg).unwrap();
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    std::fs::write(keg.join("runcode"), payload("brew")).unwrap();
    std::fs::set_permissions(
        keg.join("runcode"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::os::unix::fs::symlink(keg.join("runcode"), prefix.join("bin/runcode")).unwrap();
    let path = format!("{}:/usr/bin:/bin", prefix.join("bin").display());
    let out = run(w.cmd(&stable).env("PATH", &path).arg("with-brew"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=brew"), "{}", stderr(&out));
    assert_eq!(payload_args(&out), vec![b"with-brew".to_vec()]);

    // `brew uninstall`: the same PATH, now without the CLI; the cache serves.
    std::fs::remove_dir_all(&prefix).unwrap();
    let out = run(w.cmd(&stable).env("PATH", &path).arg("after-brew"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=one"), "{}", stderr(&out));
    assert_eq!(payload_args(&out), vec![b"after-brew".to_vec()]);
}
