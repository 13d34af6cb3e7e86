//! Moving bytes to and from the attached workspace over its session: files
//! stream straight between a local file and ssh (the CLI's memory does not
//! grow with their size), directories travel as a tar stream, and a
//! destination appears only when complete (a temporary name, then a rename,
//! on whichever side receives).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};

use crate::attach;
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::output::Output;
use crate::remote::interrupt::{self, ChildGuard, TempGuard};
use crate::remote::progress::{Meter, Reading, Writing};
use crate::remote::scripts::{self, status};
use crate::remote::{self, Call, exit_code};
use crate::session::{self, Policy, Request, Session};

/// One try of a transfer: ssh's status, and the result when the remote side
/// succeeded.
pub type Attempted<T> = Result<(ExitStatus, Option<T>)>;

/// Transfers reuse the attached workspace's session as one-off commands do.
pub const POLICY: Policy = Policy::Command;

/// The attached workspace's session (valid, else minted) and the request
/// that a retry mints with.
pub fn session(ctx: &Ctx, req: Request) -> Result<(Session, Request)> {
    let a = attach::require(&ctx.paths)?;
    let (s, _) = session::acquire(ctx, a.id, req)?;
    Ok((s, req))
}

/// Runs one transfer under the retry rule of `remote::attempt`. `op`
/// returns None when the remote side failed; that status (not 255) becomes
/// the error here.
pub fn run<T>(
    ctx: &Ctx,
    req: Request,
    s: Session,
    retry: bool,
    what: &str,
    op: impl FnMut(&Session, &Call) -> Attempted<T>,
) -> Result<T> {
    let (_, code, value) = remote::attempt(ctx, req, s, retry, op)?;
    match value {
        Some(v) if code == 0 => Ok(v),
        _ if code == status::CHANGED => Err(Error::ChangedSinceRead {
            path: what.to_owned(),
        }),
        _ if code == status::KIND => Err(Error::NotReplaced {
            path: what.to_owned(),
        }),
        _ => Err(failed(what, code)),
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

fn spawn(
    s: &Session,
    call: &Call,
    script: &str,
    stdin: Stdio,
    stdout: Stdio,
) -> Result<(Child, ChildGuard)> {
    let mut cmd = call.ssh(s, script);
    cmd.stdin(stdin).stdout(stdout).stderr(Stdio::inherit());
    interrupt::spawn(&mut cmd, "ssh")
}

fn failed(what: &str, code: i32) -> Error {
    Error::TransferFailed {
        path: what.to_owned(),
        status: code,
    }
}

/// The remote line that writes its stdin to `dest` (into it, if it is a
/// directory) through a temporary file, then prints the final path
/// (`scripts/receive_file.sh`). A short stream is refused by its size;
/// with `expect` (a POSIX `cksum` line of what the file held when it was
/// read) the rename happens only while the file still holds exactly that,
/// else the script exits with `status::CHANGED`.
fn receive_file_script(
    dest: &str,
    name: &str,
    size: u64,
    expect: Option<&str>,
    replace: bool,
) -> String {
    let size = size.to_string();
    let replace = if replace { "1" } else { "" };
    scripts::line(
        scripts::RECEIVE_FILE,
        &[dest, name, &size, expect.unwrap_or_default(), replace],
    )
}

/// What POSIX `cksum` prints for `bytes` read from stdin: the CRC-32 of the
/// bytes followed by their length (polynomial 0x04C11DB7, no reflection,
/// inverted), a space, and the length.
pub fn posix_cksum(bytes: &[u8]) -> String {
    fn feed(crc: u32, byte: u8) -> u32 {
        let mut c = crc ^ (u32::from(byte) << 24);
        for _ in 0..8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04C1_1DB7
            } else {
                c << 1
            };
        }
        c
    }
    let mut crc = bytes.iter().fold(0u32, |c, b| feed(c, *b));
    let mut len = bytes.len() as u64;
    while len > 0 {
        crc = feed(crc, (len & 0xff) as u8);
        len >>= 8;
    }
    format!("{} {}", !crc, bytes.len())
}

