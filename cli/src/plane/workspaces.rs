//! Workspaces as the CLI sees them: owned and shared lists merged, states
//! normalised, names resolved (docs/api.md). The provider is an internal
//! gate and is never shown: people see *connectable*.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::plane::api::Api;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub id: u64,
    pub title: String,
    pub custom_title: Option<String>,
    /// `interim_state` if set, else `current_state`, trimmed and lowercased.
    pub state: String,
    pub ssh_capable: bool,
    pub shared: bool,
    pub ssh_user: Option<String>,
    pub web_url: Option<String>,
}

impl Workspace {
    pub fn connectable(&self) -> bool {
        self.ssh_capable && self.state == "running"
    }

    /// The name people know it by, sanitised for a terminal.
    pub fn display_name(&self) -> String {
        let name = self
            .custom_title
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .unwrap_or(&self.title);
        crate::text::clean(name, false)
    }

    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "workspace_id": self.id,
            "title": crate::text::clean(&self.title, false),
            "custom_title": self.custom_title.as_deref().map(|c| crate::text::clean(c, false)),
            "state": self.state,
            "shared": self.shared,
            "connectable": self.connectable(),
            "web_url": self.web_url,
        })
    }
}

fn parse(entry: &Value, shared: bool) -> Option<Workspace> {
    let id = match &entry["id"] {
        Value::Number(n) => n.as_u64()?,
        Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    let text = |k: &str| entry[k].as_str().map(str::to_owned);
    let state = text("interim_state")
        .filter(|s| !s.trim().is_empty())
        .or_else(|| text("current_state"))
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    Some(Workspace {
        id,
        title: text("title").unwrap_or_default(),
        custom_title: text("custom_title"),
        state: crate::text::clean(&state, false),
        ssh_capable: entry["provider"].as_str() == Some("aws"),
        shared,
        ssh_user: text("ssh_user"),
        web_url: entry["web_url"]
            .as_str()
            .and_then(crate::plane::bundle::safe_web_url),
    })
}

/// Owned then shared, duplicates dropped by id (the owned sighting wins),
/// sorted by id. Entries without a usable id are skipped.
pub fn merge(owned: &[Value], shared: &[Value]) -> Vec<Workspace> {
    let mut all: Vec<Workspace> = Vec::new();
    for (entries, is_shared) in [(owned, false), (shared, true)] {
        for ws in entries.iter().filter_map(|e| parse(e, is_shared)) {
            if !all.iter().any(|w| w.id == ws.id) {
                all.push(ws);
            }
        }
    }
    all.sort_by_key(|w| w.id);
    all
}

pub fn fetch(api: &Api) -> Result<Vec<Workspace>> {
    Ok(merge(
        &api.workspaces("active")?,
        &api.workspaces("shared")?,
    ))
}

/// How an argument names a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// All digits: an id, never looked up by name.
    Id(u64),
    Name(String),
}

pub fn target(arg: &str) -> Result<Target> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Err(Error::Usage("the workspace name is empty".to_owned()));
    }
    if arg.bytes().all(|b| b.is_ascii_digit()) {
        return arg
            .parse()
            .map(Target::Id)
            .map_err(|_| Error::Usage(format!("{arg} is not a workspace id")));
    }
    Ok(Target::Name(arg.to_owned()))
}

/// A workspace's names: its title and its custom title.
fn names(w: &Workspace) -> impl Iterator<Item = &str> {
    std::iter::once(w.title.as_str()).chain(w.custom_title.as_deref())
}

