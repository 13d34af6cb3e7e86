//! The held connection's local endpoint (docs/sessions.md, "The held
//! connection"): where it is, how each side opens it, the proof each side
//! gives the other, and the frames that cross it.
//!
//! - Unix: a socket `held.sock` in the session directory, which is 0700
//!   (or, when that path is too long for a socket, in the user's private
//!   0700 directory under /tmp), itself 0600.
//! - Windows: a named pipe `\\.\pipe\runcode-held-<hash of the session
//!   directory>`, created as the first instance (no one can have taken the
//!   name first and still be served), refusing remote clients, with a
//!   descriptor that grants this user alone (`runcode_win::owner_only_pipe`).
//!
//! On both, the holder writes a random token into `held.token` (0600) in the
//! session directory. A client sends a nonce and checks that the answer is
//! keyed by that token before it sends anything else (the other end is the
//! holder, not a process that took the name); the holder checks the
//! client's proof the same way before it runs anything.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The holder's token, beside the session's other private files.
pub const TOKEN: &str = "held.token";

/// What the holder says about itself (its pid and its endpoint's
/// protection), for `doctor`.
pub use crate::session::HELD as STATE;

/// One end of the endpoint, whichever platform.
pub trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

pub type Stream = Box<dyn Duplex>;

/// A frame's kind (the first byte; then a big-endian u32 length and the
/// bytes).
pub mod kind {
    /// Client: the request, JSON (`{"op":"exec","line":…}`, `check`, `exit`).
    pub const REQUEST: u8 = b'R';
    /// Client: bytes for the command's stdin.
    pub const STDIN: u8 = b'i';
    /// Client: the end of stdin.
    pub const STDIN_END: u8 = b'I';
    /// Holder: bytes of the command's stdout.
    pub const STDOUT: u8 = b'o';
    /// Holder: bytes of the command's stderr.
    pub const STDERR: u8 = b'e';
    /// Holder: the answer's status (four bytes); the last frame.
    pub const STATUS: u8 = b's';
    /// Holder: the transport failed, in OpenSSH's words; the last frame.
    pub const FAILED: u8 = b'f';
}

/// The longest frame either side accepts.
pub const FRAME_MAX: usize = 1 << 20;

