//! Windows programs under Wine for the platforms suite: a prepared Wine
//! prefix (one per test, each its own "Windows machine" with its own
//! `%LOCALAPPDATA%` and `%USERPROFILE%`), and two helper programs built with
//! mingw-w64:
//!
//! - `rc-run.exe LINE` starts `cmd.exe /d /s /c "LINE"` exactly as Node's
//!   `spawn(..., {shell: true})` and PowerShell do, and exits with its code:
//!   the command line reaches cmd.exe byte for byte, which Wine's own
//!   argv-to-command-line quoting would not allow;
//! - `rc-args.exe` prints each argument it got as hex of its UTF-8, one per
//!   line, and exits with `%ARGS_EXIT%`: the far end of an argument test.
//!
//! Wine 8 lacks `bcryptprimitives.dll`, whose `ProcessPrng` Rust's standard
//! library imports on Windows; the prefix gets a stand-in, built here, that
//! forwards to `RtlGenRandom`. All of this is test harness: none of it ships.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Wine 8's 64-bit program on Debian.
pub const WINE: &str = "/usr/lib/wine/wine64";
const WINESERVER: &str = "/usr/lib/wine/wineserver";
const MINGW: &str = "x86_64-w64-mingw32-gcc";

const PRNG_C: &str = r#"#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
"#;

const HELPER_C: &str = r#"#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
int wmain(int argc, wchar_t **argv) {
#ifdef RUNNER
    if (argc != 2) return 120;
    size_t n = wcslen(argv[1]) + 32;
    wchar_t *line = malloc(n * sizeof(wchar_t));
    swprintf(line, n, L"cmd.exe /d /s /c \"%ls\"", argv[1]);
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    ZeroMemory(&si, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessW(NULL, line, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) return 121;
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 122;
    GetExitCodeProcess(pi.hProcess, &code);
    return (int)code;
#else
    for (int i = 1; i < argc; i++) {
        static char buf[65536];
        int len = WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, buf, sizeof buf, NULL, NULL);
        printf("arg:");
        for (int j = 0; j + 1 < len; j++) printf("%02x", (unsigned char)buf[j]);
        printf("\n");
    }
    fflush(stdout);
    const char *code = getenv("ARGS_EXIT");
    return code ? atoi(code) : 0;
#endif
}
"#;

/// Is Wine here, with mingw-w64 to build the helpers?
pub fn available() -> Result<(), String> {
    if !Path::new(WINE).is_file() {
        return Err(format!(
            "{WINE} is missing: `apt-get install wine64` (cargo xtask test installs it)"
        ));
    }
    if !on_path(MINGW) {
        return Err(format!(
            "{MINGW} is missing: `apt-get install gcc-mingw-w64-x86-64`"
        ));
    }
    Ok(())
}

fn on_path(program: &str) -> bool {
    runcode_rules::program::find(program).is_some()
}

/// The prepared prefix and helpers, made once under `root` (shared by every
/// test process; a file lock keeps two from making it at once).
fn template(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root).expect("wine dir");
    let lock = File::create(root.join(".lock")).expect("wine lock");
    lock.lock().expect("lock the wine template");
    let template = root.join("template");
    let ready = root.join("ready");
    if !ready.is_file() {
        let _ = std::fs::remove_dir_all(&template);
        let build = root.join("build");
        std::fs::create_dir_all(&build).expect("wine build dir");
        std::fs::write(build.join("prng.c"), PRNG_C).unwrap();
        std::fs::write(
            build.join("prng.def"),
            "LIBRARY bcryptprimitives\nEXPORTS\n  ProcessPrng\n",
        )
        .unwrap();
        std::fs::write(build.join("helper.c"), HELPER_C).unwrap();
        gcc(
            &build,
            &[
                "-shared",
                "-o",
                "bcryptprimitives.dll",
                "prng.c",
                "prng.def",
                "-ladvapi32",
            ],
        );
        gcc(
            &build,
            &["-municode", "-DRUNNER", "-o", "rc-run.exe", "helper.c"],
        );
        gcc(&build, &["-municode", "-o", "rc-args.exe", "helper.c"]);
        let out = Command::new(WINE)
            .args(["wineboot", "--init"])
            .env("WINEPREFIX", &template)
            .env("WINEDEBUG", "-all")
            .output()
            .expect("run wineboot");
        assert!(
            template.join("drive_c/windows/system32").is_dir(),
            "wineboot made no prefix: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // wineboot returns before its server has written the registry.
        let _ = Command::new(WINESERVER)
            .arg("-w")
            .env("WINEPREFIX", &template)
            .status();
        std::fs::copy(
            build.join("bcryptprimitives.dll"),
            template.join("drive_c/windows/system32/bcryptprimitives.dll"),
        )
        .expect("install the ProcessPrng stand-in");
        for exe in ["rc-run.exe", "rc-args.exe"] {
            std::fs::copy(build.join(exe), root.join(exe)).expect("helper");
        }
        std::fs::write(&ready, "").unwrap();
    }
    template
}

