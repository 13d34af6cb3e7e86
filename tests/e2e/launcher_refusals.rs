//! What the launcher refuses, and that it leaves nothing behind when it
//! does: a wrong or missing checksum, broken or hostile archives, a release
//! replaced wholesale, insecure bases, unsafe versions.

use super::launcher::{asset, asset_path};
use crate::util::{VERSION, World, assert_ok, assert_refused, payload, release, run, stderr};
use runcode_e2e::archive::{self, Entry};
use runcode_e2e::serve::{Rule, Server};

#[test]
fn a_wrong_checksum_is_refused_and_never_retried() {
    let w = World::new();
    let rel = w.release("rel", &payload("bad"));
    let sums = std::fs::read_to_string(rel.join("checksums.txt")).unwrap();
    let wrong = "0".repeat(64);
    std::fs::write(rel.join("checksums.txt"), format!("{wrong}  {}\n", asset())).unwrap();
    let server = Server::start(&rel);
    let out = run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url("")));
    assert_refused(&out, "checksum mismatch");
    let err = stderr(&out);
    assert!(err.contains(&wrong), "names the expected digest: {err}");
    assert!(err.contains(&sums[..64]), "names the actual digest: {err}");
    assert_eq!(server.hits(&asset_path()), 1, "a mismatch is never retried");
    w.assert_cache_clean();
}

#[test]
fn an_asset_missing_from_checksums_is_refused() {
    let w = World::new();
    let rel = w.release("rel", &payload("unlisted"));
    let line = std::fs::read_to_string(rel.join("checksums.txt")).unwrap();
    // Only a line for a near name: exact matching must not accept it.
    std::fs::write(
        rel.join("checksums.txt"),
        line.replace(&asset(), &format!("{}.sig", asset())),
    )
    .unwrap();
    assert_refused(
        &run(w
            .launcher()
            .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&rel))),
        "has no line for",
    );
    w.assert_cache_clean();
}

/// A release whose asset is `bytes`, listed with its true digest, so only the
/// archive checks stand between it and the user.
fn bad_archive_is_refused(bytes: Vec<u8>, needle: &str) {
    let w = World::new();
    let rel = release::Tree::new(&w.path("rel"))
        .asset(&asset(), bytes)
        .write();
    let server = Server::start(&rel);
    let out = run(w.shim().env("RUNCODE_DOWNLOAD_BASE", server.url("")));
    assert_refused(&out, needle);
    w.assert_cache_clean();
}

#[test]
fn a_truncated_archive_is_refused() {
    let full = release::standard_archive(&vec![7u8; 200_000]);
    bad_archive_is_refused(full[..full.len() / 2].to_vec(), "damaged or truncated");
}

#[test]
fn an_archive_without_the_binary_is_refused() {
    let tgz = archive::tar_gz(&[
        Entry::file("LICENSE", "MIT", 0o644),
        Entry::file("bin/runcode", payload("nested"), 0o755),
    ]);
    bad_archive_is_refused(tgz, "no runcode at the top level");
}

#[test]
fn an_archive_with_a_parent_dir_entry_is_refused() {
    let tgz = archive::tar_gz(&[
        Entry::file("../runcode", payload("escape"), 0o755),
        Entry::file("runcode", payload("x"), 0o755),
    ]);
    bad_archive_is_refused(tgz, "points outside the archive");
}

#[test]
fn an_archive_whose_binary_is_a_link_is_refused() {
    let symlink = archive::tar_gz(&[Entry::symlink("runcode", "/bin/sh")]);
    bad_archive_is_refused(symlink, "not a regular file");
    let hard = archive::tar_gz(&[
        Entry::file("real", payload("x"), 0o755),
        Entry::hard_link("runcode", "real"),
    ]);
    bad_archive_is_refused(hard, "not a regular file");
}

