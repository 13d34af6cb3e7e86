//! Secret Service (the freedesktop.org credential store: GNOME Keyring,
//! KWallet, KeePassXC) on Linux, through a small D-Bus client of runcode's
//! own: a unix socket to the session bus, the EXTERNAL authentication, and
//! the few method calls a secret needs. Written here rather than taken from
//! a D-Bus crate, which would add 2 MB to the CLI (P8).
//!
//! Items carry the attributes `service=runcode` and `account=<key>` (so
//! `secret-tool lookup service runcode account <key>` finds one) in the
//! `default` collection. The session uses the `plain` algorithm: the value
//! crosses the local socket to the daemon unencrypted, as with libsecret's
//! own plain sessions; the socket is this user's. runcode drives no prompt:
//! a locked collection that needs one counts as no store. Every read and
//! write on the socket is bounded (`PATIENCE`), and no reply may exceed
//! `MAX_MESSAGE`. docs/security.md ("Where the value is").

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// The longest one call may wait on the bus (a service being started by
/// activation included).
const PATIENCE: Duration = Duration::from_secs(10);

/// The largest message accepted from the bus.
const MAX_MESSAGE: usize = 1 << 20;

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";

/// A connection to Secret Service with an open `plain` session.
pub struct Store {
    bus: Bus,
    session: String,
}

impl Store {
    /// Connects to the session bus (`DBUS_SESSION_BUS_ADDRESS`, else
    /// `$XDG_RUNTIME_DIR/bus`) and opens a session; None when there is no
    /// bus or no Secret Service answers on it.
    pub fn connect() -> Option<Store> {
        let mut bus = Bus::connect()?;
        let mut body = W::default();
        body.str("plain");
        body.variant("s", |w| w.str(""));
        let reply = bus.call(SERVICE_PATH, SERVICE, "OpenSession", "sv", &body)?;
        let mut r = R::new(&reply);
        r.skip("v")?;
        let session = r.str()?;
        Some(Store { bus, session })
    }

    fn attributes(key: &str) -> [(&str, &str); 2] {
        [("service", "runcode"), ("account", key)]
    }

    /// The item holding `key`, unlocked (None when there is none, or it is
    /// locked and unlocking it would need a prompt).
    fn find(&mut self, key: &str) -> Option<String> {
        let mut body = W::default();
        body.dict_ss(&Self::attributes(key));
        let reply = self
            .bus
            .call(SERVICE_PATH, SERVICE, "SearchItems", "a{ss}", &body)?;
        let mut r = R::new(&reply);
        let unlocked = r.paths()?;
        let locked = r.paths()?;
        if let Some(item) = unlocked.into_iter().next() {
            return Some(item);
        }
        let item = locked.into_iter().next()?;
        self.unlock(&item).then_some(item)
    }

    /// Unlocks `path` when that needs no prompt.
    fn unlock(&mut self, path: &str) -> bool {
        let mut body = W::default();
        body.array(4, |w| w.str(path));
        let Some(reply) = self.bus.call(SERVICE_PATH, SERVICE, "Unlock", "ao", &body) else {
            return false;
        };
        let mut r = R::new(&reply);
        let done = r.paths().unwrap_or_default();
        let prompt = r.str().unwrap_or_default();
        prompt == "/" && done.iter().any(|p| p == path)
    }