/// The name a local file keeps on the workspace when its destination is a
/// directory.
pub fn name_of(path: &Path) -> String {
    path.file_name()
        .map_or_else(|| "file".to_owned(), |n| n.to_string_lossy().into_owned())
}

/// Sends the local file `source` to `dest` (to `dest/<name>` when that is a
/// directory). The remote side checks the size before the rename, so a cut
/// stream never lands under the destination name. Returns the remote path
/// written and the bytes sent.
pub fn send_file(
    s: &Session,
    call: &Call,
    source: &Path,
    name: &str,
    dest: &str,
    rule: Rule<'_>,
    out: Output,
) -> Attempted<(String, u64)> {
    let Rule { expect, replace } = rule;
    let size = std::fs::metadata(source).map_err(Error::io(source))?.len();
    let script = receive_file_script(dest, name, size, expect, replace);
    let mut meter = Meter::new(out, "sent", Some(size), None);
    let file = File::open(source).map_err(Error::io(source))?;
    // Without a meter ssh reads the file itself; with one, the bytes pass
    // through here to be counted.
    let (stdin, file) = match meter {
        None => (Stdio::from(file), None),
        Some(_) => (Stdio::piped(), Some(file)),
    };
    let (mut child, _guard) = spawn(s, call, &script, stdin, Stdio::piped())?;
    if let (Some(mut file), Some(pipe)) = (file, child.stdin.take()) {
        let mut counted = Writing {
            inner: pipe,
            meter: meter.as_mut(),
        };
        // A failure here (the remote side gone) shows in its status.
        let _ = std::io::copy(&mut file, &mut counted);
    }
    if let Some(m) = meter.as_mut() {
        m.finish();
    }
    let (status, written) = remote::answer(&mut child, s.meta.ws_id)?;
    Ok((
        status,
        status.success().then_some((shown_path(&written), size)),
    ))
}

/// Copies stdin into a private spool file in the session directory, so that
/// its size is known before anything reaches the workspace (a stream cut
/// short is then refused there, not renamed into place) and a retry can
/// send it again. The guard removes it, also on Ctrl-C.
pub fn spool_stdin(s: &Session) -> Result<(PathBuf, TempGuard)> {
    let path = s.dir().join(format!(".stdin-{}.spool", std::process::id()));
    let guard = TempGuard::new(path.clone());
    let _ = std::fs::remove_file(&path);
    let mut file = crate::paths::create_new(&path, 0o600).map_err(Error::io(&path))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file).map_err(Error::io("stdin"))?;
    interrupt::check()?;
    Ok((path, guard))
}

/// How `send_file` may replace what is at its destination.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rule<'a> {
    /// Only while the file holds what this POSIX `cksum` line describes
    /// (the guarded write of `edit_file`).
    pub expect: Option<&'a str>,
    /// A folder there may be replaced by the file (`--replace`).
    pub replace: bool,
}

