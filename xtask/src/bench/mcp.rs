//! P11: `runcode mcp`. An `exec` tool call on a warm session against
//! `runcode exec` of the same command (interleaved, one server kept open,
//! as a client keeps it), and a fresh server's start to its `initialize`
//! answer.

use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Sample, ms, ratio};

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;

/// The report lines. `runcode` makes a command of the CLI with its args.
pub fn p11(runcode: &dyn Fn(&[&str]) -> Command, runs: usize) -> Result<String, String> {
    // Start to the initialize answer, a fresh server each time.
    let mut starts = Sample { times: Vec::new() };
    for _ in 0..runs {
        let (mut child, mut input, mut output) = start(runcode)?;
        let started = Instant::now();
        send(&mut input, INIT)?;
        read_answer(&mut output)?;
        starts.times.push(started.elapsed());
        drop(input);
        let _ = child.wait();
    }

    // exec: one server kept open, against `runcode exec -- true`.
    let mut server = Server::open(runcode)?;
    let mut tool = Sample { times: Vec::new() };
    let mut cli = Sample { times: Vec::new() };
    for _ in 0..runs {
        tool.times.push(server.exec_true()?);
        let started = Instant::now();
        let status = runcode(&["exec", "--", "true"])
            .status()
            .map_err(|e| e.to_string())?;
        cli.times.push(started.elapsed());
        if !status.success() {
            return Err("runcode exec -- true failed".to_owned());
        }
    }
    server.close();
    Ok(format!(
        "| P11 | `exec` tool call of `runcode mcp` (`true`) on a warm session vs `runcode exec -- true` | {} ({} vs {}) | ≤ 1.05× |\n\
         | P11 | `runcode mcp` start to its `initialize` answer | {} median (range {}–{}) | ≤ 50 ms |",
        ratio(tool.median(), cli.median()),
        ms(tool.median()),
        ms(cli.median()),
        ms(starts.median()),
        ms(starts.min()),
        ms(starts.max()),
    ))
}

/// One `runcode mcp` kept open, as a client keeps it.
pub struct Server {
    child: std::process::Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    calls: usize,
}

impl Server {
    /// Starts the server and initializes the session.
    pub fn open(runcode: &dyn Fn(&[&str]) -> Command) -> Result<Server, String> {
        let (child, mut input, mut output) = start(runcode)?;
        send(&mut input, INIT)?;
        read_answer(&mut output)?;
        send(
            &mut input,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        )?;
        Ok(Server {
            child,
            input,
            output,
            calls: 0,
        })
    }

    /// One `exec` tool call of `true`, timed from the request to its answer.
    pub fn exec_true(&mut self) -> Result<Duration, String> {
        self.calls += 1;
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"tools/call","params":{{"name":"exec","arguments":{{"command":"true"}}}}}}"#,
            self.calls
        );
        let started = Instant::now();
        send(&mut self.input, &call)?;
        let answer = read_answer(&mut self.output)?;
        let took = started.elapsed();
        if !answer.contains("\"exit_status\":0") || answer.contains("\"isError\":true") {
            return Err(format!("the exec tool call failed: {answer}"));
        }
        Ok(took)
    }

    /// Closes stdin, as a client does, and waits for the server to end.
    pub fn close(mut self) {
        drop(self.input);
        let _ = self.child.wait();
    }
}

fn start(
    runcode: &dyn Fn(&[&str]) -> Command,
) -> Result<(std::process::Child, ChildStdin, BufReader<ChildStdout>), String> {
    let mut child = runcode(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("runcode mcp: {e}"))?;
    let input = child.stdin.take().ok_or("no stdin")?;
    let output = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    Ok((child, input, output))
}

fn send(input: &mut ChildStdin, line: &str) -> Result<(), String> {
    writeln!(input, "{line}")
        .and_then(|()| input.flush())
        .map_err(|e| e.to_string())
}

/// The next message with an id (an answer), skipping notifications.
fn read_answer(output: &mut BufReader<ChildStdout>) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        if output.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("runcode mcp closed its stdout".to_owned());
        }
        if line.contains("\"id\":") {
            return Ok(line);
        }
        if Instant::now() > deadline {
            return Err("no answer from runcode mcp".to_owned());
        }
    }
}
