//! Reproducible release archives: sorted entries, fixed mtime, uid/gid 0,
//! fixed modes, so the same inputs always give the same bytes.

use std::io::Write;

/// What an archive entry is.
#[derive(Debug, Clone)]
pub enum Kind {
    File { data: Vec<u8>, mode: u32 },
    Symlink { target: String },
    HardLink { target: String },
    Dir,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub path: String,
    pub kind: Kind,
}

impl Entry {
    pub fn file(path: &str, data: impl Into<Vec<u8>>, mode: u32) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: Kind::File {
                data: data.into(),
                mode,
            },
        }
    }
    pub fn symlink(path: &str, target: &str) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: Kind::Symlink {
                target: target.to_owned(),
            },
        }
    }
    pub fn hard_link(path: &str, target: &str) -> Entry {
        Entry {
            path: path.to_owned(),
            kind: Kind::HardLink {
                target: target.to_owned(),
            },
        }
    }
}

/// A gzip tar of `entries`, in the order given (callers sort when they want
/// a canonical archive). Paths are written as given, even hostile ones, so
/// tests can build the archives an attacker would.
pub fn tar_gz(entries: &[Entry]) -> Vec<u8> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    let mut tar = tar::Builder::new(gz);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        // set_path refuses `..`; write the raw name so hostile archives can be built.
        let name = entry.path.as_bytes();
        let gnu = header.as_gnu_mut().expect("gnu header");
        gnu.name = [0; 100];
        gnu.name[..name.len()].copy_from_slice(name);
        match &entry.kind {
            Kind::File { data, mode } => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(*mode);
                header.set_size(data.len() as u64);
                header.set_cksum();
                tar.append(&header, data.as_slice()).expect("append file");
            }
            Kind::Symlink { target } | Kind::HardLink { target } => {
                let kind = if matches!(entry.kind, Kind::Symlink { .. }) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                };
                header.set_entry_type(kind);
                header.set_mode(0o777);
                header.set_size(0);
                header.set_link_name(target).expect("link name");
                header.set_cksum();
                tar.append(&header, std::io::empty()).expect("append link");
            }
            Kind::Dir => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_cksum();
                tar.append(&header, std::io::empty()).expect("append dir");
            }
        }
    }
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip")
}

/// A zip of `entries` (files and symlinks), with a fixed timestamp.
pub fn zip(entries: &[Entry]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let base = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for entry in entries {
        match &entry.kind {
            Kind::File { data, mode } => {
                out.start_file(entry.path.as_str(), base.unix_permissions(*mode))
                    .expect("zip file");
                out.write_all(data).expect("zip data");
            }
            Kind::Symlink { target } | Kind::HardLink { target } => {
                out.add_symlink(entry.path.as_str(), target.as_str(), base)
                    .expect("zip link");
            }
            Kind::Dir => out
                .add_directory(entry.path.as_str(), base)
                .expect("zip dir"),
        }
    }
    out.finish().expect("finish zip").into_inner()
}