#[test]
fn a_body_cut_short_is_retried_and_a_retry_after_is_honoured() {
    let w = World::new();
    let rel = w.release("rel", &payload("retry"));
    let server = Server::start(&rel);
    server.rule(
        &asset_path(),
        Rule::Status {
            status: 503,
            times: 1,
            retry_after: Some(1),
        },
    );
    server.rule(
        "/checksums.txt",
        Rule::Status {
            status: 429,
            times: 1,
            retry_after: Some(0),
        },
    );
    let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", server.url("")));
    assert_ok(&out);
    assert_eq!(server.hits(&asset_path()), 2);
    assert_eq!(server.hits("/checksums.txt"), 2);

    // A transfer cut half way, every time: refused, nothing left behind.
    let w = World::new();
    let rel = w.release("rel", &crate::util::noise(300_000));
    let server = Server::start(&rel);
    server.rule(&asset_path(), Rule::Cut { after: 1000 });
    let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", server.url("")));
    assert_refused(&out, "cut off");
    assert_eq!(
        server.hits(&asset_path()),
        4,
        "retried a few times, then gave up"
    );
    w.assert_cache_clean();
}

#[test]
fn pinned_digests_catch_a_release_replaced_wholesale() {
    let w = World::new();
    let original = w.release("orig", &payload("original"));
    std::fs::copy(
        original.join("checksums.txt"),
        w.bundle_bin.join("RUNCODE_CHECKSUMS"),
    )
    .unwrap();
    // The attacker replaces both the asset and checksums.txt, consistently.
    let forged = w.release("forged", &payload("forged"));
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&forged)));
    assert_refused(&out, "pinned");
    w.assert_cache_clean();

    // The genuine release passes both checks.
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&original)));
    assert_ok(&out);

    // Another version chosen with RUNCODE_PIN_VERSION is not held to the
    // bundle's pins (they are for the bundled version only).
    let out = run(w
        .shim()
        .env("RUNCODE_DOWNLOAD_BASE", release::file_url(&forged))
        .env("RUNCODE_PIN_VERSION", "v9.9.9"));
    assert_ok(&out);
    assert!(stderr(&out).contains("payload=forged"));
}

#[test]
fn insecure_bases_are_refused_before_any_request() {
    let w = World::new();
    for base in [
        "http://example.com/rel",
        "ftp://127.0.0.1/rel",
        "http://127.0.0.1.example.com/x",
    ] {
        let out = run(w.launcher().env("RUNCODE_DOWNLOAD_BASE", base));
        assert_refused(&out, "refusing");
        assert!(
            !stderr(&out).contains("fetching"),
            "refused before fetching: {}",
            stderr(&out)
        );
    }
    // One bad mirror in a list taints the list.
    let out = run(w.launcher().env(
        "RUNCODE_DOWNLOAD_BASE",
        "https://good.example http://evil.example",
    ));
    assert_refused(&out, "http://evil.example");
    w.assert_cache_clean();
}

#[test]
fn unsafe_versions_are_refused() {
    let w = World::new();
    for version in ["v1..2", "../../etc", "v1/2", "v 1", ""] {
        std::fs::write(w.bundle_bin.join("RUNCODE_VERSION"), version).unwrap();
        let out = run(w.shim().env("RUNCODE_DOWNLOAD_BASE", "http://127.0.0.1:9"));
        let needle = if version.is_empty() {
            "no version to fetch"
        } else {
            "refusing version"
        };
        assert_refused(&out, needle);
    }
    std::fs::write(w.bundle_bin.join("RUNCODE_VERSION"), VERSION).unwrap();
    assert_refused(
        &run(w.launcher().env("RUNCODE_PIN_VERSION", "v1..2")),
        "refusing version",
    );
    std::fs::remove_file(w.bundle_bin.join("RUNCODE_VERSION")).unwrap();
    assert_refused(&run(&mut w.launcher()), "RUNCODE_PIN_VERSION");
    w.assert_cache_clean();
}