/// The edit distance of `a` and `b` (ASCII case ignored), for suggestions.
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (
        a.to_lowercase().chars().collect(),
        b.to_lowercase().chars().collect(),
    );
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + usize::from(ca != cb));
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Finds `name` among titles and custom titles, case-insensitively: an
/// exact name first, else a unique prefix of one (as docker takes a
/// unique prefix of a container id). A miss suggests the names it could
/// mean.
pub fn by_name<'a>(list: &'a [Workspace], name: &str) -> Result<&'a Workspace> {
    let exact: Vec<&Workspace> = list
        .iter()
        .filter(|w| names(w).any(|n| n.eq_ignore_ascii_case(name)))
        .collect();
    let lower = name.to_lowercase();
    let prefixed: Vec<&Workspace> = list
        .iter()
        .filter(|w| names(w).any(|n| n.to_lowercase().starts_with(&lower)))
        .collect();
    let hits = if exact.is_empty() && !name.is_empty() {
        prefixed
    } else {
        exact
    };
    match hits[..] {
        [one] => Ok(one),
        [] => {
            let mut near: Vec<(usize, &Workspace)> = list
                .iter()
                .filter_map(|w| {
                    let best = names(w)
                        .map(|n| {
                            if n.to_lowercase().contains(&lower) {
                                0
                            } else {
                                distance(n, name)
                            }
                        })
                        .min()?;
                    (best <= 3).then_some((best, w))
                })
                .collect();
            near.sort_by_key(|(d, w)| (*d, w.id));
            let hint = if near.is_empty() {
                String::new()
            } else {
                let said: Vec<String> = near
                    .iter()
                    .take(3)
                    .map(|(_, w)| format!("{} (#{})", crate::text::clean(&w.title, false), w.id))
                    .collect();
                format!("; did you mean {}?", said.join(", "))
            };
            Err(Error::NoWorkspaceNamed {
                name: crate::text::clean(name, false),
                hint,
            })
        }
        _ => {
            let ids: Vec<String> = hits
                .iter()
                .map(|w| format!("{} (#{})", crate::text::clean(&w.title, false), w.id))
                .collect();
            Err(Error::Usage(format!(
                "several workspaces match {:?}: {}; use more of the name, or the id",
                crate::text::clean(name, false),
                ids.join(", ")
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(
        id: u64,
        title: &str,
        custom: &str,
        provider: &str,
        interim: &Value,
        current: &str,
    ) -> Value {
        json!({"id": id, "title": title, "custom_title": custom, "provider": provider, "interim_state": interim, "current_state": current})
    }

    #[test]
    fn lists_merge_dedupe_and_sort() {
        let owned = [
            entry(9, "b", "B", "aws", &Value::Null, " Running "),
            entry(3, "a", "App", "gcp", &json!(""), "Stopped"),
        ];
        let shared = [
            entry(9, "b-dup", "", "aws", &Value::Null, "Stopped"),
            entry(5, "c", "", "aws", &json!("Starting"), "Stopped"),
        ];
        let all = merge(&owned, &shared);
        assert_eq!(all.iter().map(|w| w.id).collect::<Vec<_>>(), [3, 5, 9]);
        let nine = &all[2];
        assert_eq!(
            (
                nine.title.as_str(),
                nine.shared,
                nine.state.as_str(),
                nine.connectable()
            ),
            ("b", false, "running", true)
        );
        assert_eq!((all[1].shared, all[1].state.as_str()), (true, "starting"));
        assert!(!all[0].connectable(), "not SSH-capable");
        assert!(
            !all[0].to_json().to_string().contains("gcp"),
            "the provider is never emitted"
        );
    }

    #[test]
    fn a_listed_web_url_never_keeps_a_credential() {
        // Found while writing the workspace_list fuzz check: the list's
        // web_url went out as sent, token and all.
        let mut e = entry(1, "a", "", "aws", &Value::Null, "Running");
        e["web_url"] = json!("https://a.ws.runcode.io/?tkn=secret");
        let w = &merge(&[e.clone()], &[])[0];
        assert_eq!(w.web_url.as_deref(), Some("https://a.ws.runcode.io/"));
        assert!(!w.to_json().to_string().contains("secret"));
        e["web_url"] = json!("https://user:pw@a.ws.runcode.io/");
        assert_eq!(merge(&[e], &[])[0].web_url, None);
    }

    #[test]
    fn names_resolve_case_insensitively_and_ids_bypass_lookup() {
        let all = merge(
            &[
                entry(1, "royal-tree", "My App", "aws", &Value::Null, "Running"),
                entry(2, "x", "my app", "aws", &Value::Null, "Running"),
            ],
            &[],
        );
        assert_eq!(target("1234").unwrap(), Target::Id(1234));
        assert_eq!(by_name(&all, "ROYAL-TREE").unwrap().id, 1);
        let err = by_name(&all, "My App").unwrap_err();
        assert!(err.to_string().contains("royal-tree (#1), x (#2)"), "{err}");
        // A unique prefix names one; a shared one lists them; a near miss
        // suggests.
        assert_eq!(by_name(&all, "roy").unwrap().id, 1);
        assert!(by_name(&all, "m").is_err());
        let miss = by_name(&all, "royal-tre3").unwrap_err().to_string();
        assert!(miss.contains("did you mean royal-tree (#1)"), "{miss}");
        assert_eq!(
            by_name(&all, "nope").unwrap_err().code().as_str(),
            "not_found"
        );
    }
}