    pub fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        let item = self.find(key)?;
        let mut body = W::default();
        body.str(&self.session);
        let reply = self.bus.call(&item, ITEM, "GetSecret", "o", &body)?;
        let mut r = R::new(&reply);
        r.align(8)?;
        let _session = r.str()?;
        let _parameters = r.bytes()?;
        r.bytes()
    }

    /// Stores `value` as `key` (replacing one of that key); false when the
    /// store would not take it.
    pub fn set(&mut self, key: &str, value: &[u8]) -> bool {
        let Some(collection) = self.default_collection() else {
            return false;
        };
        let mut body = W::default();
        let label = format!("runcode secret {key}");
        let attributes = Self::attributes(key);
        body.array(8, |w| {
            w.align(8);
            w.str("org.freedesktop.Secret.Item.Label");
            w.variant("s", |w| w.str(&label));
            w.align(8);
            w.str("org.freedesktop.Secret.Item.Attributes");
            w.variant("a{ss}", |w| w.dict_ss(&attributes));
        });
        body.align(8);
        body.str(&self.session);
        body.bytes(&[]);
        body.bytes(value);
        body.str("text/plain");
        body.u32(1);
        let Some(reply) = self.bus.call(
            &collection,
            COLLECTION,
            "CreateItem",
            "a{sv}(oayays)b",
            &body,
        ) else {
            return false;
        };
        let mut r = R::new(&reply);
        let item = r.str().unwrap_or_default();
        let prompt = r.str().unwrap_or_default();
        item != "/" && prompt == "/"
    }

    /// Removes `key`'s item, if there is one.
    pub fn remove(&mut self, key: &str) {
        if let Some(item) = self.find(key) {
            let _ = self.bus.call(&item, ITEM, "Delete", "", &W::default());
        }
    }

    /// The `default` collection, unlocked; None when there is none or it
    /// would need a prompt.
    fn default_collection(&mut self) -> Option<String> {
        let mut body = W::default();
        body.str("default");
        let reply = self
            .bus
            .call(SERVICE_PATH, SERVICE, "ReadAlias", "s", &body)?;
        let path = R::new(&reply).str()?;
        if path == "/" {
            return None;
        }
        let mut ask = W::default();
        ask.str(COLLECTION);
        ask.str("Locked");
        let locked = self
            .bus
            .call(&path, "org.freedesktop.DBus.Properties", "Get", "ss", &ask)
            .and_then(|reply| {
                let mut r = R::new(&reply);
                (r.sig()? == "b").then_some(())?;
                r.u32()
            })
            .unwrap_or(1);
        (locked == 0 || self.unlock(&path)).then_some(path)
    }
}

/// The session bus's address: `DBUS_SESSION_BUS_ADDRESS`, else the
/// systemd user bus at `$XDG_RUNTIME_DIR/bus`.
fn addresses() -> Vec<Endpoint> {
    if let Some(text) = std::env::var_os("DBUS_SESSION_BUS_ADDRESS") {
        return parse_addresses(&text.to_string_lossy());
    }
    std::env::var_os("XDG_RUNTIME_DIR")
        .map(|d| vec![Endpoint::Path(std::path::Path::new(&d).join("bus"))])
        .unwrap_or_default()
}

#[derive(Debug, PartialEq, Eq)]
enum Endpoint {
    Path(std::path::PathBuf),
    Abstract(Vec<u8>),
}

/// The unix endpoints of a D-Bus address list (`unix:path=...` and
/// `unix:abstract=...`, values percent-decoded); other transports skipped.
fn parse_addresses(text: &str) -> Vec<Endpoint> {
    let mut found = Vec::new();
    for address in text.split(';') {
        let Some(rest) = address.strip_prefix("unix:") else {
            continue;
        };
        for pair in rest.split(',') {
            match pair.split_once('=') {
                Some(("path", v)) => {
                    let bytes = unescape(v);
                    found.push(Endpoint::Path(std::path::PathBuf::from(
                        String::from_utf8_lossy(&bytes).into_owned(),
                    )));
                }
                Some(("abstract", v)) => found.push(Endpoint::Abstract(unescape(v))),
                _ => {}
            }
        }
    }
    found
}

fn unescape(v: &str) -> Vec<u8> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = v.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// One authenticated connection to the bus.
struct Bus {
    stream: BufReader<UnixStream>,
    serial: u32,
}

