//! The unsafe calls, each in a function of its own with its reason.

#![allow(unsafe_code)]

use std::ffi::{OsStr, OsString, c_void};
use std::io;
use std::os::windows::ffi::OsStrExt;
use std::os::windows::io::{AsRawHandle, RawHandle};
use std::path::Path;
use std::ptr::null_mut;

use tokio::net::windows::named_pipe::{NamedPipeServer, ServerOptions};
use windows_sys::Win32::Foundation::{
    CloseHandle, HANDLE, HANDLE_FLAG_INHERIT, LocalFree, SetHandleInformation,
};
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertSidToStringSidW,
    ConvertStringSecurityDescriptorToSecurityDescriptorW, GetSecurityInfo, SDDL_REVISION_1,
    SE_KERNEL_OBJECT,
};
use windows_sys::Win32::Security::{
    DACL_SECURITY_INFORMATION, GetTokenInformation, PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES,
    TOKEN_QUERY, TOKEN_USER, TokenUser,
};
use windows_sys::Win32::System::Threading::{
    CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, CREATE_UNICODE_ENVIRONMENT, CreateProcessW,
    DETACHED_PROCESS, GetCurrentProcess, OpenProcessToken, PROCESS_INFORMATION, STARTUPINFOW,
};

/// Marks this process's standard input, output and error as not
/// inheritable. Windows hands every inheritable handle of a process to each
/// process it starts, whatever that process's own standard streams are; a
/// process that outlives the command (the held connection, the forwards'
/// keeper) would otherwise hold the caller's pipes open, and the caller,
/// reading to their end, would wait for it. The standard library still
/// passes these handles on where a child is asked to inherit them: it
/// duplicates them as inheritable for that one start.
pub fn keep_std_handles() {
    let handles = [
        io::stdin().as_raw_handle(),
        io::stdout().as_raw_handle(),
        io::stderr().as_raw_handle(),
    ];
    for handle in handles {
        if handle.is_null() {
            continue;
        }
        // SAFETY: the handle is this process's own standard handle, open for
        // the life of the process; the call changes one flag of it and
        // reads no memory of ours. A failure (a console handle that cannot
        // be marked) leaves it as it was.
        unsafe {
            SetHandleInformation(handle as HANDLE, HANDLE_FLAG_INHERIT, 0);
        }
    }
}

/// The SID of the user this process runs as, in its string form
/// (`S-1-5-21-…`).
pub fn user_sid() -> io::Result<String> {
    let mut token: HANDLE = null_mut();
    // SAFETY: the pseudo-handle of this process needs no closing, and
    // `token` is a valid place for the token's handle.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let sid = token_user_sid(token);
    // SAFETY: `token` was opened above and is closed once.
    unsafe { CloseHandle(token) };
    sid
}

fn token_user_sid(token: HANDLE) -> io::Result<String> {
    let mut len = 0u32;
    // SAFETY: a null buffer of length 0 asks only for the length needed.
    unsafe { GetTokenInformation(token, TokenUser, null_mut(), 0, &raw mut len) };
    // u64 words: TOKEN_USER holds pointers and must be aligned for them.
    let mut buf = vec![0u64; (len as usize).div_ceil(8).max(1)];
    // SAFETY: `buf` has at least `len` bytes, aligned for TOKEN_USER.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenUser,
            buf.as_mut_ptr().cast::<c_void>(),
            len,
            &raw mut len,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call above filled `buf` with a TOKEN_USER whose SID
    // pointer points into `buf`, which lives until the end of this function.
    let user = unsafe { &*buf.as_ptr().cast::<TOKEN_USER>() };
    let mut text: *mut u16 = null_mut();
    // SAFETY: the SID is valid (above); `text` receives a LocalAlloc'd
    // string, freed below.
    if unsafe { ConvertSidToStringSidW(user.User.Sid, &raw mut text) } == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `text` is a NUL-terminated wide string from the call above.
    let sid = unsafe { wide_to_string(text) };
    // SAFETY: allocated by ConvertSidToStringSidW, freed once.
    unsafe { LocalFree(text.cast()) };
    Ok(sid)
}

/// Reads a NUL-terminated wide string.
///
/// # Safety
/// `text` points to a NUL-terminated UTF-16 string.
unsafe fn wide_to_string(text: *const u16) -> String {
    let mut len = 0usize;
    // SAFETY: the caller promises a terminating NUL within the allocation.
    while unsafe { *text.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: the `len` units before the NUL are initialized.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len) })
}

