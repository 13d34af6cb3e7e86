//! The promise each parser of untrusted text keeps, written once as a
//! function of raw bytes that panics when the promise breaks. The property
//! tests (props.rs), the coverage-guided fuzz targets (`fuzz/`, run by
//! `cargo xtask fuzz`) and the replay of the fuzz corpus in the unit tests
//! all call these, so all three check the same thing (docs/quality.md R9).

use std::path::Path;

use crate::{plane::bundle, remote::sshconfig, text, wiring::claude};

/// A check: panics when the parser breaks its promise for these bytes.
pub type Check = fn(&[u8]);

/// Every target, by the name its fuzz target and corpus directory carry.
pub const TARGETS: [(&str, Check); 10] = [
    ("known_hosts", known_hosts),
    ("bundle_json", bundle_json),
    ("bundle_times", bundle_times),
    ("display_text", display_text),
    ("managed_block", managed_block),
    ("settings_json", settings_json),
    ("statusline_stdin", statusline_stdin),
    ("workspace_list", workspace_list),
    ("api_answer", api_answer),
    ("credential", credential),
];

/// The key the `credential` check's certificates are for: a fixed one, so
/// the committed corpus can hold certificates of it.
pub fn fuzz_key() -> ssh_key::PrivateKey {
    ssh_key::private::Ed25519Keypair::from_seed(&[7; 32]).into()
}

/// A credential field (the input is its certificate text, or a CA line)
/// is refused, or is one certificate line for exactly the fixed key and
/// user, valid now; the session never ends after the bundle says; and a CA
/// line is kept only as `@cert-authority <exactly the gateway> <key>`.
pub fn credential(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let key = fuzz_key();
    let now = 1_795_343_400;
    let field = serde_json::json!({"type": "certificate", "certificate": text});
    if let Ok(got) = crate::plane::credential::validate(&field, key.public_key(), "royal-tree", now)
    {
        let crate::plane::credential::Credential::Certificate { line, valid_before } = &got else {
            panic!("a certificate field gave {got:?}");
        };
        let body = line.strip_suffix('\n').expect("one line, ended");
        assert!(!body.chars().any(char::is_control), "{line:?}");
        let cert = ssh_key::Certificate::from_openssh(body).expect("parses again");
        assert_eq!(cert.public_key(), key.public_key().key_data());
        assert!(cert.valid_principals().iter().any(|p| p == "royal-tree"));
        assert!(*valid_before > now);
        assert!(got.session_end(now + 60) <= now + 60);
    }
    let kept = bundle::cert_authorities(&text, "gw.example", 2222);
    for line in kept.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 4, "{line:?}");
        assert_eq!(
            &fields[..2],
            ["@cert-authority", "[gw.example]:2222"],
            "{line:?}"
        );
    }
}

/// known_hosts normalisation keeps only `<pattern> <keytype> <base64>`
/// lines, and normalising twice changes nothing.
pub fn known_hosts(data: &[u8]) {
    let once = bundle::normalise_known_hosts(&String::from_utf8_lossy(data));
    assert_eq!(bundle::normalise_known_hosts(&once), once);
    for line in once.lines() {
        assert_eq!(line.split(' ').count(), 3, "{line:?}");
        assert!(
            line.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
            "{line:?}"
        );
    }
}

/// A bundle either is refused or yields values that, rendered into the
/// session's ssh config, add no directive and trip no wire (R2).
pub fn bundle_json(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(b) = bundle::validate(&value) else {
        return;
    };
    assert!(text::is_safe_host(&b.host) && text::is_safe_name(&b.user) && b.port > 0);
    assert!(text::is_safe_workdir(&b.workdir), "{:?}", b.workdir);
    assert!(!b.known_hosts.is_empty());
    if let Some(url) = &b.web_url {
        assert_no_credential(url);
    }
    let spec = sshconfig::Spec {
        alias: "runcode-fuzz",
        host: &b.host,
        port: b.port,
        user: &b.user,
        identity: Path::new("/k/id_ed25519"),
        certificate: None,
        known_hosts: Path::new("/k/known_hosts"),
        control_path: Some(Path::new("/tmp/runcode-0/ws-1")),
        persist: 300,
    };
    let config = sshconfig::render(&spec).expect("validated values always render");
    assert_eq!(bundle::tripwire(&config), None, "{config}");
    let keys: Vec<&str> = config
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        [
            "Host",
            "HostName",
            "Port",
            "User",
            "IdentityFile",
            "IdentitiesOnly",
            "UserKnownHostsFile",
            "GlobalKnownHostsFile",
            "StrictHostKeyChecking",
            "BatchMode",
            "ForwardAgent",
            "ForwardX11",
            "UpdateHostKeys",
            "ServerAliveInterval",
            "ServerAliveCountMax",
            "ConnectTimeout",
            "ControlMaster",
            "ControlPath",
            "ControlPersist",
        ],
        "{config}"
    );
}