/// Sends a local directory as a tar stream; `dest` becomes a copy of it (or
/// `dest/<name>` when `dest` is an existing directory), replacing what was
/// there only once the whole tree has arrived.
pub fn send_dir(
    s: &Session,
    call: &Call,
    source: &Path,
    dest: &str,
    out: Output,
    replace: bool,
) -> Attempted<(String, u64, u64)> {
    let name = source
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "dir".to_owned());
    let replace = if replace { "1" } else { "" };
    let script = scripts::line(scripts::RECEIVE_TREE, &[dest, &name, replace]);
    let (mut child, _guard) = spawn(s, call, &script, Stdio::piped(), Stdio::piped())?;
    // Buffered: tar writes a 512-byte header and a small body per file, and
    // 5,000 small writes to ssh's pipe cost far more than the bytes.
    let pipe = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().expect("piped"));
    let (mut files, mut bytes) = (0u64, 0u64);
    count(source, &mut files, &mut bytes);
    let mut meter = Meter::new(out, "sent", None, Some(files));
    let counted = Writing {
        inner: pipe,
        meter: meter.as_mut(),
    };
    let mut builder = tar::Builder::new(counted);
    builder.follow_symlinks(false);
    let sent = builder
        .append_dir_all("tree", source)
        .and_then(|()| builder.into_inner())
        .and_then(|counted| {
            counted
                .inner
                .into_inner()
                .map_err(std::io::IntoInnerError::into_error)
        })
        .map(drop);
    if let Some(m) = meter.as_mut() {
        m.finish();
    }
    let (status, written) = remote::answer(&mut child, s.meta.ws_id)?;
    if !status.success() {
        return Ok((status, None));
    }
    sent.map_err(Error::io(source))?;
    Ok((status, Some((shown_path(&written), files, bytes))))
}

/// The permission bits a fetched tree never gets: the user's umask, and
/// the world's write bit whatever the umask says.
fn local_mask() -> u32 {
    #[cfg(unix)]
    {
        use rustix::fs::Mode;
        // umask can only be read by setting it: set it back at once.
        let umask = rustix::process::umask(Mode::from_raw_mode(0o022));
        rustix::process::umask(umask);
        // mode_t is u32 on Linux and u16 on macOS.
        #[allow(clippy::useless_conversion)]
        let raw = u32::from(umask.as_raw_mode());
        raw | 0o002
    }
    #[cfg(not(unix))]
    {
        0o002
    }
}

/// The path the workspace says it wrote, as runcode shows it: no control
/// characters (it came from the workspace), at most 4096 characters.
fn shown_path(written: &str) -> String {
    crate::text::clean(written, false)
        .chars()
        .take(4096)
        .collect()
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
pub fn fetch(
    s: &Session,
    call: &Call,
    remote: &str,
    out: Option<&Path>,
    shown: Output,
    replace: bool,
) -> Attempted<Fetched> {
    let script = scripts::line(scripts::SEND, &[remote]);
    let (mut child, _guard) = spawn(s, call, &script, Stdio::null(), Stdio::piped())?;
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
    let mut meter = match marker {
        Some(b'F') => Meter::new(shown, "received", expected, None),
        Some(b'D') => Meter::new(shown, "received", None, None),
        _ => None,
    };
    let result = match (marker, to_stdout) {
        (Some(b'F'), true) => {
            let mut so = std::io::stdout().lock();
            copy(&mut stream, &mut so, meter.as_mut())
                .and_then(|n| so.flush().map(|()| n))
                .map(|_| Fetched::Stdout)
                .map_err(Error::io("stdout"))
        }
        (Some(b'F'), false) => receive_local(out.expect("checked"), &name, false, replace, |tmp| {
            let mut file = create_new(tmp)?;
            // No fsync: the rename keeps partial files away from the
            // destination name; forcing 256 MiB to disk would double a get.
            let n = copy(&mut stream, &mut file, meter.as_mut()).map_err(Error::io(tmp))?;
            if expected.is_some_and(|e| e != n) {
                return Err(Error::Network(format!("the transfer of {remote} was cut off after {n} bytes; nothing was left at the destination")));
            }
            Ok((1, n))
        })
        .map(|(p, _, n)| Fetched::File(p, n)),
        (Some(b'D'), true) => Err(Error::Usage(format!(
            "{remote} is a directory: give --out <local dir>"
        ))),
        (Some(b'D'), false) => receive_local(out.expect("checked"), &name, true, replace, |tmp| {
            std::fs::create_dir(tmp).map_err(Error::io(tmp))?;
            // Buffered, as for put: tar reads a header at a time.
            let counted = Reading {
                inner: &mut stream,
                meter: meter.as_mut(),
            };
            let mut archive = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, counted));
            // The workspace's modes are not trusted: no setuid, setgid or
            // sticky bit, and the user's umask (and never world-writable),
            // as `tar --no-same-permissions` does.
            archive.set_preserve_permissions(false);
            archive.set_mask(local_mask());
            archive.unpack(tmp).map_err(Error::io(tmp))?;
            let (mut files, mut bytes) = (0, 0);
            count(tmp, &mut files, &mut bytes);
            Ok((files, bytes))
        })
        .map(|(p, f, b)| Fetched::Tree(p, f, b)),
        _ => Err(Error::NoRemoteFile {
            path: remote.to_owned(),
        }),
    };
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait().map_err(Error::spawn("ssh"))?;
    if !status.success() {
        if let Ok(Fetched::File(p, _) | Fetched::Tree(p, _, _)) = &result {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
        }
        // ssh's own failure (255) and Ctrl-C are the caller's to judge; a
        // missing remote file is this function's.
        if exit_code(status) == 255 || interrupt::interrupted() {
            return Ok((status, None));
        }
    }
    result.map(|f| (status, Some(f)))
}