fn gcc(dir: &Path, args: &[&str]) {
    let out = Command::new(MINGW)
        .args(["-O2", "-s"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run mingw gcc");
    assert!(
        out.status.success(),
        "{MINGW} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One Windows machine: its own prefix under a test's scratch directory.
pub struct Wine {
    pub prefix: PathBuf,
    helpers: PathBuf,
}

impl Wine {
    /// A fresh prefix in `scratch`, copied from the shared template (hard
    /// links for the read-only system files, real copies of the registry).
    pub fn new(shared: &Path, scratch: &Path) -> Wine {
        let template = template(shared);
        let prefix = scratch.join("wine");
        let status = Command::new("cp")
            .arg("-al")
            .arg(&template)
            .arg(&prefix)
            .status()
            .expect("cp");
        assert!(status.success(), "copy the Wine prefix");
        for reg in ["system.reg", "user.reg", "userdef.reg"] {
            let path = prefix.join(reg);
            std::fs::remove_file(&path).expect("unlink registry");
            std::fs::copy(template.join(reg), &path).expect("copy registry");
        }
        let wine = Wine {
            prefix,
            helpers: shared.to_path_buf(),
        };
        wine.boot();
        wine
    }

    /// Starts the machine before a test uses it, as a real Windows is booted
    /// before anyone runs a program: this prefix's wineserver, kept between
    /// the test's programs (until `Drop`, or 10 s after the last one), and
    /// Wine's session start-up (wineboot and its services), which the first
    /// program waits for. Several programs started at once on a cold prefix
    /// each try that start-up, and under load one of them was seen to fail
    /// to start a program at all (cmd.exe: "Can't recognize ..." for a file
    /// that exists).
    fn boot(&self) {
        let quiet = |cmd: &mut Command| {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
        };
        // wineserver forks into the background; with the test's stdout or
        // stderr it would hold them open after the test ends.
        let _ = quiet(
            Command::new(WINESERVER)
                .arg("-p10")
                .env("WINEPREFIX", &self.prefix),
        );
        let status = quiet(&mut self.command(&self.args_exe())).expect("run wine64");
        assert!(status.success(), "Wine could not start a program: {status}");
    }

    /// `wine64 <program> <args>` in this prefix; the Unix environment reaches
    /// the Windows program (Wine passes it through), except the variables
    /// Wine sets itself from the profile (`LOCALAPPDATA`, `USERPROFILE`...).
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(WINE);
        cmd.arg(program)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("RUNCODE_BIN")
            .env_remove("RUNCODE_CACHE")
            .env_remove("RUNCODE_PIN_VERSION");
        cmd
    }

    /// `cmd.exe /d /s /c "LINE"`, as Node and PowerShell start a `.cmd`.
    pub fn cmd(&self, line: &str) -> Command {
        let mut cmd = self.command(&self.helpers.join("rc-run.exe"));
        cmd.arg(line);
        cmd
    }

    /// The argument printer, for `RUNCODE_BIN`.
    pub fn args_exe(&self) -> PathBuf {
        self.helpers.join("rc-args.exe")
    }

    /// `%LOCALAPPDATA%` of this machine, as a Unix path.
    pub fn local_app_data(&self) -> PathBuf {
        self.profile().join("AppData/Local")
    }

    /// `%USERPROFILE%` of this machine, as a Unix path.
    pub fn user_profile(&self) -> PathBuf {
        self.profile()
    }

    /// The profile Wine made for the Unix user (`drive_c/users/<name>`).
    fn profile(&self) -> PathBuf {
        let users = self.prefix.join("drive_c/users");
        std::fs::read_dir(&users)
            .expect("the prefix's users")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n != "Public") && p.is_dir())
            .expect("a user profile in the prefix")
    }
}

impl Drop for Wine {
    /// Stops this prefix's wineserver now rather than a few seconds later.
    fn drop(&mut self) {
        let _ = Command::new(WINESERVER)
            .arg("-k")
            .env("WINEPREFIX", &self.prefix)
            .output();
    }
}

/// A Unix path as Wine's `Z:` drive names it.
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}

/// The arguments `rc-args.exe` printed, decoded.
pub fn printed_args(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("arg:"))
        .map(|hex| {
            let bytes: Vec<u8> = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            String::from_utf8(bytes).expect("utf-8")
        })
        .collect()
}
