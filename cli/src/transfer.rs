//! Moving bytes to and from the attached workspace over its session: files
//! stream straight between a local file and ssh (the CLI's memory does not
//! grow with their size), directories travel as a tar stream, and a
//! destination appears only when complete (a temporary name, then a rename,
//! on whichever side receives).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

use crate::attach;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::remote::exit_code;
use crate::session::{self, Session};
use crate::text::shell_quote;

/// The attached workspace's session (valid, else minted).
pub fn session(ctx: &Ctx) -> Result<Session> {
    let a = attach::require(&ctx.paths)?;
    match session::load(&ctx.paths, a.id).filter(|s| s.seconds_left() > 0 && !ctx.force) {
        Some(s) => Ok(s),
        None => session::mint(ctx, a.id),
    }
}

/// A remote path: absolute as given, relative ones under the workdir.
pub fn remote_path(workdir: &str, path: &str) -> Result<String> {
    if path.is_empty() || path.contains('\0') {
        return Err(Error::Usage("the remote path is empty".to_owned()));
    }
    Ok(if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{}/{path}", workdir.trim_end_matches('/'))
    })
}

fn spawn(s: &Session, script: &str, stdin: Stdio, stdout: Stdio) -> Result<Child> {
    let mut cmd = s.ssh();
    cmd.arg(s.alias())
        .arg(script)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(Stdio::inherit());
    cmd.spawn().map_err(crate::remote::ssh_error)
}

fn failed(what: &str, status: std::process::ExitStatus) -> Error {
    let code = exit_code(status);
    if code == 255 {
        Error::Network(format!(
            "{what}: ssh failed (255); nothing was left at the destination"
        ))
    } else {
        Error::Io {
            path: PathBuf::from(what),
            source: std::io::Error::other(format!(
                "the transfer failed (remote status {code}); nothing was left at the destination"
            )),
        }
    }
}

/// Remote shell that writes its stdin to `dest` (into it, if it is a
/// directory) through a temporary file, then prints the final path. With
/// `size`, a short stream (the client died half way: the remote side only
/// sees the input end) is refused instead of renamed into place.
fn receive_file_script(dest: &str, name: &str, size: Option<u64>) -> String {
    let check = size
        .map(|n| format!("[ \"$(wc -c < \"$t\" | tr -d ' ')\" = {n} ] || exit 1; "))
        .unwrap_or_default();
    format!(
        "d={d}; if [ -d \"$d\" ]; then d=\"$d\"/{n}; fi; mkdir -p -- \"$(dirname -- \"$d\")\" || exit 1; \
         t=\"$d.runcode-tmp.$$\"; trap 'rm -f -- \"$t\"' EXIT HUP INT TERM; cat > \"$t\" || exit 1; {check}\
         mv -f -- \"$t\" \"$d\" || exit 1; trap - EXIT; printf '%s' \"$d\"",
        d = shell_quote(dest),
        n = shell_quote(name)
    )
}

/// Sends a local file (or stdin, when `source` is None) to `dest`. Returns
/// the remote path written and the bytes sent.
pub fn send_file(s: &Session, source: Option<&Path>, dest: &str) -> Result<(String, u64)> {
    let name = source
        .and_then(Path::file_name)
        .map_or_else(|| "stdin".to_owned(), |n| n.to_string_lossy().into_owned());
    let size = match source {
        Some(p) => Some(std::fs::metadata(p).map_err(Error::io(p))?.len()),
        None => None,
    };
    let script = receive_file_script(dest, &name, size);
    let (stdin, mut counter) = match source {
        Some(p) => (Stdio::from(File::open(p).map_err(Error::io(p))?), None),
        None => (Stdio::piped(), Some(0u64)),
    };
    let mut child = spawn(s, &script, stdin, Stdio::piped())?;
    if let (Some(n), Some(mut pipe)) = (counter.as_mut(), child.stdin.take()) {
        *n = std::io::copy(&mut std::io::stdin().lock(), &mut pipe).map_err(Error::io("stdin"))?;
    }
    let mut written = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut written);
    }
    let status = child.wait().map_err(Error::io("ssh"))?;
    if !status.success() {
        return Err(failed(dest, status));
    }
    let bytes = match (counter, source) {
        (Some(n), _) => n,
        (None, Some(p)) => std::fs::metadata(p).map_err(Error::io(p))?.len(),
        (None, None) => 0,
    };
    Ok((written, bytes))
}

/// Sends a local directory as a tar stream; `dest` becomes a copy of it (or
/// `dest/<name>` when `dest` is an existing directory), replacing what was
/// there only once the whole tree has arrived.
pub fn send_dir(s: &Session, source: &Path, dest: &str) -> Result<(String, u64, u64)> {
    let name = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "dir".to_owned());
    let script = format!(
        "d={d}; if [ -d \"$d\" ]; then d=\"$d\"/{n}; fi; mkdir -p -- \"$(dirname -- \"$d\")\" || exit 1; \
         t=\"$d.runcode-tmp.$$\"; mkdir -- \"$t\" || exit 1; trap 'rm -rf -- \"$t\"' EXIT HUP INT TERM; \
         tar -xof - -C \"$t\" || exit 1; rm -rf -- \"$d\" && mv -- \"$t/tree\" \"$d\" || exit 1; printf '%s' \"$d\"",
        d = shell_quote(dest),
        n = shell_quote(&name)
    );
    let mut child = spawn(s, &script, Stdio::piped(), Stdio::piped())?;
    let pipe = child.stdin.take().expect("piped");
    let mut builder = tar::Builder::new(pipe);
    builder.follow_symlinks(false);
    let (mut files, mut bytes) = (0u64, 0u64);
    count(source, &mut files, &mut bytes);
    let sent = builder
        .append_dir_all("tree", source)
        .and_then(|()| builder.into_inner())
        .map(drop);
    let mut written = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut written);
    }
    let status = child.wait().map_err(Error::io("ssh"))?;
    sent.map_err(Error::io(source))?;
    if !status.success() {
        return Err(failed(dest, status));
    }
    Ok((written, files, bytes))
}

