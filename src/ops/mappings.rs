//! `sluice mappings check`.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;

use crate::config::{Env, salesforce_from_env};
use crate::normalize::{MappingSet, Misfits};
use crate::objects::Catalog;
use crate::salesforce::SalesforceClient;

/// Loads the mappings in `dir` and, when `SALESFORCE_CLIENT_ID` is set, checks them against the
/// org's describe. Returns the report to print; any problem is an error.
pub async fn check(dir: &Path, env: &Env) -> anyhow::Result<String> {
    let set = MappingSet::load_dir(dir).with_context(|| format!("loading {}", dir.display()))?;
    let catalog = Catalog::from_mappings(&set).context("the mappings disagree")?;
    let mut report = String::new();
    let sources: Vec<&str> = set.sources().collect();
    let _ = writeln!(
        report,
        "{}: {} source(s): {}",
        dir.display(),
        sources.len(),
        sources.join(", ")
    );
    for spec in catalog.iter() {
        let _ = writeln!(
            report,
            "  {} (upserted by {})",
            spec.name, spec.external_id_field
        );
    }
    if env.required("SALESFORCE_CLIENT_ID").is_err() {
        let _ = writeln!(
            report,
            "not checked against Salesforce: SALESFORCE_CLIENT_ID is not set"
        );
        return Ok(report);
    }
    let client = SalesforceClient::new(salesforce_from_env(env)?)?;
    let mut describes = HashMap::new();
    for spec in catalog.iter() {
        let describe = client
            .describe(spec.name.as_str())
            .await
            .with_context(|| format!("reading the describe of {}", spec.name))?;
        describes.insert(spec.name.to_string(), describe);
    }
    if let Err(problems) = set.check_against(&describes) {
        let misfits = Misfits::group(problems).to_string();
        anyhow::bail!(
            "{report}the mappings do not fit the org:\n  {}",
            misfits.replace('\n', "\n  ")
        );
    }
    let _ = writeln!(report, "checked against Salesforce's describe: OK");
    Ok(report)
}
