//! What every command gets: the output handle, the paths, the global flags,
//! and the control-plane client on demand (so commands that need no network
//! never read the token).

use crate::error::{Error, Result};
use crate::output::Output;
use crate::paths::Paths;
use crate::plane::api::{self, Api};
use crate::plane::token;
use crate::plane::workspaces::{self, Target, Workspace};

pub struct Ctx {
    pub out: Output,
    pub paths: Paths,
    pub api_base: String,
    pub web_base: String,
    pub token: Option<String>,
}

impl Ctx {
    /// The client: the base is checked before the token is even read.
    pub fn api(&self) -> Result<Api> {
        api::check_base(&self.api_base)?;
        let (token, _) = token::lookup(self.token.as_deref(), &self.paths)?;
        Api::new(&self.api_base, token)
    }

    /// Resolves a workspace argument against the listing. An id is not
    /// looked up by name; it is found in the listing when present.
    pub fn resolve(&self, arg: &str) -> Result<Workspace> {
        let target = workspaces::target(arg)?;
        let list = workspaces::fetch(&self.api()?)?;
        match target {
            Target::Id(id) => list
                .into_iter()
                .find(|w| w.id == id)
                .ok_or(Error::NoWorkspaceId { id }),
            Target::Name(name) => workspaces::by_name(&list, &name).cloned(),
        }
    }
}
