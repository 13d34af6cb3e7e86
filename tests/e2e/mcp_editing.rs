//! The MCP editing tools against the devplane, as an agent uses them in
//! place of its client's own Read, Edit, Grep and Glob: paging, guarded
//! edits, search and listing, hostile text kept literal.

use super::mcp::{attached, ok, refused};
use crate::util::mcp::Raw;
use serde_json::{Value, json};

/// The editing tools against a real file on the workspace: paging by lines
/// with numbers, an exact unique replacement (refused when missing or not
/// unique, and when the file changed under it), search and listing.
#[test]
fn the_editing_tools_edit_page_search_and_list_like_the_clients_own() {
    let (_dp, _cli, workdir, mut raw) = attached();
    // 2,000 lines of 64 bytes: more than one 64 KiB answer.
    let pad = "x".repeat(40);
    let lines: String = (1..=2000)
        .map(|i| format!("line {i:>4} of the file {pad}\n"))
        .collect();
    std::fs::create_dir_all(workdir.join("src")).unwrap();
    let file = workdir.join("src/big.txt");
    std::fs::write(&file, &lines).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o750)).unwrap();

    let page = raw.call(
        "read_file",
        &json!({"path": "src/big.txt", "offset": 1999, "limit": 5}),
    );
    let page = ok(&page);
    assert_eq!(
        page["content"],
        format!("  1999\tline 1999 of the file {pad}\n  2000\tline 2000 of the file {pad}\n")
    );
    assert_eq!(
        (&page["total_lines"], &page["next_offset"]),
        (&json!(2000), &Value::Null)
    );
    let first = raw.call("read_file", &json!({"path": "src/big.txt", "limit": 10}));
    assert_eq!(ok(&first)["next_offset"], 11, "{first}");
    let whole = raw.call("read_file", &json!({"path": "src/big.txt", "offset": 1}));
    let whole = ok(&whole);
    assert!(
        whole["next_offset"]
            .as_u64()
            .is_some_and(|n| n > 1 && n <= 2000),
        "cut at 64 KiB on a whole line: {}",
        whole["next_offset"]
    );
    assert!(
        whole["content"]
            .as_str()
            .unwrap()
            .ends_with(&format!(" of the file {pad}\n"))
    );
    refused(
        &raw.call("read_file", &json!({"path": "src/none.txt", "offset": 1})),
        "not_found",
    );

    let edited = raw.call(
        "edit_file",
        &json!({"path": "src/big.txt", "old_string": "line 1000 of the file", "new_string": "line 1000 was edited"}),
    );
    let edited = ok(&edited);
    assert_eq!(edited["replacements"], 1);
    assert_eq!(
        edited["diff"],
        format!("-1000: line 1000 of the file {pad}\n+1000: line 1000 was edited {pad}")
    );
    let now = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        now,
        lines.replace("line 1000 of the file", "line 1000 was edited")
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o750,
        "the file keeps its mode"
    );
    refused(
        &raw.call(
            "edit_file",
            &json!({"path": "src/big.txt", "old_string": "no such text", "new_string": "x"}),
        ),
        "usage",
    );
    let many = raw.call(
        "edit_file",
        &json!({"path": "src/big.txt", "old_string": "of the file", "new_string": "x"}),
    );
    refused(&many, "usage");
    assert!(
        many["structuredContent"]["message"]
            .as_str()
            .unwrap()
            .contains("1999 times"),
        "{}",
        many["structuredContent"]["message"]
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        now,
        "a refused edit changes nothing"
    );
    let all = raw.call(
        "edit_file",
        &json!({"path": "src/big.txt", "old_string": "of the file", "new_string": "in the file", "replace_all": true}),
    );
    assert_eq!(ok(&all)["replacements"], 1999);
    assert!(
        ok(&all)["diff"]
            .as_str()
            .unwrap()
            .ends_with("more changed lines")
    );

    let found = raw.call(
        "search",
        &json!({"pattern": "line 10+ was", "glob": "*.txt"}),
    );
    assert_eq!(
        ok(&found)["matches"],
        json!([format!("./src/big.txt:1000:line 1000 was edited {pad}")]),
        "{found}"
    );
    let none = raw.call("search", &json!({"pattern": "absent-text"}));
    assert_eq!(ok(&none)["count"], 0, "no match is an empty answer: {none}");
    let listed = raw.call("list_files", &json!({}));
    assert_eq!(
        ok(&listed)["paths"],
        json!(["./src/", "./src/big.txt"]),
        "{listed}"
    );
    raw.close();
}

/// The edit is guarded: a file that changes between the read and the
/// write is left as the other writer made it (the guarded write itself,
/// through the CLI, since the window is milliseconds wide).
#[test]
fn a_guarded_write_refuses_a_file_that_changed() {
    let (_dp, cli, workdir, _raw) = attached();
    std::fs::write(workdir.join("g.txt"), "changed by someone else\n").unwrap();
    let out = cli
        .cmd()
        .args(["--json", "write", "--expect-cksum", "1 2", "--", "g.txt"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    let failure: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        failure["error"],
        "changed_since_read",
        "{}",
        crate::util::both(&out)
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("g.txt")).unwrap(),
        "changed by someone else\n"
    );
    assert!(
        std::fs::read_dir(&workdir)
            .unwrap()
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains("runcode-tmp")),
        "no temporary file left"
    );
}

