//! The process table, as the suites and xtask check it: which processes
//! still run with a given text in their command line (Linux `/proc`).

/// `"<pid>: <command line>"` for every process whose command line contains
/// any of `needles`.
pub fn mentioning(needles: &[&str]) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in dir.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if pid.parse::<u32>().is_err() {
            continue;
        }
        let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        if needles.iter().any(|n| cmd.contains(n)) {
            found.push(format!("{pid}: {cmd}"));
        }
    }
    found
}