/// Copies `from` to `to`, through `meter` when there is one. Without one
/// the copy is `std::io::copy` between the pipe and the file itself, which
/// Linux does with `splice` instead of a buffer: a counting reader in
/// between would cost a `get` of 256 MiB a third of its speed (P5).
fn copy(
    from: &mut std::process::ChildStdout,
    to: &mut impl Write,
    meter: Option<&mut Meter>,
) -> std::io::Result<u64> {
    match meter {
        None => std::io::copy(from, to),
        Some(m) => std::io::copy(
            &mut Reading {
                inner: from,
                meter: Some(m),
            },
            to,
        ),
    }
}

/// Receives into a temporary name beside the destination (`out`, or
/// `out/<name>` when `out` is a directory), then renames it into place.
fn receive_local(
    out: &Path,
    name: &str,
    tree: bool,
    replace: bool,
    fill: impl FnOnce(&Path) -> Result<(u64, u64)>,
) -> Result<(PathBuf, u64, u64)> {
    let dest = if out.is_dir() {
        out.join(name)
    } else {
        out.to_path_buf()
    };
    // A file never replaces a folder here, nor a folder a file, unless the
    // user said so (`--replace`): checked before a byte is received.
    let clash = std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir() != tree);
    if clash && !replace {
        return Err(Error::NotReplaced {
            path: dest.display().to_string(),
        });
    }
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&parent).map_err(Error::io(&parent))?;
    let file_name = dest
        .file_name()
        .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned());
    let tmp = parent.join(format!(".{file_name}.runcode-tmp.{}", std::process::id()));
    // Removed on any failure, and by the Ctrl-C handler.
    let guard = TempGuard::new(tmp.clone());
    let (files, bytes) = fill(&tmp)?;
    interrupt::check()?;
    if dest.is_dir() && (tmp.is_dir() || replace) {
        std::fs::remove_dir_all(&dest).map_err(Error::io(&dest))?;
    } else if replace && tmp.is_dir() && std::fs::symlink_metadata(&dest).is_ok() {
        std::fs::remove_file(&dest).map_err(Error::io(&dest))?;
    }
    std::fs::rename(&tmp, &dest).map_err(Error::io(&dest))?;
    guard.keep();
    Ok((dest, files, bytes))
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

#[cfg(all(test, unix))]
mod cksum_tests {
    #[test]
    fn cksum_matches_the_posix_tool() {
        for input in [&b""[..], b"a", b"hello world\n", &[0xffu8; 1000][..]] {
            let mut child = std::process::Command::new("cksum")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input).unwrap();
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                super::posix_cksum(input),
                String::from_utf8_lossy(&out.stdout).trim(),
                "{input:?}"
            );
        }
    }
}
