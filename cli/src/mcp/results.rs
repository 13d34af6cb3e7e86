//! Shaping answers: a call's result object or its failure object, the
//! refusals made before anything runs, and captured output as text or
//! base64 with the count of bytes dropped.

use base64::Engine as _;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};

use super::INPUT_LIMIT;
use super::child::{Captured, Outcome};
use crate::error::{Code, Error, failure_object};

/// The failure object of a call, if it failed.
pub(super) fn failure(outcome: &Outcome) -> Option<Value> {
    // `exec` tells of its run (`Output::details`) whatever its status: a
    // script's own non-zero status is still a failure here.
    let told_of_run = |r: &Value| r.get("run_id").is_some() && r.get("error").is_none();
    match &outcome.result {
        Some(r) if r.get("error").is_some() => Some(r.clone()),
        Some(r) if !told_of_run(r) || outcome.status == 0 => None,
        _ if outcome.status == 0 => None,
        _ => Some(failure_object(
            Code::Internal,
            &format!(
                "runcode ended with status {} and no result: {}",
                outcome.status,
                String::from_utf8_lossy(&outcome.stderr.bytes).trim()
            ),
        )),
    }
}

/// The result object as the command's `--json` gives it, or its failure.
pub(super) fn plain_result(outcome: &Outcome) -> CallToolResult {
    if let Some(failure) = failure(outcome) {
        return CallToolResult::structured_error(failure);
    }
    CallToolResult::structured(outcome.result.clone().unwrap_or_else(|| json!({})))
}

pub(super) fn refusal(error: &Error) -> CallToolResult {
    CallToolResult::structured_error(error.to_json())
}

/// This CLI could not be started for a call (`io`, as any program that
/// cannot be started).
pub(super) fn spawn_failed(e: std::io::Error) -> CallToolResult {
    refusal(&Error::Spawn {
        program: "runcode",
        source: e,
    })
}

/// A client that starts the server in the plugin's own folder (Codex does)
/// gives it no project directory: a relative local path would land in the
/// plugin, so it is refused.
pub(super) fn local_in_plugin(local: &str) -> Option<CallToolResult> {
    let in_plugin = [".codex-plugin", ".claude-plugin"]
        .iter()
        .any(|d| std::path::Path::new(d).is_dir());
    (in_plugin && std::path::Path::new(local).is_relative()).then(|| {
        refusal(&Error::Usage(format!(
            "{local:?} is relative, and this server runs in the plugin's folder: give an absolute local path"
        )))
    })
}

/// `usage` for an input over the limit, before anything runs.
pub(super) fn too_big(what: &str, bytes: &[u8]) -> Option<CallToolResult> {
    let len = bytes.len();
    (len > INPUT_LIMIT).then(|| {
        refusal(&Error::Usage(format!(
            "{what} is {len} bytes, over the {INPUT_LIMIT}-byte limit of a tool call: write it to a local file and copy it with `put`"
        )))
    })
}

/// Text when the kept bytes are UTF-8 (a character cut by the limit is
/// dropped whole), else base64; and the bytes dropped.
pub(super) fn encode(captured: &Captured) -> (String, &'static str, u64) {
    let bytes = &captured.bytes;
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), "utf-8", captured.dropped),
        Err(e) if e.error_len().is_none() && captured.dropped > 0 => {
            let valid = e.valid_up_to();
            let text = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            (
                text,
                "utf-8",
                captured.dropped + (bytes.len() - valid) as u64,
            )
        }
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(bytes),
            "base64",
            captured.dropped,
        ),
    }
}

/// `answer` with the values of the secrets the attached workspace may use
/// (every workspace's, when none is attached) replaced in every string.
pub(super) fn hidden(
    answer: rmcp::model::CallToolResponse,
    paths: &crate::paths::Paths,
) -> rmcp::model::CallToolResponse {
    let rmcp::model::CallToolResponse::Complete(result) = answer else {
        return answer;
    };
    let ws = crate::attach::read(paths).map_or(0, |a| a.id);
    let secrets = crate::redact::Secrets::new(crate::secrets::usable(paths, ws));
    if secrets.is_empty() {
        return rmcp::model::CallToolResponse::Complete(result);
    }
    let hidden = serde_json::to_value(&result)
        .ok()
        .map(|mut v| {
            hide_strings(&mut v, &secrets);
            v
        })
        .and_then(|v| serde_json::from_value::<CallToolResult>(v).ok());
    rmcp::model::CallToolResponse::Complete(hidden.unwrap_or_else(|| {
        // Never the unredacted answer.
        CallToolResult::structured_error(failure_object(
            Code::Internal,
            "the answer could not be checked for secrets, so it was withheld",
        ))
    }))
}

fn hide_strings(v: &mut Value, secrets: &crate::redact::Secrets) {
    match v {
        // A text that is JSON (a structured answer's text copy) is hidden
        // inside, where a value with a quote or backslash is unescaped.
        Value::String(s) => match serde_json::from_str::<Value>(s) {
            Ok(mut inner) if inner.is_object() || inner.is_array() => {
                hide_strings(&mut inner, secrets);
                *s = inner.to_string();
            }
            _ => *s = secrets.text(s),
        },
        Value::Array(items) => items.iter_mut().for_each(|i| hide_strings(i, secrets)),
        Value::Object(map) => map.values_mut().for_each(|i| hide_strings(i, secrets)),
        _ => {}
    }
}
