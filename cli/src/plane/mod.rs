//! The control plane: its HTTP client (`api`), the workspace list
//! (`workspaces`), a session bundle's validation (`bundle`) and its
//! credential (`credential`), the saved token (`token`), and waiting for a
//! workspace to boot (`boot`). Everything here talks to, or checks what came
//! from, the RunCode API; nothing here runs ssh.

pub mod api;
pub mod boot;
pub mod bundle;
pub mod credential;
pub mod token;
pub mod workspaces;
