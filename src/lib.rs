//! Helpers shared by the end-to-end suites in `tests/` and by `cargo xtask`:
//! real release archives and trees, a loopback HTTP file server that can be
//! told to misbehave, a loopback CONNECT proxy that records its use, and a
//! look at the process table.
//!
//! Nothing here is product code: it stands in for GitHub's release host and
//! a corporate proxy, which the tests cannot reach.

pub mod archive;
pub mod model;
pub mod plane;
pub mod procs;
pub mod proxy;
pub mod release;
pub mod serve;
pub mod wine;