fn count(dir: &Path, files: &mut u64, bytes: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(meta) = std::fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if meta.is_dir() {
            count(&entry.path(), files, bytes);
        } else {
            // Links count as entries; only regular files carry bytes.
            *files += 1;
            if meta.is_file() {
                *bytes += meta.len();
            }
        }
    }
}

/// What `fetch` brought back.
pub enum Fetched {
    Stdout,
    File(PathBuf, u64),
    Tree(PathBuf, u64, u64),
}

/// Fetches `remote` to stdout (`out` None or `-`), to a file, or, when it is
/// a directory, into a local tree.
pub fn fetch(s: &Session, remote: &str, out: Option<&Path>) -> Result<Fetched> {
    let script = format!(
        "d={d}; if [ -d \"$d\" ]; then printf D; cd -- \"$d\" && exec tar -cf - .; \
         elif [ -r \"$d\" ] && [ ! -d \"$d\" ]; then printf 'F%s\\n' \"$(wc -c < \"$d\" | tr -d ' ')\"; exec cat -- \"$d\"; \
         else echo \"runcode: no readable file or directory at $d\" >&2; exit 2; fi",
        d = shell_quote(remote)
    );
    let mut child = spawn(s, &script, Stdio::null(), Stdio::piped())?;
    let mut stream = child.stdout.take().expect("piped");
    // A 1 MiB pipe (the unprivileged maximum) instead of 64 KiB: ssh and we
    // wake each other far less often on a large file.
    #[cfg(target_os = "linux")]
    let _ = rustix::pipe::fcntl_setpipe_size(&stream, 1 << 20);
    let mut kind = [0u8; 1];
    let marker = stream.read_exact(&mut kind).ok().map(|()| kind[0]);
    let name = remote
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("download")
        .to_owned();
    let to_stdout = out.is_none_or(|p| p == Path::new("-"));
    let expected = if marker == Some(b'F') {
        read_size(&mut stream)
    } else {
        None
    };
    let result = match (marker, to_stdout) {
        (Some(b'F'), true) => {
            let mut so = std::io::stdout().lock();
            std::io::copy(&mut stream, &mut so)
                .and_then(|n| so.flush().map(|()| n))
                .map(|_| Fetched::Stdout)
                .map_err(Error::io("stdout"))
        }
        (Some(b'F'), false) => receive_local(out.expect("checked"), &name, |tmp| {
            let mut file = create_new(tmp)?;
            // No fsync: the rename keeps partial files away from the
            // destination name; forcing 256 MiB to disk would double a get.
            let n = std::io::copy(&mut stream, &mut file).map_err(Error::io(tmp))?;
            if expected.is_some_and(|e| e != n) {
                return Err(Error::Network(format!("the transfer of {remote} was cut off after {n} bytes; nothing was left at the destination")));
            }
            Ok((1, n))
        })
        .map(|(p, _, n)| Fetched::File(p, n)),
        (Some(b'D'), true) => Err(Error::Usage(format!(
            "{remote} is a directory: give --out <local dir>"
        ))),
        (Some(b'D'), false) => receive_local(out.expect("checked"), &name, |tmp| {
            std::fs::create_dir(tmp).map_err(Error::io(tmp))?;
            let mut archive = tar::Archive::new(&mut stream);
            archive.set_preserve_permissions(true);
            archive.unpack(tmp).map_err(Error::io(tmp))?;
            let (mut files, mut bytes) = (0, 0);
            count(tmp, &mut files, &mut bytes);
            Ok((files, bytes))
        })
        .map(|(p, f, b)| Fetched::Tree(p, f, b)),
        _ => Err(Error::NotFound(format!(
            "no readable file or directory at {remote} on the workspace"
        ))),
    };
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(Error::io("ssh"))?;
    let fetched = result?;
    if !status.success() {
        if let Fetched::File(p, _) | Fetched::Tree(p, _, _) = &fetched {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
        }
        return Err(failed(remote, status));
    }
    Ok(fetched)
}

/// Receives into a temporary name beside the destination (`out`, or
/// `out/<name>` when `out` is a directory), then renames it into place.
fn receive_local(
    out: &Path,
    name: &str,
    fill: impl FnOnce(&Path) -> Result<(u64, u64)>,
) -> Result<(PathBuf, u64, u64)> {
    let dest = if out.is_dir() {
        out.join(name)
    } else {
        out.to_path_buf()
    };
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(Error::io(&parent))?;
    let file_name = dest
        .file_name()
        .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{file_name}.runcode-tmp.{}", std::process::id()));
    match fill(&tmp) {
        Ok((files, bytes)) => {
            if dest.is_dir() && tmp.is_dir() {
                std::fs::remove_dir_all(&dest).map_err(Error::io(&dest))?;
            }
            std::fs::rename(&tmp, &dest).map_err(Error::io(&dest))?;
            Ok((dest, files, bytes))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp).or_else(|_| std::fs::remove_dir_all(&tmp));
            Err(e)
        }
    }
}

/// The size line after the `F` marker.
fn read_size(stream: &mut impl Read) -> Option<u64> {
    let mut digits = Vec::new();
    let mut byte = [0u8; 1];
    while stream.read_exact(&mut byte).is_ok() && byte[0] != b'\n' && digits.len() < 20 {
        digits.push(byte[0]);
    }
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

fn create_new(path: &Path) -> Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(Error::io(path))
}
