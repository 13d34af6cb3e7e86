//! Ctrl-C. A terminal sends SIGINT to the whole foreground process group, so
//! an ssh the CLI is running gets it too and ends by itself; the CLI notes the
//! interrupt, waits for that ssh, cleans up (the remote command included, see
//! `remote`), and exits 130 with the `interrupted` error. When no child runs,
//! the handler removes the temporary files registered with `TempGuard`,
//! reports `interrupted` and exits 130 at once. A stop file
//! (`RUNCODE_STOP_FILE`) is the same Ctrl-C for a parent that cannot signal
//! (`runcode mcp` on Windows).

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::output::Output;

/// Set by the handler thread.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Set inside the signal handler itself (Unix), so it is already true when a
/// child that got the same Ctrl-C is seen to exit.
static SIGNALLED: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// The pid of the child the CLI is waiting for (0: none).
static CHILD: AtomicU32 = AtomicU32::new(0);
/// Whether Ctrl-C is passed on to that child: not to a clean-up started
/// after the interrupt (the handler thread may run late, after the
/// interrupted child is gone and the clean-up has taken its place).
static FORWARD: AtomicBool = AtomicBool::new(false);
/// How many regions of the main thread are handling Ctrl-C themselves
/// (`Handled`): while one is open the handler only notes the interrupt.
static HANDLED: AtomicU32 = AtomicU32::new(0);
/// Temporary files and directories to remove if Ctrl-C ends the process.
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Held across a spawn and the recording of its pid, and by the handler
/// while it decides: a child started just as Ctrl-C arrives is either never
/// started or handed the signal, never orphaned by the CLI's exit.
static SPAWN: Mutex<()> = Mutex::new(());

/// The variable naming a file whose appearance is this process's Ctrl-C:
/// how `runcode mcp` interrupts a call on Windows, where it has no signal for
/// one process (docs/mcp.md). The file's directory vanishing counts too: the
/// server that made it has gone.
pub const STOP_FILE_VAR: &str = "RUNCODE_STOP_FILE";

/// Installs the handler; `out` renders the `interrupted` failure.
pub fn install(out: Output) {
    let _ = ctrlc::set_handler(move || on_interrupt(out, false));
    install_flag();
    if let Some(path) = std::env::var_os(STOP_FILE_VAR)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
    {
        watch(path, out);
    }
}

/// What Ctrl-C does, from the console or from the stop file (`stopped`):
/// the child being waited for is ended and the main thread cleans up, or,
/// with nothing running, the process exits here.
fn on_interrupt(out: Output, stopped: bool) {
    let _spawning = SPAWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    INTERRUPTED.store(true, Ordering::SeqCst);
    let child = CHILD.load(Ordering::SeqCst);
    if child != 0 {
        // `kill -INT <runcode>` or the stop file reach only the CLI: pass it
        // on, so the child ends as it would under a terminal's Ctrl-C.
        if FORWARD.load(Ordering::SeqCst) {
            forward(child, stopped);
        }
        return;
    }
    if HANDLED.load(Ordering::SeqCst) > 0 {
        // Between two children of a remote operation: the main thread
        // sees the flag and ends the remote command before it exits.
        return;
    }
    remove_temps();
    out.failure(&Error::Interrupted);
    std::process::exit(130);
}

/// Polls for the stop file (ten times a second) on a thread of its own;
/// its directory gone, or (on Unix) the parent gone, count as the file.
fn watch(path: PathBuf, out: Output) {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from);
    // The server that started this call dying outright (SIGKILL, or a
    // SIGTERM it did not survive) leaves the file unmade: on Unix this
    // process is then handed to another parent, which counts too.
    #[cfg(unix)]
    let parent = std::os::unix::process::parent_id();
    let orphaned = move || {
        #[cfg(unix)]
        return std::os::unix::process::parent_id() != parent;
        #[cfg(not(unix))]
        false
    };
    let _ = std::thread::Builder::new()
        .name("stop-file".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_millis(100));
                if path.exists() || dir.as_ref().is_some_and(|d| !d.exists()) || orphaned() {
                    on_interrupt(out, true);
                    return;
                }
            }
        });
}

/// True once Ctrl-C (SIGINT) arrived.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst) || SIGNALLED.get().is_some_and(|f| f.load(Ordering::SeqCst))
}

/// `Err(Interrupted)` once Ctrl-C arrived.
pub fn check() -> Result<()> {
    if interrupted() {
        Err(Error::Interrupted)
    } else {
        Ok(())
    }
}

/// While the guard lives, the main thread handles Ctrl-C itself: it checks
/// `interrupted` after each child and cleans up (the remote command above
/// all) before it exits, so the handler must not end the process under it.
pub struct Handled(());

pub fn handled() -> Handled {
    HANDLED.fetch_add(1, Ordering::SeqCst);
    Handled(())
}

