//! How sources arrive besides the records API: the `[webhook]` and `[pull]` tables of the mapping
//! files (the mapping parser leaves them to this module), read once at start-up with the
//! secrets and credentials they name from the environment.

use std::path::Path;
use std::time::Duration;

use toml::{Table, Value as Toml};

use super::pulls::{self, PullSource};
use super::webhooks::{self, WebhookSource, Webhooks};
use super::{ConfigError, Env};
use crate::normalize::MappingSet;

/// The variable holding webhook secrets as JSON, beside the ones the mapping files name.
pub const WEBHOOKS_VAR: &str = "SLUICE_WEBHOOKS";

/// What is wrong with one `[webhook]` or `[pull]` table.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error("missing key \"{0}\"")]
    Missing(&'static str),
    #[error("{0}")]
    Invalid(String),
    #[error("environment variable {0} is required but not set")]
    MissingVariable(String),
}

/// The `source` of a mapping file and its arrival tables.
pub(super) struct Declared {
    pub file: String,
    pub source: String,
    pub webhook: Option<Toml>,
    pub pull: Option<Toml>,
}

pub(super) fn check_keys(table: &Table, allowed: &[&str]) -> Result<(), Problem> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(Problem::Invalid(format!("unknown key \"{k}\""))),
        None => Ok(()),
    }
}

pub(super) fn optional_str<'a>(table: &'a Table, key: &str) -> Result<Option<&'a str>, Problem> {
    match table.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
        Some(_) => Err(Problem::Invalid(format!(
            "\"{key}\" must be non-empty text"
        ))),
    }
}

pub(super) fn duration_secs(table: &Table, key: &str) -> Result<Option<Duration>, Problem> {
    match table.get(key) {
        None => Ok(None),
        Some(Toml::Integer(n)) if (1..=86_400).contains(n) => {
            Ok(Some(Duration::from_secs(*n as u64)))
        }
        Some(_) => Err(Problem::Invalid(format!(
            "\"{key}\" must be a number of seconds, 1..=86400"
        ))),
    }
}

/// A variable holding several secrets: separated by commas or white space.
pub(super) fn secrets_from(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Reads every mapping file's `source`, `webhook` and `pull` (files the mapping set loaded, so
/// they parse).
fn declarations(dir: &Path) -> Result<Vec<Declared>, String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let file = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
        let mut root: Table = toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
        let source = match root.get("source") {
            Some(Toml::String(s)) => s.clone(),
            _ => return Err(format!("{file}: missing key \"source\"")),
        };
        out.push(Declared {
            file,
            source,
            webhook: root.remove("webhook"),
            pull: root.remove("pull"),
        });
    }
    Ok(out)
}

/// The webhook receivers and pulls the mapping files in `dir` declare.
pub fn load(
    env: &Env,
    dir: &Path,
    mappings: &MappingSet,
) -> Result<(Webhooks, Vec<PullSource>), ConfigError> {
    let invalid = |name: &'static str, reason: String| ConfigError::Invalid { name, reason };
    let mut secrets = match env.raw(WEBHOOKS_VAR) {
        Some(text) => webhooks::secrets_json(text).map_err(|r| invalid(WEBHOOKS_VAR, r))?,
        None => Default::default(),
    };
    let declared = declarations(dir).map_err(|r| invalid("SLUICE_MAPPINGS_DIR", r))?;
    let lookup = |name: &str| env.raw(name).map(str::to_owned);
    let mut hooks: Vec<WebhookSource> = Vec::new();
    let mut pulls = Vec::new();
    for d in &declared {
        let at = |kind: &str, p: Problem| match p {
            Problem::MissingVariable(var) => ConfigError::MissingNamed {
                name: var,
                by: format!("{}, [{kind}] of source \"{}\"", d.file, d.source),
            },
            p => invalid(
                "SLUICE_MAPPINGS_DIR",
                format!("{}, [{kind}] of source \"{}\": {p}", d.file, d.source),
            ),
        };
        if let Some(w) = &d.webhook {
            let Toml::Table(table) = w else {
                return Err(at("webhook", Problem::Invalid("must be a table".into())));
            };
            if hooks.iter().any(|h| h.source == d.source) {
                return Err(at("webhook", Problem::Invalid("declared twice".into())));
            }
            let extra = secrets.remove(&d.source).unwrap_or_default();
            let hook = webhooks::parse(d, table, &lookup, extra).map_err(|p| at("webhook", p))?;
            let untyped = mappings
                .of_source(&d.source)
                .into_iter()
                .find(|m| !m.event_types().is_empty() && !hook.has_event_types());
            if let Some(m) = untyped {
                return Err(at(
                    "webhook",
                    Problem::Invalid(format!(
                        "object {} lists event types (`on`), but the scheme gives events no type: set type_header or type_path",
                        m.object()
                    )),
                ));
            }
            hooks.push(hook);
        }
        if let Some(p) = &d.pull {
            let Toml::Table(table) = p else {
                return Err(at("pull", Problem::Invalid("must be a table".into())));
            };
            if pulls.iter().any(|p: &PullSource| p.source == d.source) {
                return Err(at("pull", Problem::Invalid("declared twice".into())));
            }
            if let Some(m) = mappings
                .of_source(&d.source)
                .into_iter()
                .find(|m| !m.event_types().is_empty())
            {
                return Err(at(
                    "pull",
                    Problem::Invalid(format!(
                        "object {} lists event types (`on`), but pulled items have none",
                        m.object()
                    )),
                ));
            }
            pulls.push(pulls::parse(d, table, &lookup).map_err(|p| at("pull", p))?);
        }
    }
    if let Some(unknown) = secrets.keys().next() {
        return Err(invalid(
            WEBHOOKS_VAR,
            format!("source {unknown:?} has no [webhook] in the mapping files"),
        ));
    }
    Ok((Webhooks::new(hooks), pulls))
}