/// What a model sends and receives to change one line of a 2,000-line
/// file: found with `search` and changed with `edit_file`, against read
/// whole (by pages) and rewritten with `write_file`. Prints both (docs/mcp.md
/// has the figures) and holds the edit to a tenth of the rewrite.
#[test]
#[allow(clippy::print_stderr, reason = "the figures docs/mcp.md quotes")]
fn changing_one_line_costs_a_fraction_of_rewriting_the_file() {
    let (_dp, _cli, workdir, mut raw) = attached();
    let pad = "x".repeat(40);
    let lines: String = (1..=2000)
        .map(|i| format!("line {i:>4} of the file {pad}\n"))
        .collect();
    let bytes = |raw: &mut Raw, tool: &str, args: Value, total: &mut (usize, usize)| {
        let result = raw.call(tool, &args);
        assert_ne!(result["isError"], true, "{tool}");
        total.0 += json!({"name": tool, "arguments": args}).to_string().len();
        total.1 += result.to_string().len();
        result
    };

    std::fs::write(workdir.join("a.txt"), &lines).unwrap();
    let mut edit = (0, 0);
    bytes(
        &mut raw,
        "search",
        json!({"pattern": "line 1234 ", "path": "a.txt"}),
        &mut edit,
    );
    bytes(
        &mut raw,
        "edit_file",
        json!({"path": "a.txt", "old_string": "line 1234 of the file", "new_string": "line 1234 is changed"}),
        &mut edit,
    );

    std::fs::write(workdir.join("b.txt"), &lines).unwrap();
    let mut write = (0, 0);
    let mut content = String::new();
    let mut offset = Some(1);
    while let Some(at) = offset {
        let page = bytes(
            &mut raw,
            "read_file",
            json!({"path": "b.txt", "offset": at}),
            &mut write,
        );
        let text = page["structuredContent"]["content"].as_str().unwrap();
        for l in text.lines() {
            content.push_str(l.split_once('\t').unwrap().1);
            content.push('\n');
        }
        offset = page["structuredContent"]["next_offset"].as_u64();
    }
    let changed = content.replace("line 1234 of the file", "line 1234 is changed");
    bytes(
        &mut raw,
        "write_file",
        json!({"path": "b.txt", "content": changed}),
        &mut write,
    );

    let want = lines.replace("line 1234 of the file", "line 1234 is changed");
    assert_eq!(
        std::fs::read_to_string(workdir.join("a.txt")).unwrap(),
        want
    );
    assert_eq!(
        std::fs::read_to_string(workdir.join("b.txt")).unwrap(),
        want
    );
    eprintln!(
        "one line of 2,000: edit_file sends {} and receives {} bytes; write_file sends {} and receives {}",
        edit.0, edit.1, write.0, write.1
    );
    assert!(
        (edit.0 + edit.1) * 10 < write.0 + write.1,
        "edit {edit:?} against write {write:?}"
    );
    raw.close();
}

/// Paths, patterns and globs reach the remote shell as literal text: a
/// command substitution, quotes and a leading `-` run nothing and are
/// never read as options.
#[test]
fn the_editing_tools_keep_hostile_text_literal() {
    let (_dp, _cli, workdir, mut raw) = attached();
    std::fs::write(
        workdir.join("-rf"),
        "a $(touch pwned) line\nx'; touch pwned2; echo '\n",
    )
    .unwrap();
    let found = raw.call(
        "search",
        &json!({"pattern": "$(touch pwned)", "path": "-rf"}),
    );
    assert_eq!(ok(&found)["count"], 0, "a regex, not a command: {found}");
    let found = raw.call(
        "search",
        &json!({"pattern": "touch pwned2", "glob": "*'; touch pwned3; echo '"}),
    );
    assert_eq!(ok(&found)["count"], 0, "{found}");
    let found = raw.call("search", &json!({"pattern": "touch pwned2", "path": "-rf"}));
    assert_eq!(ok(&found)["count"], 1, "{found}");
    let page = raw.call(
        "read_file",
        &json!({"path": "-rf", "offset": 1, "limit": 1}),
    );
    assert_eq!(ok(&page)["content"], "     1\ta $(touch pwned) line\n");
    let listed = raw.call("list_files", &json!({"path": "$(touch pwned4)"}));
    refused(&listed, "not_found");
    let edited = raw.call(
        "edit_file",
        &json!({"path": "-rf", "old_string": "$(touch pwned)", "new_string": "`touch pwned5`"}),
    );
    assert_eq!(ok(&edited)["replacements"], 1, "{edited}");
    assert!(
        std::fs::read_to_string(workdir.join("-rf"))
            .unwrap()
            .starts_with("a `touch pwned5` line\n")
    );
    for marker in ["pwned", "pwned2", "pwned3", "pwned4", "pwned5"] {
        assert!(!workdir.join(marker).exists(), "{marker} was run");
    }
    raw.close();
}