impl Drop for Handled {
    fn drop(&mut self) {
        HANDLED.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Marks a child as the one being waited for until the guard drops: Ctrl-C
/// then waits for it instead of ending the CLI.
pub struct ChildGuard(());

/// Starts `cmd` (`program` names it in errors) as the child Ctrl-C waits
/// for; refused once Ctrl-C has arrived.
pub fn spawn(cmd: &mut Command, program: &'static str) -> Result<(Child, ChildGuard)> {
    let _spawning = SPAWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    check()?;
    start(cmd, program, true)
}

/// Starts a clean-up after Ctrl-C (ending the remote command): allowed
/// after the interrupt, and itself waited for.
pub fn spawn_cleanup(cmd: &mut Command, program: &'static str) -> Result<(Child, ChildGuard)> {
    let _spawning = SPAWN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    start(cmd, program, false)
}

fn start(cmd: &mut Command, program: &'static str, forward: bool) -> Result<(Child, ChildGuard)> {
    let child = cmd.spawn().map_err(Error::spawn(program))?;
    FORWARD.store(forward, Ordering::SeqCst);
    CHILD.store(child.id(), Ordering::SeqCst);
    Ok((child, ChildGuard(())))
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        CHILD.store(0, Ordering::SeqCst);
    }
}

/// A temporary path that is removed when the guard drops without `keep`,
/// and by the handler if Ctrl-C ends the process first.
pub struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl TempGuard {
    pub fn new(path: PathBuf) -> TempGuard {
        lock().push(path.clone());
        TempGuard { path, armed: true }
    }

    /// The path was renamed into place: nothing to remove any more.
    pub fn keep(mut self) {
        self.armed = false;
        forget(&self.path);
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            remove(&self.path);
            forget(&self.path);
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    TEMPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn forget(path: &PathBuf) {
    lock().retain(|p| p != path);
}

fn remove(path: &PathBuf) {
    let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir_all(path));
}

fn remove_temps() {
    for path in lock().drain(..) {
        remove(&path);
    }
}

/// ctrlc installs its handler only over the default one, so this comes
/// second; signal-hook chains to ctrlc's.
#[cfg(unix)]
fn install_flag() {
    let flag = SIGNALLED.get_or_init(|| Arc::new(AtomicBool::new(false)));
    let _ = signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(flag));
}

#[cfg(not(unix))]
fn install_flag() {}

#[cfg(unix)]
fn forward(pid: u32, _stopped: bool) {
    send(pid, rustix::process::Signal::INT);
}

/// On Windows a console's Ctrl-C reaches every process attached to it, the
/// child too. The stop file reaches only the CLI: the child (ssh) is ended,
/// and the CLI then ends the remote command as after Ctrl-C.
#[cfg(not(unix))]
fn forward(pid: u32, stopped: bool) {
    if stopped {
        taskkill(pid, false);
    }
}

/// `signal` to process `pid` (gone already: nothing happens).
#[cfg(unix)]
pub fn send(pid: u32, signal: rustix::process::Signal) {
    if let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Ends process `pid` (with what it started, for `tree`): Windows' way,
/// having no signal for one process.
#[cfg(not(unix))]
pub fn taskkill(pid: u32, tree: bool) {
    let pid = pid.to_string();
    let mut args = vec!["/PID", pid.as_str(), "/F"];
    if tree {
        args.push("/T");
    }
    let _ = quiet(Command::new("taskkill").args(args)).status();
}

/// Starts `cmd` apart from this command: in a process group of its own, so
/// a Ctrl-C in the terminal is not for it (on Windows, a new process group
/// and no console window), in the temporary directory.
pub fn detach(cmd: &mut Command) -> &mut Command {
    // Not the caller's directory: on Windows a process's working directory
    // cannot be removed while it runs, and this one outlives the command.
    cmd.current_dir(std::env::temp_dir());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    #[cfg(windows)]
    {
        const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;
        const CREATE_NO_WINDOW: u32 = 0x0800_0000;
        std::os::windows::process::CommandExt::creation_flags(
            cmd,
            CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW,
        );
    }
    cmd
}

/// Starts `cmd` detached (`detach`) as a process that outlives this
/// command. On Windows it inherits no handle at all (`runcode_win`): the
/// standard library would hand it every inheritable handle of this process,
/// among them pipes of whoever started the command, which it would then
/// hold open. Its standard streams are none.
pub fn spawn_apart(cmd: &mut Command) -> std::io::Result<()> {
    quiet(cmd);
    detach(cmd);
    #[cfg(windows)]
    {
        let args: Vec<&std::ffi::OsStr> = cmd.get_args().collect();
        let env: Vec<(&std::ffi::OsStr, Option<&std::ffi::OsStr>)> = cmd.get_envs().collect();
        let dir = cmd
            .get_current_dir()
            .map_or_else(std::env::temp_dir, std::path::Path::to_path_buf);
        runcode_win::spawn_detached(cmd.get_program(), &args, &dir, &env)
    }
    #[cfg(not(windows))]
    cmd.spawn().map(drop)
}

/// No standard streams at all for `cmd`: a helper whose only answer is its
/// exit status.
pub fn quiet(cmd: &mut Command) -> &mut Command {
    use std::process::Stdio;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
}