fn hash_of_dir(dir: &Path) -> String {
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the endpoint of session directory `dir` is.
#[cfg(unix)]
pub fn address(dir: &Path) -> PathBuf {
    let near = dir.join("held.sock");
    if near.as_os_str().len() <= crate::remote::sshconfig::CONTROL_PATH_MAX {
        return near;
    }
    let short = crate::session::short_dir().unwrap_or_else(|_| dir.to_path_buf());
    short.join(format!("held-{}.sock", hash_of_dir(dir)))
}

#[cfg(windows)]
pub fn address(dir: &Path) -> PathBuf {
    PathBuf::from(format!(r"\\.\pipe\runcode-held-{}", hash_of_dir(dir)))
}

/// Opens the endpoint as a client; an error when no holder listens.
pub async fn connect(dir: &Path) -> io::Result<Stream> {
    let address = address(dir);
    #[cfg(unix)]
    {
        Ok(Box::new(tokio::net::UnixStream::connect(&address).await?))
    }
    #[cfg(windows)]
    {
        use tokio::net::windows::named_pipe::ClientOptions;
        // ERROR_PIPE_BUSY: every instance is taken for a moment; the
        // holder makes the next one as it accepts.
        const BUSY: i32 = 231;
        for _ in 0..100 {
            match ClientOptions::new().open(&address) {
                Ok(c) => return Ok(Box::new(c)),
                Err(e) if e.raw_os_error() == Some(BUSY) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other("the held connection's pipe stayed busy"))
    }
}

/// The holder's side of the endpoint.
pub struct Listener {
    address: PathBuf,
    #[cfg(unix)]
    inner: tokio::net::UnixListener,
    /// The socket file's device and inode: what `close` removes is this
    /// holder's own socket, never a newer holder's at the same path.
    #[cfg(unix)]
    id: (u64, u64),
    #[cfg(windows)]
    next: tokio::net::windows::named_pipe::NamedPipeServer,
}

impl Listener {
    /// Listens at `dir`'s endpoint. On Unix a socket left by a holder that
    /// died goes first (the caller holds the session's holder lock).
    pub fn bind(dir: &Path) -> io::Result<Listener> {
        let address = address(dir);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::remove_file(&address);
            use std::os::unix::fs::MetadataExt;
            let inner = tokio::net::UnixListener::bind(&address)?;
            std::fs::set_permissions(&address, std::fs::Permissions::from_mode(0o600))?;
            let meta = std::fs::symlink_metadata(&address)?;
            Ok(Listener {
                address,
                inner,
                id: (meta.dev(), meta.ino()),
            })
        }
        #[cfg(windows)]
        {
            let next = Self::instance(&address, true)?;
            Ok(Listener { address, next })
        }
    }

    #[cfg(windows)]
    fn instance(
        address: &Path,
        first: bool,
    ) -> io::Result<tokio::net::windows::named_pipe::NamedPipeServer> {
        let mut options = tokio::net::windows::named_pipe::ServerOptions::new();
        options
            .first_pipe_instance(first)
            .reject_remote_clients(true);
        runcode_win::owner_only_pipe(&options, &address.to_string_lossy())
    }

    /// The next client.
    pub async fn accept(&mut self) -> io::Result<Stream> {
        #[cfg(unix)]
        {
            let (stream, _) = self.inner.accept().await?;
            Ok(Box::new(stream))
        }
        #[cfg(windows)]
        {
            self.next.connect().await?;
            let next = Self::instance(&self.address, false)?;
            Ok(Box::new(std::mem::replace(&mut self.next, next)))
        }
    }

    pub fn address(&self) -> &Path {
        &self.address
    }

    /// The endpoint's protection as the OS holds it: on Windows the pipe's
    /// DACL read back (SDDL), elsewhere the socket's mode and its
    /// directory's.
    pub fn protection(&self) -> String {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| {
                std::fs::metadata(p)
                    .map(|m| format!("{:o}", m.permissions().mode() & 0o777))
                    .unwrap_or_default()
            };
            let parent = self.address.parent().unwrap_or(Path::new("/"));
            format!(
                "socket {} in directory {}",
                mode(&self.address),
                mode(parent)
            )
        }
        #[cfg(windows)]
        {
            use std::os::windows::io::AsRawHandle;
            runcode_win::pipe_dacl(self.next.as_raw_handle()).unwrap_or_else(|e| format!("?{e}"))
        }
    }

    /// Stops listening: no new client reaches this holder. The socket file
    /// goes only while it is still this holder's: a session directory
    /// replaced meanwhile (disconnect, then connect) may hold a new
    /// holder's at the same path.
    pub fn close(self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if std::fs::symlink_metadata(&self.address).is_ok_and(|m| (m.dev(), m.ino()) == self.id)
            {
                let _ = std::fs::remove_file(&self.address);
            }
        }
    }
}

/// Whether an endpoint's protection, as `protection` says it, lets only
/// this user in: on Windows a protected DACL of one allowing entry, for
/// this user's SID; elsewhere a 0600 socket in a 0700 directory.
pub fn user_only(protection: &str) -> bool {
    #[cfg(unix)]
    {
        protection == "socket 600 in directory 700"
    }
    #[cfg(windows)]
    {
        let Ok(sid) = runcode_win::user_sid() else {
            return false;
        };
        let Some(aces) = protection.strip_prefix("D:P") else {
            return false;
        };
        let entries: Vec<&str> = aces
            .split(')')
            .filter(|e| !e.is_empty())
            .map(|e| e.trim_start_matches('('))
            .collect();
        matches!(entries.as_slice(), [one] if one.starts_with("A;") && one.ends_with(&format!(";{sid}")))
    }
}

