//! A scripted stand-in for the model APIs on loopback, so the real Claude
//! Code and Codex clients can be driven offline turn by turn: Anthropic's
//! Messages API (`POST /v1/messages`, streamed as server-sent events) and
//! OpenAI's Responses API (`POST /v1/responses`, streamed). It records every
//! request, and answers each turn of the agent loop from a script: shell
//! tool calls, then a final text. A step may look at the request (the tool
//! results so far, the skills the client lists) to decide what to do.
//!
//! A request is a turn of the agent loop when it offers the client's shell
//! tool (`Bash` for Claude Code, `exec_command` for Codex); anything else
//! (a title, a summary, a quota probe) gets a short text and takes no step.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

/// What the model answers on one turn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Run this command line with the client's shell tool.
    Shell(String),
    /// Say this and end the turn.
    Text(String),
    /// Call another of the client's tools (Claude Code's `Skill`, say).
    Tool { name: String, input: Value },
}

/// One step of a script: the reply, given the request.
pub type Step = Box<dyn Fn(&Value) -> Reply + Send + Sync>;

/// A step that does not look at the request.
pub fn shell(command: &str) -> Step {
    let command = command.to_owned();
    Box::new(move |_| Reply::Shell(command.clone()))
}

/// A final text.
pub fn text(words: &str) -> Step {
    let words = words.to_owned();
    Box::new(move |_| Reply::Text(words.clone()))
}

#[derive(Default)]
struct State {
    script: VecDeque<Step>,
    requests: Vec<(String, Value)>,
    turns: Vec<Value>,
    failures: Vec<String>,
}

pub struct Model {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Model {
    pub fn start(script: Vec<Step>) -> Model {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the model server");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let ids = Arc::new(AtomicUsize::new(1));
        {
            let state = state.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let state = state.clone();
                            let ids = ids.clone();
                            std::thread::spawn(move || {
                                let _ = serve(stream, &state, &ids);
                            });
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            });
        }
        Model { port, state, stop }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request: its path and JSON body.
    pub fn requests(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The agent-loop requests, in order.
    pub fn turns(&self) -> Vec<Value> {
        self.state.lock().unwrap().turns.clone()
    }

    /// Steps not taken yet; panics with the message of a step that
    /// panicked.
    pub fn left(&self) -> usize {
        let s = self.state.lock().unwrap();
        assert!(
            s.failures.is_empty(),
            "a scripted step failed: {}",
            s.failures.join("; ")
        );
        s.script.len()
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, ids: &AtomicUsize) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let lower = header.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
                chunked = true;
            }
        }
        let body = if chunked {
            read_chunked(&mut reader)?
        } else {
            let mut body = vec![0; length];
            reader.read_exact(&mut body)?;
            body
        };
        let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let answer = answer(&path, &request, state, ids);
        writer.write_all(answer.as_bytes())?;
        writer.flush()?;
    }
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let n =
            usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        if n == 0 {
            let mut end = String::new();
            reader.read_line(&mut end)?;
            return Ok(body);
        }
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk)?;
        chunk.truncate(n);
        body.extend(chunk);
    }
}

/// The whole HTTP response for one request.
fn answer(path: &str, request: &Value, state: &Mutex<State>, ids: &AtomicUsize) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let mut s = state.lock().unwrap();
    s.requests.push((path.to_owned(), request.clone()));
    let offers = |name: &str| {
        request["tools"]
            .as_array()
            .is_some_and(|tools| tools.iter().any(|t| t["name"] == name))
    };
    let anthropic = path.ends_with("/messages");
    let openai = path.ends_with("/responses");
    if !anthropic && !openai {
        let body = if path.ends_with("/count_tokens") {
            json!({"input_tokens": 1})
        } else {
            json!({"data": []})
        };
        return http("application/json", &body.to_string());
    }
    let turn = (anthropic && offers("Bash")) || (openai && offers("exec_command"));
    let step = if turn {
        s.turns.push(request.clone());
        s.script.pop_front()
    } else {
        None
    };
    drop(s);
    let reply = match step {
        // A step that panics (a test's own check inside it) ends the turn
        // with a text and is reported by `left`, instead of breaking the
        // connection, which a client would retry for minutes.
        Some(step) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(request)))
            .unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a step panicked".to_owned());
                state.lock().unwrap().failures.push(message.clone());
                Reply::Text(format!("The scripted step failed: {message}"))
            }),
        None if turn => Reply::Text("Done.".to_owned()),
        None => Reply::Text("runcode".to_owned()),
    };
    let id = ids.fetch_add(1, Ordering::SeqCst);
    let streamed = request["stream"].as_bool().unwrap_or(false);
    if anthropic {
        if streamed {
            http("text/event-stream", &anthropic_events(&reply, id))
        } else {
            http(
                "application/json",
                &anthropic_message(&reply, id).to_string(),
            )
        }
    } else {
        http("text/event-stream", &openai_events(&reply, id))
    }
}

fn http(content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\ncache-control: no-cache\r\n\r\n{body}",
        body.len()
    )
}

fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn anthropic_block(reply: &Reply, id: usize) -> (Value, Value, &'static str) {
    match reply {
        Reply::Shell(command) => (
            json!({"type": "tool_use", "id": format!("toolu_{id:04}"), "name": "Bash", "input": {}}),
            json!({"type": "input_json_delta", "partial_json": json!({"command": command, "description": "run runcode"}).to_string()}),
            "tool_use",
        ),
        Reply::Text(words) => (
            json!({"type": "text", "text": ""}),
            json!({"type": "text_delta", "text": words}),
            "end_turn",
        ),
        Reply::Tool { name, input } => (
            json!({"type": "tool_use", "id": format!("toolu_{id:04}"), "name": name, "input": {}}),
            json!({"type": "input_json_delta", "partial_json": input.to_string()}),
            "tool_use",
        ),
    }
}

fn anthropic_events(reply: &Reply, id: usize) -> String {
    let (start, delta, stop) = anthropic_block(reply, id);
    let usage = json!({"input_tokens": 10, "output_tokens": 10, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    [
        event(
            "message_start",
            &json!({"type": "message_start", "message": {"id": format!("msg_{id:04}"), "type": "message", "role": "assistant", "model": "scripted", "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage}}),
        ),
        event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0, "content_block": start}),
        ),
        event(
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
        ),
        event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        event(
            "message_delta",
            &json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null}, "usage": {"output_tokens": 10}}),
        ),
        event("message_stop", &json!({"type": "message_stop"})),
    ]
    .concat()
}

fn anthropic_message(reply: &Reply, id: usize) -> Value {
    let content = match reply {
        Reply::Shell(command) => {
            json!([{"type": "tool_use", "id": format!("toolu_{id:04}"), "name": "Bash", "input": {"command": command}}])
        }
        Reply::Text(words) => json!([{"type": "text", "text": words}]),
        Reply::Tool { name, input } => {
            json!([{"type": "tool_use", "id": format!("toolu_{id:04}"), "name": name, "input": input}])
        }
    };
    json!({"id": format!("msg_{id:04}"), "type": "message", "role": "assistant", "model": "scripted",
        "content": content,
        "stop_reason": if matches!(reply, Reply::Text(_)) { "end_turn" } else { "tool_use" },
        "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 10}})
}

fn openai_events(reply: &Reply, id: usize) -> String {
    let item = match reply {
        Reply::Shell(command) => json!({
            "type": "function_call", "id": format!("fc_{id:04}"), "call_id": format!("call_{id:04}"),
            "name": "exec_command", "arguments": json!({"cmd": command}).to_string(), "status": "completed"
        }),
        Reply::Text(words) => json!({
            "type": "message", "id": format!("msg_{id:04}"), "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": words, "annotations": []}]
        }),
        // `namespace/tool`: a tool inside one of the request's namespaces
        // (Codex puts each MCP server's tools in one).
        Reply::Tool { name, input } => {
            let mut call = json!({
                "type": "function_call", "id": format!("fc_{id:04}"), "call_id": format!("call_{id:04}"),
                "name": name, "arguments": input.to_string(), "status": "completed"
            });
            if let Some((namespace, tool)) = name.split_once('/') {
                call["namespace"] = json!(namespace);
                call["name"] = json!(tool);
            }
            call
        }
    };
    let response = |status: &str, output: Value| {
        json!({"id": format!("resp_{id:04}"), "object": "response", "status": status, "model": "scripted",
            "output": output,
            "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 20}})
    };
    [
        event(
            "response.created",
            &json!({"type": "response.created", "response": response("in_progress", json!([]))}),
        ),
        event(
            "response.output_item.added",
            &json!({"type": "response.output_item.added", "output_index": 0, "item": item}),
        ),
        event(
            "response.output_item.done",
            &json!({"type": "response.output_item.done", "output_index": 0, "item": item}),
        ),
        event(
            "response.completed",
            &json!({"type": "response.completed", "response": response("completed", json!([item]))}),
        ),
    ]
    .concat()
}

/// The tool results a client sent back in an Anthropic request, in order:
/// the text of each `tool_result` block.
pub fn anthropic_tool_results(request: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for message in request["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                let text = match &block["content"] {
                    Value::String(s) => s.clone(),
                    Value::Array(parts) => parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect::<Vec<_>>()
                        .join(""),
                    _ => String::new(),
                };
                out.push(text);
            }
        }
    }
    out
}

/// Which of the tool results in an Anthropic request the client marked as
/// errors (a non-zero exit, a denial), in order.
pub fn anthropic_tool_errors(request: &Value) -> Vec<bool> {
    request["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["content"].as_array().cloned().unwrap_or_default())
        .filter(|b| b["type"] == "tool_result")
        .map(|b| b["is_error"].as_bool().unwrap_or(false))
        .collect()
}

/// The outputs a client sent back in an OpenAI Responses request.
pub fn openai_tool_results(request: &Value) -> Vec<String> {
    request["input"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| match &i["output"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}
