//! The promise each of the launcher's parsers of untrusted bytes keeps,
//! written once as a function that panics when it breaks: the fuzz targets
//! (`fuzz/`, through the launcher library built with `--cfg fuzzing`) and
//! the replay of their corpus in the unit tests both call these (R7, R9).

use std::io::Cursor;

use crate::{archive, checksums, url};

/// A check: panics when the parser breaks its promise for these bytes.
pub type Check = fn(&[u8]);

/// Every target, by the name its fuzz target and corpus directory carry.
pub const TARGETS: [(&str, Check); 4] = [
    ("checksums", checksums),
    ("redirect", redirect),
    ("archive_tar_gz", archive_tar_gz),
    ("archive_zip", archive_zip),
];

/// A digest found for an asset is one that a line of the text spells out.
pub fn checksums(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for name in [
        "runcode_linux_amd64.tar.gz",
        "runcode_windows_amd64.zip",
        "x",
    ] {
        if let Ok(Some(digest)) = checksums::find(&text, name) {
            let hex = checksums::to_hex(&digest);
            assert!(
                text.lines()
                    .any(|l| l.to_ascii_lowercase().starts_with(&hex) && l.contains(name)),
                "{hex} for {name} is in no line of {text:?}"
            );
        }
    }
}

/// A redirect goes where the launcher's checks think it goes. For any base
/// and `Location` (the input's first line and the rest), a joined URL that
/// passes `allowed_redirect` is never `file://`, and as the HTTP stack
/// itself reads it, it is https, or http to a loopback host.
pub fn redirect(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (base, location) = text
        .split_once('\n')
        .unwrap_or(("https://releases.example/v1/", &text));
    let target = url::join(base, location);
    if !url::allowed_redirect(&target) {
        return;
    }
    assert!(!url::is_file(&target), "{target:?}");
    let Ok(uri) = target.parse::<ureq::http::Uri>() else {
        return;
    };
    let host = uri.host().unwrap_or_default();
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => {}
        Some("http") => assert!(
            runcode_rules::url::is_loopback_host(
                host.trim_start_matches('[').trim_end_matches(']')
            ),
            "{target:?} passed the checks yet reaches {host:?}"
        ),
        other => panic!("{target:?} passed the checks with scheme {other:?}"),
    }
}

/// A tar.gz of any bytes yields the binary within the size cap, or a refusal.
pub fn archive_tar_gz(data: &[u8]) {
    extract_bounded(data, archive::Format::TarGz, "runcode");
}

/// A zip of any bytes yields the binary within the size cap, or a refusal.
pub fn archive_zip(data: &[u8]) {
    extract_bounded(data, archive::Format::Zip, "runcode.exe");
}

fn extract_bounded(data: &[u8], format: archive::Format, name: &str) {
    const CAP: u64 = 1 << 20;
    let mut out = Vec::new();
    if let Ok(n) = archive::extract(&mut Cursor::new(data), format, name, &mut out, CAP) {
        assert_eq!(usize::try_from(n).ok(), Some(out.len()));
        assert!(n <= CAP);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every input the fuzzers kept (`fuzz/corpus/<target>/`), replayed
    /// through the same checks on every test run, fuzzer or not.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (name, check) in super::TARGETS {
            let dir = root.join(name);
            let mut seen = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                check(&std::fs::read(entry.unwrap().path()).unwrap());
                seen += 1;
            }
            assert!(seen > 0, "no corpus for {name}");
        }
    }
}
