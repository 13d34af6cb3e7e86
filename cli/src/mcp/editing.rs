//! The tools that let an agent edit and navigate the workspace as it does
//! its own disk with its client's Read, Edit, Grep and Glob: `edit_file`
//! (an exact replacement, guarded and atomic), `search` and `list_files`.
//! `read_file`'s paging by lines lives here too. Each runs one CLI command,
//! like every tool; the remote side is POSIX sh, grep, find and awk.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::{tool, tool_router};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::INPUT_LIMIT;
use super::args::{EditArgs, ListFilesArgs, SearchArgs};
use super::child::{Call, Outcome};
use super::results::{encode, failure, refusal, spawn_failed, too_big};
use super::server::Server;
use crate::error::{Code, Error, failure_object};
use crate::remote::scripts::{self, status};

/// The longest line `read_file` returns whole, in characters (as the
/// clients' own Read tools cut).
const LINE_CUT: usize = 2000;
/// Lines `read_file` returns when a page names no `limit`.
pub(super) const PAGE_LINES: u64 = 2000;
/// The changed lines `edit_file` shows, at most.
const DIFF_LINES: usize = 40;

impl Server {
    /// Runs `script` on the workspace through `exec`, keeping `keep` bytes.
    async fn script(
        &self,
        script: &str,
        keep: usize,
        ct: CancellationToken,
    ) -> Result<Outcome, CallToolResult> {
        let call = Call {
            keep,
            ..Call::new(&["exec", "--", script])
        };
        let outcome = self
            .runner
            .run(call, ct, |_| {})
            .await
            .map_err(spawn_failed)?;
        if outcome.status == status::MISSING {
            let why = String::from_utf8_lossy(&outcome.stderr.bytes)
                .trim()
                .to_owned();
            return Err(CallToolResult::structured_error(failure_object(
                Code::NotFound,
                &why,
            )));
        }
        if let Some(f) = failure(&outcome) {
            return Err(CallToolResult::structured_error(f));
        }
        Ok(outcome)
    }

    /// `read_file` with `offset`/`limit`: numbered lines, as `cat -n` and the
    /// clients' Read tools number them.
    pub(super) async fn read_lines(
        &self,
        path: &str,
        offset: u64,
        limit: u64,
        ct: CancellationToken,
    ) -> CallToolResult {
        let first = offset.max(1);
        let last = first.saturating_add(limit.max(1)) - 1;
        let (first_arg, last_arg, cut) =
            (first.to_string(), last.to_string(), LINE_CUT.to_string());
        let script = scripts::line(scripts::READ_LINES, &[path, &first_arg, &last_arg, &cut]);
        let outcome = match self.script(&script, super::READ_KEEP, ct).await {
            Ok(o) => o,
            Err(refused) => return refused,
        };
        let total: u64 = String::from_utf8_lossy(&outcome.stderr.bytes)
            .lines()
            .last()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or(0);
        let (content, encoding, dropped) = encode(&outcome.stdout);
        // A page cut by the size limit ends at its last whole line.
        let (content, shown_last) = if dropped > 0 {
            let whole = content.rfind('\n').map_or("", |i| &content[..=i]);
            let n = whole
                .lines()
                .last()
                .and_then(|l| l.trim_start().split('\t').next())
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(first.saturating_sub(1));
            (whole.to_owned(), n)
        } else {
            (content, last.min(total))
        };
        let next = (shown_last < total).then_some(shown_last + 1);
        CallToolResult::structured(json!({
            "path": path,
            "content": content,
            "encoding": encoding,
            "offset": first,
            "lines": shown_last.saturating_sub(first - 1),
            "total_lines": total,
            "next_offset": next,
        }))
    }
}