impl Bus {
    fn connect() -> Option<Bus> {
        let stream = addresses().into_iter().find_map(|e| match e {
            Endpoint::Path(p) => UnixStream::connect(p).ok(),
            Endpoint::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name).ok()?;
                UnixStream::connect_addr(&addr).ok()
            }
        })?;
        stream.set_read_timeout(Some(PATIENCE)).ok()?;
        stream.set_write_timeout(Some(PATIENCE)).ok()?;
        let mut bus = Bus {
            stream: BufReader::new(stream),
            serial: 0,
        };
        bus.authenticate()?;
        bus.call(
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "Hello",
            "",
            &W::default(),
        )
        .map(|_| bus)
    }

    /// SASL EXTERNAL: the bus knows this process's uid from the socket.
    fn authenticate(&mut self) -> Option<()> {
        let uid = rustix::process::geteuid().as_raw().to_string();
        let hex: String = uid.bytes().map(|b| format!("{b:02x}")).collect();
        let s = self.stream.get_mut();
        s.write_all(format!("\0AUTH EXTERNAL {hex}\r\n").as_bytes())
            .ok()?;
        let mut line = String::new();
        (&mut self.stream).take(512).read_line(&mut line).ok()?;
        if !line.starts_with("OK ") {
            return None;
        }
        self.stream.get_mut().write_all(b"BEGIN\r\n").ok()
    }

    /// Calls `member` and answers the reply's body; None on an error reply,
    /// a broken or slow bus, or a reply too large.
    fn call(
        &mut self,
        path: &str,
        interface: &str,
        member: &str,
        signature: &str,
        body: &W,
    ) -> Option<Vec<u8>> {
        self.serial += 1;
        let serial = self.serial;
        let dest = if interface == "org.freedesktop.DBus" {
            "org.freedesktop.DBus"
        } else {
            DEST
        };
        let mut m = W::default();
        m.u8(b'l');
        m.u8(1); // a method call
        m.u8(0);
        m.u8(1);
        m.u32(u32::try_from(body.b.len()).ok()?);
        m.u32(serial);
        m.array(8, |w| {
            let mut field = |code: u8, sig: &str, value: &str| {
                w.align(8);
                w.u8(code);
                w.variant(sig, |w| {
                    if sig == "g" {
                        w.sig(value);
                    } else {
                        w.str(value);
                    }
                });
            };
            field(1, "o", path);
            field(2, "s", interface);
            field(3, "s", member);
            field(6, "s", dest);
            if !signature.is_empty() {
                field(8, "g", signature);
            }
        });
        m.align(8);
        m.b.extend_from_slice(&body.b);
        self.stream.get_mut().write_all(&m.b).ok()?;
        loop {
            let (kind, reply_to, message) = self.read()?;
            if reply_to != Some(serial) {
                continue; // a signal, or a reply to someone else
            }
            return (kind == 2).then_some(message);
        }
    }

    /// One message: its type, the serial it answers, and its body.
    fn read(&mut self) -> Option<(u8, Option<u32>, Vec<u8>)> {
        let mut fixed = [0u8; 16];
        self.stream.read_exact(&mut fixed).ok()?;
        if fixed[0] != b'l' {
            return None; // big-endian buses are not spoken here
        }
        let word =
            |i: usize| u32::from_le_bytes([fixed[i], fixed[i + 1], fixed[i + 2], fixed[i + 3]]);
        let body_len = usize::try_from(word(4)).ok()?;
        let fields_len = usize::try_from(word(12)).ok()?;
        let padded = (16 + fields_len).div_ceil(8) * 8 - 16;
        if padded + body_len > MAX_MESSAGE {
            return None;
        }
        let mut rest = vec![0u8; padded + body_len];
        self.stream.read_exact(&mut rest).ok()?;
        // The header fields, aligned as in the message (they start at 16).
        let mut header = vec![0u8; 16];
        header.extend_from_slice(&rest[..fields_len]);
        let mut r = R {
            b: &header,
            pos: 16,
        };
        let mut reply_to = None;
        while r.pos < header.len() {
            r.align(8)?;
            let code = r.u8()?;
            let sig = r.sig()?;
            if code == 5 && sig == "u" {
                reply_to = Some(r.u32()?);
            } else {
                r.skip(&sig)?;
            }
        }
        Some((fixed[1], reply_to, rest[padded..].to_vec()))
    }
}

