//! R10: every command, on a failure path, under `--json`: exactly one JSON
//! object on stdout, a stable code from the documented list, and the
//! documented non-zero exit status. Nothing here needs a server: a missing
//! token, nothing attached, bad input and local conflicts are enough.

use crate::util::cli::Cli;

#[test]
fn every_command_fails_with_one_json_object_and_a_known_code() {
    let cli = Cli::bare("http://127.0.0.1:9");
    let claude = cli.tmp.path().join("claude");
    std::fs::create_dir_all(&claude).unwrap();
    std::fs::write(claude.join("settings.json"), "{ not json").unwrap();
    let link = cli.home.join(".local/bin/runcode");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::fs::write(&link, "foreign").unwrap();
    let cases: &[(&[&str], &str, i32)] = &[
        (&["login", "--paste"], "login_failed", 1),
        (&["list"], "no_token", 1),
        (&["list", "--bogus"], "usage", 2),
        (&["connect", "x"], "no_token", 1),
        (&["connect"], "usage", 2),
        (&["start", "x"], "no_token", 1),
        (&["stop"], "not_attached", 1),
        (&["current"], "not_attached", 1),
        (&["ssh", "1001"], "no_token", 1),
        (&["exec", "--", "true"], "not_attached", 1),
        (&["exec"], "usage", 2),
        (&["context"], "not_attached", 1),
        (&["clean"], "not_attached", 1),
        (&["put", "/no/such/file", "x"], "io", 1),
        (&["get", "x"], "not_attached", 1),
        (&["write", "x"], "not_attached", 1),
        (&["forward", "80"], "not_attached", 1),
        (&["config-ssh"], "no_token", 1),
        (&["proxy", "1001"], "no_token", 1),
        (&["proxy", "x"], "usage", 2),
        (&["install-path"], "conflict", 2),
        (&["open"], "not_attached", 1),
        (&["create"], "no_token", 1),
        (&["delete", "x"], "no_token", 1),
        (&["completions", "cmd.exe"], "usage", 2),
        (&["frobnicate"], "usage", 2),
    ];
    for (args, code, exit) in cases {
        let v = cli.fails(args, code, *exit);
        assert!(
            runcode::Code::ALL
                .iter()
                .any(|c| c.as_str() == v["error"].as_str().unwrap()),
            "{args:?}: {v}"
        );
    }
    let out = cli
        .cmd()
        .env("CLAUDE_CONFIG_DIR", &claude)
        .args(["--json", "install-statusline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"], "left_untouched");
    let mut insecure = Cli::bare("http://example.com");
    insecure.token = Some("t".to_owned());
    for args in [
        &["list"][..],
        &["connect", "x"],
        &["config-ssh"],
        &["login", "--no-browser"],
    ] {
        insecure.fails(args, "insecure_base", 2);
    }
    // Commands without a failure path here still answer with one object.
    for args in [
        &["status"][..],
        &["disconnect"],
        &["logout"],
        &["statusline"],
    ] {
        let (code, _) = cli.json(args);
        assert_eq!(code, 0, "{args:?}");
    }
}