/// Creates a named pipe server instance whose security descriptor grants
/// this user everything and no one else anything (a protected DACL with one
/// entry: `D:P(A;;GA;;;<user SID>)`). Windows' default descriptor for a
/// pipe lets Everyone read it.
pub fn owner_only_pipe(options: &ServerOptions, name: &str) -> io::Result<NamedPipeServer> {
    let sddl: Vec<u16> = format!("D:P(A;;GA;;;{})", user_sid()?)
        .encode_utf16()
        .chain([0])
        .collect();
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `sddl` is NUL-terminated; `descriptor` receives a LocalAlloc'd
    // descriptor, freed below.
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &raw mut descriptor,
            null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut attributes = SECURITY_ATTRIBUTES {
        nLength: u32::try_from(size_of::<SECURITY_ATTRIBUTES>()).unwrap_or(0),
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    // SAFETY: `attributes` is a valid SECURITY_ATTRIBUTES whose descriptor
    // lives until after the call; the pipe copies it.
    let pipe = unsafe {
        options.create_with_security_attributes_raw(name, (&raw mut attributes).cast::<c_void>())
    };
    // SAFETY: allocated by the conversion above, freed once, after use.
    unsafe { LocalFree(descriptor) };
    pipe
}

/// The DACL of a kernel object (a pipe) as Windows holds it, in SDDL
/// (`D:P(A;;FA;;;S-1-5-21-…)`): what the code set, read back.
pub fn pipe_dacl(handle: RawHandle) -> io::Result<String> {
    let mut descriptor: PSECURITY_DESCRIPTOR = null_mut();
    // SAFETY: `handle` is an open handle of the caller's; the call writes
    // only `descriptor`, a LocalAlloc'd copy freed below.
    let rc = unsafe {
        GetSecurityInfo(
            handle as HANDLE,
            SE_KERNEL_OBJECT,
            DACL_SECURITY_INFORMATION,
            null_mut(),
            null_mut(),
            null_mut(),
            null_mut(),
            &raw mut descriptor,
        )
    };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(
            i32::try_from(rc).unwrap_or(-1),
        ));
    }
    let mut text: *mut u16 = null_mut();
    // SAFETY: `descriptor` is valid (above); `text` receives a LocalAlloc'd
    // string, freed below.
    let ok = unsafe {
        ConvertSecurityDescriptorToStringSecurityDescriptorW(
            descriptor,
            SDDL_REVISION_1,
            DACL_SECURITY_INFORMATION,
            &raw mut text,
            null_mut(),
        )
    };
    let result = if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        // SAFETY: a NUL-terminated wide string from the call above.
        let sddl = unsafe { wide_to_string(text) };
        // SAFETY: allocated by the conversion, freed once.
        unsafe { LocalFree(text.cast()) };
        Ok(sddl)
    };
    // SAFETY: allocated by GetSecurityInfo, freed once.
    unsafe { LocalFree(descriptor) };
    result
}

/// Starts `program` with `args` as a process of its own that inherits no
/// handle at all (the standard library always starts a child inheriting
/// every inheritable handle, and a process that outlives its command must
/// not hold the caller's pipes open, wherever in the chain of parents they
/// were made inheritable): no console, a new process group, no standard
/// streams, in `dir`, with this process's environment but for the
/// variables set (`Some`) or removed (`None`) in `env`.
pub fn spawn_detached(
    program: &OsStr,
    args: &[&OsStr],
    dir: &Path,
    env: &[(&OsStr, Option<&OsStr>)],
) -> io::Result<()> {
    let mut line: Vec<u16> = Vec::new();
    quote(program, &mut line);
    for arg in args {
        line.push(u16::from(b' '));
        quote(arg, &mut line);
    }
    line.push(0);
    let block = environment(env);
    let dir: Vec<u16> = dir.as_os_str().encode_wide().chain([0]).collect();
    let startup = STARTUPINFOW {
        cb: u32::try_from(size_of::<STARTUPINFOW>()).unwrap_or(0),
        ..Default::default()
    };
    let mut info = PROCESS_INFORMATION::default();
    // SAFETY: every pointer is to a NUL-terminated buffer or a struct that
    // lives across the call; `line` is writable as the call requires; no
    // handle is inherited (FALSE), so none of ours leaks.
    let ok = unsafe {
        CreateProcessW(
            std::ptr::null(),
            line.as_mut_ptr(),
            std::ptr::null(),
            std::ptr::null(),
            0,
            DETACHED_PROCESS
                | CREATE_NEW_PROCESS_GROUP
                | CREATE_NO_WINDOW
                | CREATE_UNICODE_ENVIRONMENT,
            block.as_ptr().cast::<c_void>(),
            dir.as_ptr(),
            &raw const startup,
            &raw mut info,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the two handles the call returned, closed once each; the
    // process runs on without them.
    unsafe {
        CloseHandle(info.hProcess);
        CloseHandle(info.hThread);
    }
    Ok(())
}

/// An argument as the C runtime's parser reads it back (quotes around
/// anything with a space, a tab or a quote; backslashes doubled before a
/// quote).
fn quote(arg: &OsStr, out: &mut Vec<u16>) {
    let wide: Vec<u16> = arg.encode_wide().collect();
    let (space, tab, dq, bs) = (
        u16::from(b' '),
        u16::from(b'\t'),
        u16::from(b'"'),
        u16::from(b'\\'),
    );
    if !wide.is_empty() && !wide.iter().any(|c| *c == space || *c == tab || *c == dq) {
        out.extend(wide);
        return;
    }
    out.push(dq);
    let mut backslashes = 0usize;
    for c in wide {
        if c == bs {
            backslashes += 1;
            continue;
        }
        let n = if c == dq {
            backslashes * 2 + 1
        } else {
            backslashes
        };
        out.extend(std::iter::repeat_n(bs, n));
        backslashes = 0;
        out.push(c);
    }
    out.extend(std::iter::repeat_n(bs, backslashes * 2));
    out.push(dq);
}

/// This process's environment with `changes` made, as a Unicode block.
fn environment(changes: &[(&OsStr, Option<&OsStr>)]) -> Vec<u16> {
    let mut vars: Vec<(OsString, OsString)> = std::env::vars_os()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c.eq_ignore_ascii_case(k)))
        .collect();
    for (k, v) in changes {
        if let Some(v) = v {
            vars.push(((*k).to_owned(), (*v).to_owned()));
        }
    }
    let mut block = Vec::new();
    for (k, v) in vars {
        block.extend(k.encode_wide());
        block.push(u16::from(b'='));
        block.extend(v.encode_wide());
        block.push(0);
    }
    block.push(0);
    block.push(0);
    block
}
