//! Taking the one binary out of a release archive: only the `runcode` /
//! `runcode.exe` entry, a regular file at the top level, size-capped. An
//! archive holding any link named like it, any absolute or `..` path, or two
//! copies of it is refused whole.
//!
//! Part of the launcher's library, which the fuzz targets link too: it
//! reports a refusal as a plain message (the installer wraps it in the
//! launcher's error).

use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Component, Path};

/// The most bytes the binary may have once extracted.
pub const MAX_BINARY: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    TarGz,
    Zip,
}

impl Format {
    pub fn of(asset: &str) -> Format {
        if asset.ends_with(".zip") {
            Format::Zip
        } else {
            Format::TarGz
        }
    }
}

/// Copies the entry named `name` from `archive` into `out`. The error is a
/// reason for a human; the caller names the asset.
pub fn extract<A: Read + Seek>(
    archive: &mut A,
    format: Format,
    name: &str,
    out: &mut dyn Write,
    cap: u64,
) -> Result<u64, String> {
    archive
        .seek(SeekFrom::Start(0))
        .map_err(|e| e.to_string())?;
    match format {
        Format::TarGz => extract_tar_gz(archive, name, out, cap),
        Format::Zip => extract_zip(archive, name, out, cap),
    }
}

// Each launcher reads only its own platform's format (Windows assets are
// zips, the others gzip tars): the other reader would be dead weight in the
// binary (P7). Tests and the fuzz targets build both.
#[cfg(not(any(not(windows), test, fuzzing)))]
fn extract_tar_gz(_: &mut impl Read, _: &str, _: &mut dyn Write, _: u64) -> Result<u64, String> {
    Err("this launcher reads only .zip assets".to_owned())
}

#[cfg(not(any(windows, test, fuzzing)))]
fn extract_zip(
    _: &mut (impl Read + Seek),
    _: &str,
    _: &mut dyn Write,
    _: u64,
) -> Result<u64, String> {
    Err("this launcher reads only .tar.gz assets".to_owned())
}

/// Checks an entry path: nothing absolute, no `..`. Returns the path with
/// any leading `./` removed.
fn safe_path(raw: &Path) -> Result<&Path, String> {
    let mut rest = raw;
    while let Ok(stripped) = rest.strip_prefix(".") {
        if stripped == rest {
            break;
        }
        rest = stripped;
    }
    let escapes = rest
        .components()
        .any(|part| !matches!(part, Component::Normal(_) | Component::CurDir));
    if escapes || raw.as_os_str().is_empty() {
        return Err(format!(
            "entry {:?} points outside the archive",
            raw.display().to_string()
        ));
    }
    Ok(rest)
}

#[cfg(any(not(windows), test, fuzzing))]
fn extract_tar_gz(
    archive: &mut impl Read,
    name: &str,
    out: &mut dyn Write,
    cap: u64,
) -> Result<u64, String> {
    let gz = flate2::read::GzDecoder::new(BufReader::new(archive));
    let mut tar = tar::Archive::new(gz);
    let mut written = None;
    for entry in tar
        .entries()
        .map_err(|e| format!("not a tar.gz archive ({e})"))?
    {
        let mut entry = entry.map_err(|e| format!("damaged or truncated ({e})"))?;
        let raw = entry
            .path()
            .map_err(|e| format!("unreadable entry name ({e})"))?
            .into_owned();
        let path = safe_path(&raw)?;
        if path != Path::new(name) {
            continue;
        }
        let kind = entry.header().entry_type();
        if !kind.is_file() {
            return Err(format!(
                "{name} is not a regular file (a link or special entry)"
            ));
        }
        if written.is_some() {
            return Err(format!("{name} appears twice"));
        }
        if entry.header().size().unwrap_or(u64::MAX) > cap {
            return Err(format!("{name} is larger than {} MiB", cap >> 20));
        }
        written = Some(copy_capped(&mut entry, out, cap, name)?);
    }
    written.ok_or_else(|| format!("no {name} at the top level"))
}

#[cfg(any(windows, test, fuzzing))]
fn extract_zip(
    archive: &mut (impl Read + Seek),
    name: &str,
    out: &mut dyn Write,
    cap: u64,
) -> Result<u64, String> {
    let mut zip = zip::ZipArchive::new(BufReader::new(archive))
        .map_err(|e| format!("not a zip archive ({e})"))?;
    let mut written = None;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| format!("damaged or truncated ({e})"))?;
        let raw = String::from_utf8_lossy(entry.name_raw()).replace('\\', "/");
        let path = safe_path(Path::new(&raw))?;
        if entry.enclosed_name().is_none() {
            return Err(format!("entry {raw:?} points outside the archive"));
        }
        if path != Path::new(name) {
            continue;
        }
        if entry.is_symlink() || !entry.is_file() {
            return Err(format!(
                "{name} is not a regular file (a link or special entry)"
            ));
        }
        if written.is_some() {
            return Err(format!("{name} appears twice"));
        }
        if entry.size() > cap {
            return Err(format!("{name} is larger than {} MiB", cap >> 20));
        }
        written = Some(copy_capped(&mut entry, out, cap, name)?);
    }
    written.ok_or_else(|| format!("no {name} at the top level"))
}

