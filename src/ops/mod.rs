//! Operator commands: `sluice status`, `retry`, `discard` and `replay` read `DATABASE_URL` only
//! and work on the staging table as the hub does, so they run from a laptop or a one-off dyno
//! (`heroku run sluice status`) while the web dynos keep serving. `sluice mappings check`
//! ([`mappings`]) reads the mappings and, when it can, the org's describe; `sluice pull`
//! ([`pull`]) lists the pulls or runs one now.

pub mod mappings;
pub mod pull;
mod reads;
mod status;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::staging::{self, FailureFilter, ObjectName, Requeue};

pub use reads::text as reads_text;
pub use status::render as status_text;

/// Which failed records `sluice retry` / `sluice discard` apply to.
#[derive(Debug, Clone, clap::Args)]
pub struct FailureArgs {
    /// Only this object, e.g. `Contact`.
    #[arg(long)]
    pub object: Option<String>,
    /// Only this Salesforce error code, e.g. `INVALID_EMAIL_ADDRESS`.
    #[arg(long)]
    pub code: Option<String>,
    /// Only this external id (repeat for several); give `--object` with it.
    #[arg(long = "external-id", requires = "object")]
    pub external_ids: Vec<String>,
    /// Every failed record, when no other filter is given (a guard against a slip).
    #[arg(long, conflicts_with_all = ["object", "code", "external_ids"])]
    pub all: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("give --object, --code or --external-id, or --all for every failed record")]
    NoFilter,
    #[error("--from ({from}) must be before --to ({to})")]
    EmptyRange {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
    #[error(transparent)]
    Object(#[from] crate::staging::InvalidKey),
    #[error("database error")]
    Database(#[from] sqlx::Error),
}

impl FailureArgs {
    pub fn filter(&self) -> Result<FailureFilter, OpsError> {
        if !self.all && self.object.is_none() && self.code.is_none() {
            return Err(OpsError::NoFilter);
        }
        Ok(FailureFilter {
            object: self.object.clone(),
            code: self.code.clone(),
            external_ids: (!self.external_ids.is_empty()).then(|| self.external_ids.clone()),
        })
    }
}

/// `sluice replay`: which records to send again.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// The object, e.g. `Contact`.
    #[arg(long)]
    pub object: String,
    /// Start of the range (inclusive), RFC 3339: `2026-11-28T09:00:00Z`.
    #[arg(long)]
    pub from: DateTime<Utc>,
    /// End of the range (exclusive), RFC 3339.
    #[arg(long)]
    pub to: DateTime<Utc>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// How many recent failures to list.
    #[arg(long, default_value_t = 10)]
    pub failures: i64,
}

/// Re-queues matching failed records with fresh attempts.
pub async fn retry(pool: &PgPool, args: &FailureArgs) -> Result<u64, OpsError> {
    let filter = args.filter()?;
    Ok(staging::requeue(pool, Requeue::Failed(&filter)).await?)
}

/// Gives up on matching failed records (kept as `discarded`).
pub async fn discard(pool: &PgPool, args: &FailureArgs) -> Result<u64, OpsError> {
    Ok(staging::discard(pool, &args.filter()?).await?)
}

/// Queues again every record of `object` first received in `[from, to)` that is not already
/// waiting or in flight: after a restore in Salesforce, or to repair records changed there by
/// hand. Salesforce's upsert by external id makes a second send of the same fields harmless.
pub async fn replay(pool: &PgPool, args: &ReplayArgs) -> Result<u64, OpsError> {
    if args.from >= args.to {
        return Err(OpsError::EmptyRange {
            from: args.from,
            to: args.to,
        });
    }
    let object = ObjectName::parse(&args.object)?;
    let which = Requeue::Received {
        object: &object,
        from: args.from,
        to: args.to,
    };
    Ok(staging::requeue(pool, which).await?)
}
