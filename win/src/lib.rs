//! The Windows calls the runcode CLI needs and the standard library does not
//! offer safely: starting a process that outlives the command without any
//! of the caller's handles, and a named pipe only its user may open. On every other
//! platform this crate is empty. It is the only place in the workspace where
//! unsafe code is allowed; each block says why it is sound.

#![cfg_attr(not(windows), forbid(unsafe_code))]

#[cfg(windows)]
mod windows;

#[cfg(windows)]
pub use windows::{keep_std_handles, owner_only_pipe, pipe_dacl, spawn_detached, user_sid};