/// A fresh random token, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    ssh_key::rand_core::RngCore::fill_bytes(&mut ssh_key::rand_core::OsRng, &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn proof(role: &[u8], token: &str, nonce: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"runcode-held/1 ");
    h.update(role);
    h.update(token.as_bytes());
    h.update(nonce);
    h.finalize().into()
}

fn nonce() -> [u8; 32] {
    let mut n = [0u8; 32];
    ssh_key::rand_core::RngCore::fill_bytes(&mut ssh_key::rand_core::OsRng, &mut n);
    n
}

/// Equal without saying where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The client's half of the proof: false when the other end is not the
/// holder of this token.
pub async fn prove_client(s: &mut Stream, token: &str) -> io::Result<bool> {
    let mine = nonce();
    s.write_all(&mine).await?;
    let mut theirs = [0u8; 64];
    s.read_exact(&mut theirs).await?;
    if !same(&theirs[32..], &proof(b"holder", token, &mine)) {
        return Ok(false);
    }
    s.write_all(&proof(b"client", token, &theirs[..32])).await?;
    Ok(true)
}

/// The holder's half: false when the client does not know the token.
pub async fn prove_holder(s: &mut Stream, token: &str) -> io::Result<bool> {
    let mut theirs = [0u8; 32];
    s.read_exact(&mut theirs).await?;
    let mine = nonce();
    let mut answer = [0u8; 64];
    answer[..32].copy_from_slice(&mine);
    answer[32..].copy_from_slice(&proof(b"holder", token, &theirs));
    s.write_all(&answer).await?;
    let mut back = [0u8; 32];
    s.read_exact(&mut back).await?;
    Ok(same(&back, &proof(b"client", token, &mine)))
}

/// Writes one frame, in one write: its head and its bytes together.
pub async fn send(w: &mut (impl AsyncWrite + Unpin), kind: u8, data: &[u8]) -> io::Result<()> {
    let len = u32::try_from(data.len()).map_err(|_| io::Error::other("frame too long"))?;
    let mut frame = Vec::with_capacity(5 + data.len());
    frame.push(kind);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(data);
    w.write_all(&frame).await?;
    w.flush().await
}

/// The most bytes of one stream gathered into one frame: what the channel
/// already holds is sent at once, up to this (`FRAME_MAX` allows more).
pub const BATCH: usize = 256 * 1024;

/// How much a reader of frames buffers: a batch and its head.
pub const READ_BUFFER: usize = BATCH + 5;

/// Reads one frame; None at a clean end between frames.
pub async fn receive(r: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..]).await?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > FRAME_MAX {
        return Err(io::Error::other("frame too long"));
    }
    let mut data = vec![0u8; len];
    r.read_exact(&mut data).await?;
    Ok(Some((head[0], data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proofs_differ_by_role_token_and_nonce() {
        let a = proof(b"holder", "t", b"n");
        assert_ne!(a, proof(b"client", "t", b"n"));
        assert_ne!(a, proof(b"holder", "u", b"n"));
        assert_ne!(a, proof(b"holder", "t", b"m"));
        assert!(same(&a, &proof(b"holder", "t", b"n")));
        assert!(!same(&a, &a[..31]));
    }

    #[cfg(unix)]
    #[test]
    fn a_long_directory_gets_a_short_socket_named_by_its_hash() {
        let long = PathBuf::from(format!("/{}", "d".repeat(150)));
        let a = address(&long);
        assert!(a.as_os_str().len() < 100, "{a:?}");
        assert_ne!(a, address(&PathBuf::from(format!("/{}", "e".repeat(150)))));
        assert_eq!(
            address(Path::new("/s/ws-1")),
            Path::new("/s/ws-1/held.sock")
        );
    }
}