/// A web address kept from a server: http(s), no control character, no
/// user or password, no `tkn` (nor `%` escapes) after `?` or `#`.
fn assert_no_credential(url: &str) {
    let lower = url.to_ascii_lowercase();
    assert!(
        lower.starts_with("https://") || lower.starts_with("http://"),
        "{url:?}"
    );
    assert!(!url.chars().any(char::is_control), "{url:?}");
    let tail = lower.split_once(['?', '#']).map_or("", |(_, t)| t);
    assert!(!tail.contains("tkn") && !tail.contains('%'), "{url:?}");
    let authority = lower
        .split("//")
        .nth(1)
        .and_then(|r| r.split(['/', '?', '#']).next());
    assert!(!authority.unwrap_or_default().contains('@'), "{url:?}");
}

/// Expiry times and the ssh_config tripwire take any text; a time that
/// parses is within the years ISO 8601 dates of four digits can say.
pub fn bundle_times(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Some(t) = bundle::parse_time(&s) {
        // Year 0000 to year 9999, give or take an offset of up to ±99:99.
        assert!(
            (-62_167_219_200 - 400_000..=253_402_300_800 + 400_000).contains(&t),
            "{t}"
        );
    }
    if let Some(line) = bundle::tripwire(&s) {
        assert!(s.lines().any(|l| l == line));
    }
}

/// Text from a server shown to a human carries no control character; a
/// comment line in an ssh config is one line of printable ASCII.
pub fn display_text(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    for keep_lines in [false, true] {
        let shown = text::clean(&s, keep_lines);
        assert!(
            !shown.chars().any(|c| {
                let allowed = keep_lines && (c == '\n' || c == '\t');
                !allowed && (c.is_control() || ('\u{80}'..='\u{9f}').contains(&c))
            }),
            "{shown:?}"
        );
    }
    let line = text::one_line(&s);
    assert!(
        line.bytes().all(|b| b.is_ascii_graphic() || b == b' '),
        "{line:?}"
    );
}

/// Adding the managed block to any config and taking it out again gives the
/// config back byte for byte (R8); a config whose markers are broken is
/// refused, never rewritten.
pub fn managed_block(data: &[u8]) {
    let original = String::from_utf8_lossy(data);
    let block = sshconfig::render_block(&[sshconfig::ManagedHost {
        title: "fuzz".into(),
        display: original.chars().take(40).collect(),
        id: 7,
        user: "dev".into(),
        proxy_command: "'/usr/bin/runcode' proxy 7".into(),
        identity: "/h/.cache/runcode/ws-7/id_ed25519".into(),
        pins: "/h/.cache/runcode/ws-7/pins".into(),
    }])
    .expect("plain paths render");
    match sshconfig::insert_block(&original, &block) {
        Ok(with) => {
            assert!(with.contains(&block));
            let back = sshconfig::remove_block(&with).expect("our own block is well formed");
            if sshconfig::find_block(&original)
                .expect("it was inserted")
                .is_none()
            {
                assert_eq!(back.as_deref(), Some(&*original));
            }
        }
        Err(_) => assert!(sshconfig::find_block(&original).is_err()),
    }
}

/// Editing Claude Code's settings.json: text that is not a JSON object is
/// never rewritten; an edit keeps every other key and its value.
pub fn settings_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let before: Option<serde_json::Map<String, serde_json::Value>> = if text.trim().is_empty() {
        Some(serde_json::Map::new())
    } else {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.as_object().cloned())
    };
    for (remove, force) in [(false, false), (false, true), (true, false)] {
        let edit = claude::edit(text, "/bin/runcode", remove, force);
        let Some(before) = &before else {
            assert!(edit.is_err(), "not an object, yet edited: {text:?}");
            continue;
        };
        if let Ok(claude::Edit::Write(new)) = edit {
            let after: serde_json::Value = serde_json::from_str(&new).expect("we write JSON");
            let after = after.as_object().expect("we write an object");
            for (key, value) in before.iter().filter(|(k, _)| *k != "statusLine") {
                assert_eq!(after.get(key), Some(value), "{key} changed");
            }
            assert_eq!(
                after.len(),
                before.len() + usize::from(!remove && !before.contains_key("statusLine"))
                    - usize::from(remove)
            );
        }
    }
}