#[tool_router(router = editing_router, vis = "pub(super)")]
impl Server {
    #[tool(
        description = "Edit a file on the attached workspace by replacing an exact string (`old_string`, which must occur exactly once unless `replace_all`) with `new_string`. Refuses when the string is missing or not unique: read the file and give more context. The file is replaced atomically, keeps its mode, and only if it did not change since it was read. Returns the changed lines.",
        annotations(
            title = "Edit a workspace file",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    async fn edit_file(
        &self,
        Parameters(a): Parameters<EditArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if a.old_string.is_empty() {
            return refusal(&Error::Usage(
                "old_string is empty: to create a file use write_file".to_owned(),
            ));
        }
        if a.old_string == a.new_string {
            return refusal(&Error::Usage(
                "old_string and new_string are the same: nothing to change".to_owned(),
            ));
        }
        let call = Call {
            keep: INPUT_LIMIT + 1,
            ..Call::new(&["get", "--", &a.path])
        };
        let outcome = match self.runner.run(call, ct.clone(), |_| {}).await {
            Ok(o) => o,
            Err(e) => return spawn_failed(e),
        };
        if let Some(f) = failure(&outcome) {
            return CallToolResult::structured_error(f);
        }
        if outcome.stdout.dropped > 0 || outcome.stdout.bytes.len() > INPUT_LIMIT {
            return refusal(&Error::Usage(format!(
                "{} is over {INPUT_LIMIT} bytes: edit it with exec, or get, edit and put it",
                a.path
            )));
        }
        let before = &outcome.stdout.bytes;
        let Ok(text) = std::str::from_utf8(before) else {
            return refusal(&Error::Usage(format!(
                "{} is not UTF-8 text: use write_file with base64, or put",
                a.path
            )));
        };
        let found = text.matches(a.old_string.as_str()).count();
        if found == 0 {
            return refusal(&Error::Usage(format!(
                "old_string was not found in {}: read the file (read_file) and copy the text exactly, whitespace included",
                a.path
            )));
        }
        if found > 1 && !a.replace_all {
            return refusal(&Error::Usage(format!(
                "old_string occurs {found} times in {}: add surrounding lines to make it unique, or set replace_all",
                a.path
            )));
        }
        let after = text.replace(a.old_string.as_str(), &a.new_string);
        if let Some(refused) = too_big("the edited file", after.as_bytes()) {
            return refused;
        }
        let expect = crate::remote::transfer::posix_cksum(before);
        let call = Call {
            stdin: Some(after.clone().into_bytes()),
            ..Call::new(&["write", "--expect-cksum", &expect, "--", &a.path])
        };
        let written = match self.runner.run(call, ct, |_| {}).await {
            Ok(o) => o,
            Err(e) => return spawn_failed(e),
        };
        if let Some(f) = failure(&written) {
            return CallToolResult::structured_error(f);
        }
        CallToolResult::structured(json!({
            "path": written.result.as_ref().and_then(|r| r.get("path")).cloned().unwrap_or_else(|| json!(a.path)),
            "replacements": found,
            "diff": changed_lines(text, &after, DIFF_LINES),
        }))
    }

    #[tool(
        description = "Search the files of the attached workspace for a regular expression (extended, as `grep -E`), like a Grep tool: returns matching lines as `path:line:text`, binary files and .git skipped. `path` narrows it (default the project directory), `glob` filters file names (`*.rs`).",
        annotations(
            title = "Search workspace files",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn search(
        &self,
        Parameters(a): Parameters<SearchArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        if a.pattern.is_empty() {
            return refusal(&Error::Usage("pattern is empty".to_owned()));
        }
        let max = a.max_results.clamp(1, 1000);
        let limit = (max + 1).to_string();
        let script = scripts::line(
            scripts::SEARCH,
            &[
                if a.path.is_empty() { "." } else { &a.path },
                &a.pattern,
                &limit,
                if a.ignore_case { "i" } else { "" },
                &a.glob,
            ],
        );
        let outcome = match self.script(&script, super::READ_KEEP, ct).await {
            Ok(o) => o,
            Err(refused) => return refused,
        };
        let (text, _, dropped) = encode(&outcome.stdout);
        let mut lines: Vec<&str> = text.lines().collect();
        let truncated = lines.len() as u64 > max || dropped > 0;
        lines.truncate(usize::try_from(max).unwrap_or(usize::MAX));
        let errors = String::from_utf8_lossy(&outcome.stderr.bytes)
            .trim()
            .to_owned();
        CallToolResult::structured(json!({
            "matches": lines,
            "count": lines.len(),
            "truncated": truncated,
            "errors": errors,
        }))
    }

    #[tool(
        description = "List files and directories on the attached workspace, like a Glob tool: paths under `path` (default the project directory) down to `depth` levels (default 2), directories ending in `/`, .git and node_modules not entered.",
        annotations(
            title = "List workspace files",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    async fn list_files(
        &self,
        Parameters(a): Parameters<ListFilesArgs>,
        ct: CancellationToken,
    ) -> CallToolResult {
        let depth = a.depth.clamp(1, 20);
        let max = a.max_results.clamp(1, 5000);
        let (depth, limit) = (depth.to_string(), (max + 1).to_string());
        let script = scripts::line(
            scripts::LIST_FILES,
            &[
                if a.path.is_empty() { "." } else { &a.path },
                &depth,
                &limit,
            ],
        );
        let outcome = match self.script(&script, 256 * 1024, ct).await {
            Ok(o) => o,
            Err(refused) => return refused,
        };
        let (text, _, dropped) = encode(&outcome.stdout);
        let mut paths: Vec<&str> = text.lines().collect();
        let truncated = paths.len() as u64 > max || dropped > 0;
        paths.truncate(usize::try_from(max).unwrap_or(usize::MAX));
        CallToolResult::structured(json!({
            "paths": paths,
            "count": paths.len(),
            "truncated": truncated,
        }))
    }
}

/// The lines that differ between `before` and `after`, as `-N: old` and
/// `+N: new` with their line numbers, from the first differing line to the
/// last (the common head and tail left out), at most `max` lines.
pub(super) fn changed_lines(before: &str, after: &str, max: usize) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let head = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = Vec::new();
    for (i, l) in old[head..old.len() - tail].iter().enumerate() {
        out.push(format!("-{}: {l}", head + i + 1));
    }
    for (i, l) in new[head..new.len() - tail].iter().enumerate() {
        out.push(format!("+{}: {l}", head + i + 1));
    }
    let more = out.len().saturating_sub(max);
    out.truncate(max);
    if more > 0 {
        out.push(format!("... {more} more changed lines"));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::changed_lines;

    #[test]
    fn only_the_changed_lines_are_shown_with_their_numbers() {
        let before = "a\nb\nc\nd\n";
        assert_eq!(changed_lines(before, "a\nB\nc\nd\n", 40), "-2: b\n+2: B");
        assert_eq!(
            changed_lines(before, "a\nb\nx\ny\nc\nd\n", 40),
            "+3: x\n+4: y"
        );
        assert_eq!(changed_lines(before, "a\nd\n", 40), "-2: b\n-3: c");
        assert_eq!(
            changed_lines("1\n2\n3\n", "x\ny\nz\n", 2),
            "-1: 1\n-2: 2\n... 4 more changed lines"
        );
    }
}
