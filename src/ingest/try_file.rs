//! `sluice mappings try --source S --object O FILE`: a sample file through a mapping on this
//! machine, showing each record as Salesforce would receive it or every reason it would be
//! refused. No Salesforce API call is made and nothing is stored. With `DATABASE_URL` set, the
//! records are also checked against the describe the hub last read (from Postgres) and against
//! staging (records already there are updates), exactly as ingest would check them.

use std::collections::HashSet;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;

use super::pipeline::check_chunk;
use super::preview::{PreviewResponse, PreviewStatus};
use super::records;
use super::sample;
use crate::config::{DatabaseConfig, Env};
use crate::normalize::MappingSet;
use crate::staging::ObjectName;

/// What a try found: the preview and a report for a person.
pub struct Tried {
    pub preview: PreviewResponse,
    /// Says what the records were checked against.
    pub checked_against: String,
}

pub async fn run(
    dir: &Path,
    source: &str,
    object: &str,
    file: &Path,
    env: &Env,
) -> anyhow::Result<Tried> {
    let set = MappingSet::load_dir(dir).with_context(|| format!("loading {}", dir.display()))?;
    let mapping = set.get(source, object).with_context(|| {
        format!(
            "{} has no mapping for source {source:?} and object {object:?}",
            dir.display()
        )
    })?;
    let items = sample::read(file)?;
    if env.required("DATABASE_URL").is_err() {
        let mut batch = records::prepare(items, mapping);
        records::validate(&mut batch, mapping, None, &HashSet::new());
        return Ok(Tried {
            preview: PreviewResponse::new(source, object, batch, false),
            checked_against: "the mapping only: set DATABASE_URL to check against Salesforce's describe as the hub last read it".into(),
        });
    }
    let pool = crate::db::connect(&DatabaseConfig::from_env(env)?).await?;
    let describe = crate::describe::cached(&pool, mapping.object())
        .await
        .context("reading the cached describe")?;
    let object_name = ObjectName::parse(mapping.object())?;
    let mut conn = pool.acquire().await?;
    let batch = check_chunk(&mut conn, &object_name, mapping, describe.as_ref(), items).await?;
    drop(conn);
    pool.close().await;
    let checked_against = match &describe {
        Some(_) => format!("the mapping, and the describe of {object} the hub last read"),
        None => format!(
            "the mapping only: the hub has not read the describe of {object} yet (start it once)"
        ),
    };
    Ok(Tried {
        preview: PreviewResponse::new(source, object, batch, describe.is_some()),
        checked_against,
    })
}

/// The preview for a person: one line per record, then its fields or its problems.
pub fn render(tried: &Tried) -> String {
    let p = &tried.preview;
    let mut out = format!(
        "{} → {}: {} record(s), {} accepted, {} refused\nchecked against {}\n",
        p.source,
        p.object,
        p.records.len(),
        p.accepted,
        p.refused,
        tried.checked_against
    );
    for r in &p.records {
        let id = r.external_id.as_deref().unwrap_or("(no external id)");
        match r.status {
            PreviewStatus::Accepted => {
                let fields = r
                    .record
                    .as_ref()
                    .map(|f| serde_json::to_string(f).unwrap_or_default())
                    .unwrap_or_default();
                let _ = writeln!(out, "\n#{} {id}: accepted\n  {fields}", r.index);
            }
            PreviewStatus::Refused => {
                let _ = writeln!(out, "\n#{} {id}: refused", r.index);
                for e in &r.errors {
                    let target = e
                        .salesforce_field
                        .as_deref()
                        .map(|f| format!(" → {f}"))
                        .unwrap_or_default();
                    let _ = writeln!(out, "  - {}{target} [{}]: {}", e.field, e.rule, e.message);
                }
            }
        }
    }
    out
}