fn copy_capped(
    entry: &mut dyn Read,
    out: &mut dyn Write,
    cap: u64,
    name: &str,
) -> Result<u64, String> {
    let n = std::io::copy(&mut entry.take(cap + 1), out)
        .map_err(|e| format!("damaged or truncated ({e})"))?;
    if n > cap {
        return Err(format!("{name} is larger than {} MiB", cap >> 20));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use runcode_e2e::archive::{Entry, tar_gz, zip};

    fn run(bytes: &[u8], format: Format, name: &str) -> Result<Vec<u8>, String> {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        let mut out = Vec::new();
        extract(&mut file, format, name, &mut out, 1 << 20).map(|_| out)
    }

    fn both(entries: &[Entry], name: &str) -> [Result<Vec<u8>, String>; 2] {
        [
            run(&tar_gz(entries), Format::TarGz, name),
            run(&zip(entries), Format::Zip, name),
        ]
    }

    #[test]
    fn the_binary_is_extracted_from_either_format() {
        let entries = [
            Entry::file("LICENSE", "MIT", 0o644),
            Entry::file("./runcode.exe", "MZ-binary", 0o755),
        ];
        for got in both(&entries, "runcode.exe") {
            assert_eq!(got.unwrap(), b"MZ-binary");
        }
    }

    #[test]
    fn hostile_shapes_are_refused_in_either_format() {
        let cases: [(&[Entry], &str); 5] = [
            (&[Entry::file("LICENSE", "x", 0o644)], "no runcode"),
            (&[Entry::file("sub/runcode", "x", 0o755)], "no runcode"),
            (
                &[
                    Entry::file("../evil", "x", 0o755),
                    Entry::file("runcode", "x", 0o755),
                ],
                "outside",
            ),
            (
                &[Entry::symlink("runcode", "/bin/sh")],
                "not a regular file",
            ),
            (
                &[
                    Entry::file("runcode", "a", 0o755),
                    Entry::file("./runcode", "b", 0o755),
                ],
                "twice",
            ),
        ];
        for (entries, needle) in cases {
            for got in both(entries, "runcode") {
                let err = got.expect_err(needle);
                assert!(err.contains(needle), "{needle}: {err}");
            }
        }
        let abs = run(
            &tar_gz(&[Entry::file("/runcode", "x", 0o755)]),
            Format::TarGz,
            "runcode",
        );
        assert!(abs.unwrap_err().contains("outside"));
    }

    proptest::proptest! {
        /// Whatever entries an archive holds, extraction never panics, and it
        /// succeeds only with exactly one regular `runcode` at the top level
        /// and no entry that escapes.
        #[test]
        fn any_archive_shape_is_refused_or_yields_the_one_binary(
            shape in proptest::collection::vec((0u8..6, 0u8..4), 0..6)
        ) {
            let names = ["runcode", "./runcode", "../runcode", "sub/runcode", "/runcode", "LICENSE"];
            let entries: Vec<Entry> = shape.iter().map(|(n, kind)| {
                let name = names[usize::from(*n)];
                match kind {
                    0 | 1 => Entry::file(name, "bin", 0o755),
                    2 => Entry::symlink(name, "/bin/sh"),
                    _ => Entry::hard_link(name, "LICENSE"),
                }
            }).collect();
            let regular_top = shape.iter().filter(|(n, k)| *n < 2 && *k < 2).count();
            let linked_top = shape.iter().any(|(n, k)| *n < 2 && *k >= 2);
            let escapes = shape.iter().any(|(n, _)| *n == 2 || *n == 4);
            let ok = regular_top == 1 && !linked_top && !escapes;
            let mut formats = vec![(tar_gz(&entries), Format::TarGz)];
            let mut seen: Vec<u8> = shape.iter().map(|(n, _)| *n).collect();
            seen.sort_unstable();
            seen.dedup();
            // The zip writer refuses duplicate names, so such shapes are tar only.
            if seen.len() == shape.len() {
                formats.push((zip(&entries), Format::Zip));
            }
            for (bytes, format) in formats {
                let got = run(&bytes, format, "runcode");
                proptest::prop_assert_eq!(got.is_ok(), ok, "{:?} {:?}: {:?}", format, shape, got);
                if let Ok(out) = got {
                    proptest::prop_assert_eq!(out, b"bin".to_vec());
                }
            }
        }
    }

    #[test]
    fn size_and_damage_are_caught() {
        let big = vec![0u8; (1 << 20) + 1];
        for got in both(&[Entry::file("runcode", big, 0o755)], "runcode") {
            assert!(got.unwrap_err().contains("larger"));
        }
        let good = zip(&[Entry::file("runcode", "x".repeat(5000), 0o755)]);
        assert!(run(&good[..good.len() - 30], Format::Zip, "runcode").is_err());
        assert!(run(b"plain text", Format::TarGz, "runcode").is_err());
    }
}