/// A D-Bus marshaller (little-endian), aligned from the start of its
/// buffer: a message's start, or its body's (which is 8-aligned).
#[derive(Default)]
struct W {
    b: Vec<u8>,
}

impl W {
    fn align(&mut self, n: usize) {
        while !self.b.len().is_multiple_of(n) {
            self.b.push(0);
        }
    }
    fn u8(&mut self, v: u8) {
        self.b.push(v);
    }
    fn u32(&mut self, v: u32) {
        self.align(4);
        self.b.extend_from_slice(&v.to_le_bytes());
    }
    fn str(&mut self, s: &str) {
        self.u32(u32::try_from(s.len()).unwrap_or(0));
        self.b.extend_from_slice(s.as_bytes());
        self.b.push(0);
    }
    fn sig(&mut self, s: &str) {
        self.b.push(u8::try_from(s.len()).unwrap_or(0));
        self.b.extend_from_slice(s.as_bytes());
        self.b.push(0);
    }
    fn bytes(&mut self, v: &[u8]) {
        self.u32(u32::try_from(v.len()).unwrap_or(0));
        self.b.extend_from_slice(v);
    }
    fn variant(&mut self, sig: &str, value: impl FnOnce(&mut W)) {
        self.sig(sig);
        value(self);
    }
    /// An array whose elements align to `align`: its length, the padding
    /// to the first element, the elements (the length leaves the padding
    /// out).
    fn array(&mut self, align: usize, elements: impl FnOnce(&mut W)) {
        self.align(4);
        let at = self.b.len();
        self.b.extend_from_slice(&[0; 4]);
        self.align(align);
        let start = self.b.len();
        elements(self);
        let len = u32::try_from(self.b.len() - start).unwrap_or(0);
        self.b[at..at + 4].copy_from_slice(&len.to_le_bytes());
    }
    fn dict_ss(&mut self, pairs: &[(&str, &str)]) {
        self.array(8, |w| {
            for (k, v) in pairs {
                w.align(8);
                w.str(k);
                w.str(v);
            }
        });
    }
}

