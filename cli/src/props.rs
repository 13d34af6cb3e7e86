//! Property tests for the parsers of untrusted text: whatever a server or a
//! workspace sends, they never panic, and what they let through keeps its
//! promise (no control bytes, only well-formed known_hosts lines).

use proptest::prelude::*;

use crate::{bundle, text};

proptest! {
    #[test]
    fn cleaning_leaves_no_control_characters(s in any::<String>()) {
        let shown = text::clean(&s, false);
        let c1 = '\u{80}'..='\u{9f}';
        prop_assert!(!shown.chars().any(|c| c.is_control() || c1.contains(&c)), "{:?}", shown);
        let line = text::one_line(&s);
        prop_assert!(line.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
    }

    #[test]
    fn known_hosts_normalisation_is_idempotent_and_three_fields(s in any::<String>()) {
        let once = bundle::normalise_known_hosts(&s);
        prop_assert_eq!(bundle::normalise_known_hosts(&once), once.clone());
        for line in once.lines() {
            prop_assert_eq!(line.split(' ').count(), 3);
        }
    }

    #[test]
    fn times_and_tripwires_never_panic(s in any::<String>()) {
        let _ = bundle::parse_time(&s);
        let _ = bundle::tripwire(&s);
    }

    #[test]
    fn any_json_bundle_validates_or_refuses(
        host in any::<String>(), user in any::<String>(), port in any::<i64>(), kh in any::<String>(), exp in any::<String>(), wd in any::<String>()
    ) {
        let value = serde_json::json!({"host": host, "user": user, "port": port, "known_hosts": kh, "expires_at": exp, "workdir": wd});
        if let Ok(b) = bundle::validate(&value) {
            prop_assert!(text::is_safe_host(&b.host) && text::is_safe_name(&b.user) && b.port > 0);
            prop_assert!(text::is_safe_workdir(&b.workdir));
        }
    }

    #[test]
    fn safe_quoting_round_trips_through_sh(s in "[ -~]{0,40}") {
        let quoted = text::shell_quote(&s);
        let out = std::process::Command::new("sh").arg("-c").arg(format!("printf %s {quoted}")).output().unwrap();
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), s);
    }
}

proptest! {
    #[test]
    fn the_managed_block_round_trips_any_config(original in any::<String>()) {
        let block = crate::sshconfig::render_block(&[]).unwrap();
        match crate::sshconfig::insert_block(&original, &block) {
            Ok(with) => prop_assert_eq!(crate::sshconfig::remove_block(&with).unwrap(), Some(original)),
            Err(_) => prop_assert!(crate::sshconfig::find_block(&original).is_err()),
        }
    }

    #[test]
    fn settings_edits_never_panic_and_keep_other_keys(text in any::<String>(), key in "[a-z]{1,8}") {
        let _ = crate::claude::edit(&text, "/bin/runcode", false, false);
        let doc = serde_json::json!({ key.clone(): 1 }).to_string();
        if let Ok(crate::claude::Edit::Write(new)) = crate::claude::edit(&doc, "/bin/runcode", false, false) {
            let v: serde_json::Value = serde_json::from_str(&new).unwrap();
            prop_assert_eq!(&v[key.as_str()], &serde_json::json!(1));
        }
    }

    #[test]
    fn status_line_stdin_of_any_shape_is_survived(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = crate::commands::statusline_dirs_from(&raw);
    }
}
