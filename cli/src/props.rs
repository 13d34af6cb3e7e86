//! Property tests for the parsers of untrusted text: generated inputs, shaped
//! like what a server or a workspace sends, go through the same checks as the
//! fuzz targets (checks.rs), plus the round trip of shell quoting through sh.

use proptest::prelude::*;

use crate::checks;

proptest! {
    #[test]
    fn any_text_is_shown_safely_and_normalised_cleanly(s in any::<String>()) {
        checks::display_text(s.as_bytes());
        checks::known_hosts(s.as_bytes());
        checks::bundle_times(s.as_bytes());
        checks::managed_block(s.as_bytes());
        checks::statusline_stdin(s.as_bytes());
        checks::credential(s.as_bytes());
    }

    #[test]
    fn known_hosts_lines_of_near_valid_shape(
        lines in proptest::collection::vec(("[a-z0-9.:\\[\\]*]{0,12}", "(ssh-|ecdsa-|sk-|x)[a-z0-9@.-]{0,10}", "[A-Za-z0-9+/=]{0,24}", "[ \t]{1,2}"), 0..6)
    ) {
        let text: String = lines.iter().map(|(p, t, b, sp)| format!("{p}{sp}{t}{sp}{b}\n")).collect();
        checks::known_hosts(text.as_bytes());
    }

    #[test]
    fn any_json_bundle_validates_or_refuses(
        host in any::<String>(), user in any::<String>(), port in any::<i64>(), kh in any::<String>(),
        exp in any::<String>(), wd in any::<String>(), url in any::<String>(), cfg in any::<String>()
    ) {
        let value = serde_json::json!({"host": host, "user": user, "port": port, "known_hosts": kh,
            "expires_at": exp, "workdir": wd, "web_url": url, "ssh_config": cfg});
        checks::bundle_json(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn near_valid_bundles_validate_or_refuse(
        host in "[a-z0-9.:_\n -]{1,12}", user in "[a-z0-9._\n -]{1,12}", port in "[0-9]{1,6}",
        wd in "/[a-z./@+\n-]{0,12}", url in "(https?://|ftp://)[a-z.?&=\n]{0,16}"
    ) {
        let value = serde_json::json!({"host": host, "user": user, "port": port,
            "known_hosts": "h ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOIs",
            "expires_at": "2026-11-22T10:30:00+00:00", "workdir": wd, "web_url": url});
        checks::bundle_json(&serde_json::to_vec(&value).unwrap());
    }

    #[test]
    fn certificate_lines_of_near_valid_shape(
        kind in "(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa)(-cert-v01@openssh.com)?",
        blob in "AAAA[A-Za-z0-9+/]{0,200}={0,2}",
        comment in "[ -~]{0,12}",
        second in proptest::option::of("[ -~]{0,20}"),
    ) {
        let mut text = format!("{kind} {blob} {comment}");
        if let Some(more) = second {
            text = format!("{text}\n{more}");
        }
        checks::credential(text.as_bytes());
        checks::credential(format!("@cert-authority [gw.example]:2222 {kind} {blob}").as_bytes());
    }

    #[test]
    fn times_of_near_valid_shape(s in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\\.[0-9]{1,3})?(Z|[+-][0-9]{2}:?[0-9]{2})?") {
        checks::bundle_times(s.as_bytes());
    }

    // The quoting is for the workspace's POSIX shell; Windows has no `sh`.
    #[cfg(unix)]
    #[test]
    fn safe_quoting_round_trips_through_sh(s in "[ -~]{0,40}") {
        let quoted = crate::text::shell_quote(&s);
        let out = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {quoted}")).output().unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), s);
    }
}

proptest! {
    #[test]
    fn the_managed_block_round_trips_configs_with_markers(
        parts in proptest::collection::vec(prop_oneof![
            Just(crate::remote::sshconfig::BEGIN.to_owned()), Just(crate::remote::sshconfig::END.to_owned()),
            "[ -~]{0,20}", Just(String::new())
        ], 0..8),
        crlf in any::<bool>()
    ) {
        let text = parts.join(if crlf { "\r\n" } else { "\n" });
        checks::managed_block(text.as_bytes());
    }

    #[test]
    fn settings_edits_keep_other_keys(text in any::<String>(), key in "[a-zA-Z]{1,10}", value in any::<i64>(), ours in any::<bool>()) {
        checks::settings_json(text.as_bytes());
        let status = if ours { "/x/runcode statusline" } else { "other-tool" };
        let doc = serde_json::json!({ key.clone(): value, "statusLine": {"type": "command", "command": status} });
        checks::settings_json(doc.to_string().as_bytes());
        checks::settings_json(serde_json::json!({ key: value }).to_string().as_bytes());
    }

    #[test]
    fn status_line_stdin_of_any_shape_is_survived(
        raw in proptest::collection::vec(any::<u8>(), 0..256), cwd in any::<String>(), dir in any::<String>()
    ) {
        checks::statusline_stdin(&raw);
        let doc = serde_json::json!({"cwd": cwd, "workspace": {"current_dir": dir, "project_dir": "/p"}});
        checks::statusline_stdin(doc.to_string().as_bytes());
    }
}