/// A D-Bus reader over one body (or the header, offset as in the message).
struct R<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> R<'a> {
    fn new(b: &'a [u8]) -> R<'a> {
        R { b, pos: 0 }
    }
    fn align(&mut self, n: usize) -> Option<()> {
        let to = self.pos.div_ceil(n) * n;
        (to <= self.b.len()).then(|| self.pos = to)
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let slice = self.b.get(self.pos..end)?;
        self.pos = end;
        Some(slice)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.align(4)?;
        let b = self.take(4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn str(&mut self) -> Option<String> {
        let len = usize::try_from(self.u32()?).ok()?;
        let text = self.take(len)?;
        self.take(1)?;
        String::from_utf8(text.to_vec()).ok()
    }
    fn sig(&mut self) -> Option<String> {
        let len = usize::from(self.u8()?);
        let text = self.take(len)?;
        self.take(1)?;
        String::from_utf8(text.to_vec()).ok()
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let len = usize::try_from(self.u32()?).ok()?;
        Some(self.take(len)?.to_vec())
    }
    /// An `ao`.
    fn paths(&mut self) -> Option<Vec<String>> {
        let len = usize::try_from(self.u32()?).ok()?;
        let end = self.pos.checked_add(len)?;
        let mut out = Vec::new();
        while self.pos < end {
            out.push(self.str()?);
        }
        Some(out)
    }
    /// Skips one value of each complete type in `sig`.
    fn skip(&mut self, sig: &str) -> Option<()> {
        self.skip_nested(sig, 0)
    }
    /// `skip`, `depth` containers deep: past 64 (D-Bus's own limit on
    /// nesting) the message is refused rather than followed down.
    fn skip_nested(&mut self, sig: &str, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        let mut rest = sig.as_bytes();
        while !rest.is_empty() {
            let (one, after) = split_type(rest)?;
            self.skip_one(one, depth)?;
            rest = after;
        }
        Some(())
    }
    fn skip_one(&mut self, t: &[u8], depth: usize) -> Option<()> {
        match t.first()? {
            b'y' => self.take(1).map(drop),
            b'b' | b'u' | b'i' | b'h' => self.u32().map(drop),
            b'n' | b'q' => {
                self.align(2)?;
                self.take(2).map(drop)
            }
            b'x' | b't' | b'd' => {
                self.align(8)?;
                self.take(8).map(drop)
            }
            b's' | b'o' => self.str().map(drop),
            b'g' => self.sig().map(drop),
            b'v' => {
                let inner = self.sig()?;
                self.skip_nested(&inner, depth + 1)
            }
            b'a' => {
                let len = usize::try_from(self.u32()?).ok()?;
                let element = &t[1..];
                self.align(alignment(element[0]))?;
                self.take(len).map(drop)
            }
            b'(' | b'{' => {
                self.align(8)?;
                let inner = std::str::from_utf8(&t[1..t.len() - 1]).ok()?;
                self.skip_nested(inner, depth + 1)
            }
            _ => None,
        }
    }
}

fn alignment(t: u8) -> usize {
    match t {
        b'y' | b'g' | b'v' => 1,
        b'n' | b'q' => 2,
        b'x' | b't' | b'd' | b'(' | b'{' => 8,
        _ => 4,
    }
}

/// The first complete type of `sig`, and what follows it.
fn split_type(sig: &[u8]) -> Option<(&[u8], &[u8])> {
    match sig.first()? {
        b'a' => {
            let (_, after) = split_type(&sig[1..])?;
            let used = sig.len() - after.len();
            Some((&sig[..used], after))
        }
        open @ (b'(' | b'{') => {
            let close = if *open == b'(' { b')' } else { b'}' };
            let mut depth = 0usize;
            for (i, c) in sig.iter().enumerate() {
                if *c == *open {
                    depth += 1;
                } else if *c == close {
                    depth -= 1;
                    if depth == 0 {
                        return Some((&sig[..=i], &sig[i + 1..]));
                    }
                }
            }
            None
        }
        _ => Some((&sig[..1], &sig[1..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_read_as_dbus_writes_them() {
        assert_eq!(
            parse_addresses("unix:path=/run/user/1000/bus"),
            vec![Endpoint::Path("/run/user/1000/bus".into())]
        );
        assert_eq!(
            parse_addresses("unix:abstract=/tmp/dbus-x%2dy,guid=ab12;tcp:host=127.0.0.1,port=1"),
            vec![Endpoint::Abstract(b"/tmp/dbus-x-y".to_vec())]
        );
        assert!(parse_addresses("tcp:host=127.0.0.1,port=5").is_empty());
    }

    #[test]
    fn marshalled_values_read_back() {
        let mut w = W::default();
        w.u8(7);
        w.dict_ss(&[("service", "runcode"), ("account", "A")]);
        w.variant("s", |w| w.str("x"));
        w.align(8);
        w.str("/org/x");
        w.bytes(b"value");
        let mut r = R::new(&w.b);
        assert_eq!(r.u8(), Some(7));
        r.skip("a{ss}v").unwrap();
        r.align(8).unwrap();
        assert_eq!(r.str().as_deref(), Some("/org/x"));
        assert_eq!(r.bytes().as_deref(), Some(&b"value"[..]));
        assert_eq!(r.pos, w.b.len());
    }

    #[test]
    fn a_truncated_or_hostile_reply_is_refused_not_trusted() {
        let mut w = W::default();
        w.str("abc");
        let cut = &w.b[..5];
        assert_eq!(R::new(cut).str(), None);
        let huge = 0xffff_fff0u32.to_le_bytes();
        assert_eq!(R::new(&huge).bytes(), None);
        assert_eq!(R::new(&huge).paths().map(|p| p.len()), None);
        assert_eq!(split_type(b"a(ss"), None);
        // Variants inside variants, far deeper than D-Bus allows.
        let mut deep = Vec::new();
        for _ in 0..100_000 {
            deep.extend_from_slice(&[1, b'v', 0]);
        }
        assert_eq!(R::new(&deep).skip("v"), None);
    }
}
