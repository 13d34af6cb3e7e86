//! The process table, as the devplane needs it to leave no sshd behind:
//! descendants of a process, signals, and whether one is still alive.

use std::collections::HashMap;
use std::path::Path;

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Sends SIGTERM (or SIGKILL when `hard`); a vanished process is fine.
pub fn signal(pid: u32, hard: bool) {
    let sig = if hard {
        rustix::process::Signal::KILL
    } else {
        rustix::process::Signal::TERM
    };
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// The processes among `pids` that still exist.
pub fn alive(pids: &[u32]) -> Vec<u32> {
    let table = parents();
    pids.iter()
        .copied()
        .filter(|p| table.contains_key(p))
        .collect()
}

/// Every process whose chain of parents leads to `root`.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = parents();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            table
                .iter()
                .filter(|(_, pp)| **pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// pid -> parent pid, for every process.
fn parents() -> HashMap<u32, u32> {
    let mut table = HashMap::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                table.insert(pid, ppid);
            }
        }
        return table;
    }
    // No /proc (macOS): ask ps.
    if let Ok(out) = std::process::Command::new("ps")
        .args(["-A", "-o", "pid=", "-o", "ppid="])
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let mut parts = line
                .split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok());
            if let (Some(pid), Some(ppid)) = (parts.next(), parts.next()) {
                table.insert(pid, ppid);
            }
        }
    }
    table
}

/// Every process whose environment holds exactly `entry` (`NAME=value`);
/// Linux only (none elsewhere).
pub fn with_env(entry: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|raw| raw.split(|b| *b == 0).any(|v| v == entry.as_bytes()))
        })
        .collect()
}

/// Does process `pid` run with `needle` among its arguments? (Linux; false
/// elsewhere, where a stale sshd is left for the user to see in `ps`.)
pub fn cmdline_mentions(pid: u32, needle: &Path) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
        raw.split(|b| *b == 0)
            .any(|arg| arg == needle.as_os_str().as_encoded_bytes())
    })
}