/// The status line's stdin (JSON from Claude Code) of any shape is survived,
/// and only absolute paths are taken from it.
pub fn statusline_stdin(data: &[u8]) {
    for dir in crate::wiring::claude::statusline_dirs(data) {
        let s = dir.to_string_lossy();
        assert!(s.starts_with('/') || s.contains(":\\"), "{s:?}");
    }
}

/// A workspace list from the server (`{"owned": [...], "shared": [...]}`,
/// or one array): what is shown carries no control character or credential,
/// and each host config-ssh would write for it renders the documented
/// directives and nothing else, one `Host` line each.
pub fn workspace_list(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let empty = Vec::new();
    let (owned, shared) = match &value {
        serde_json::Value::Array(all) => (all, &empty),
        other => (
            other["owned"].as_array().unwrap_or(&empty),
            other["shared"].as_array().unwrap_or(&empty),
        ),
    };
    let list = crate::plane::workspaces::merge(owned, shared);
    let mut hosts = Vec::new();
    for w in &list {
        assert!(!w.display_name().chars().any(char::is_control), "{w:?}");
        if let Some(url) = &w.web_url {
            assert_no_credential(url);
        }
        let shown = w.to_json().to_string();
        assert!(!shown.contains('\u{1b}'), "{shown}");
        hosts.extend(crate::remote::sshconfig::managed_host(
            w,
            "'/usr/bin/runcode'",
            "",
            Path::new("/h/.cache/runcode/ws"),
        ));
    }
    let block = sshconfig::render_block(&hosts).expect("plain paths render");
    // Written out here, not taken from `sshconfig::HOST_DIRECTIVES`: the
    // check is an oracle of its own, so a directive added to the renderer
    // must be added here too, on purpose.
    let directives = [
        "Host",
        "HostName",
        "User",
        "ProxyCommand",
        "IdentityFile",
        "IdentitiesOnly",
        "UserKnownHostsFile",
        "GlobalKnownHostsFile",
        "StrictHostKeyChecking",
        "CheckHostIP",
        "ForwardAgent",
        "ForwardX11",
        "ServerAliveInterval",
        "ServerAliveCountMax",
        "ConnectTimeout",
    ];
    let mut host_lines = 0;
    for line in block.lines().filter(|l| !l.trim_start().starts_with('#')) {
        let key = line.split_whitespace().next().unwrap_or("");
        assert!(directives.contains(&key), "{key:?} in {block}");
        host_lines += usize::from(key == "Host");
    }
    assert_eq!(host_lines, hosts.len() + 1, "{block}");
    assert_eq!(sshconfig::find_block(&block), Ok(Some((0, block.len()))));
}

/// Any answer from the control plane (the first two bytes pick the status,
/// the rest is the body): a failure carries a documented code and a message
/// with no control character in it, whatever the server wrote.
pub fn api_answer(data: &[u8]) {
    let (head, body) = data.split_at(data.len().min(2));
    let pick = u16::from_le_bytes([
        head.first().copied().unwrap_or(0),
        head.get(1).copied().unwrap_or(0),
    ]);
    let status = 100 + pick % 500;
    let body = String::from_utf8_lossy(body);
    if let Err(e) =
        crate::plane::api::interpret(status, &body, "https://app.example/api", "/api/rc/x")
    {
        assert!(
            crate::Code::ALL.contains(&e.code()),
            "{status}: {:?}",
            e.code()
        );
        let message = e.to_string();
        assert!(
            !message
                .chars()
                .any(|c| c.is_control() || ('\u{80}'..='\u{9f}').contains(&c)),
            "{message:?}"
        );
    }
}

#[cfg(test)]
mod tests {
    /// Every input the fuzzers kept (`fuzz/corpus/<target>/`), replayed
    /// through the same checks on every test run, fuzzer or not.
    #[test]
    fn the_fuzz_corpus_replays_clean() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let mut seen = 0;
        for (name, check) in super::TARGETS {
            let dir = root.join(name);
            let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
            for entry in entries {
                let path = entry.unwrap().path();
                check(&std::fs::read(&path).unwrap());
                seen += 1;
            }
        }
        assert!(seen >= super::TARGETS.len(), "the corpus is empty");
    }

    use std::path::Path;
}
