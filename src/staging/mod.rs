//! `staging_records`: one row per Salesforce record the hub knows, keyed by object and external
//! id, and every change to it. No other module writes this table.
//!
//! The table is also an interface for other apps: rows they insert or update with plain SQL go
//! through the same triggers as the hub's own writes (`migrations/`).
//!
//! # The state machine
//!
//! A row's `sync_status` is computed by Postgres from facts (a generated column, see
//! `migrations/20261205000100_staging_state_machine.sql`); writers record facts, never a status:
//!
//! ```text
//!                 content change (API, SQL, Salesforce with a hub change pending)
//!        ┌──────────────────────────────────────────────────────────────────┐
//!        ▼                                                                  │
//!   ┌─────────┐  claim (lease)  ┌───────────┐  outcome: synced    ┌────────┴─┐
//!   │ pending │ ──────────────▶ │ in_flight │ ──────────────────▶ │ synced   │
//!   └─────────┘ ◀────────────── └───────────┘   (deleted for a    │ deleted  │
//!     ▲  ▲   release, retry,       │    │        deletion)         └──────────┘
//!     │  │   lease expired,        │    │ outcome: refused, or
//!     │  │   changed in flight     │    │ retried past max attempts
//!     │  │                         │    ▼
//!     │  │      requeue         ┌────────┐  discard   ┌───────────┐
//!     │  └───────────────────── │ failed │ ─────────▶ │ discarded │
//!     └──────── requeue, change └────────┘            └───────────┘
//! ```
//!
//! - `in_flight`: a scheduler holds the lease (`lease_owner`); when the lease expires the row is
//!   due again ([`claim`]).
//! - `synced` / `deleted`: `synced_version = version`; a change back to what Salesforce has
//!   (`synced_fields`) is synced at once, and a change from Salesforce (`origin = 'salesforce'`)
//!   is never pushed back.
//! - `failed` / `discarded`: `failed_version` / `discarded_version = version`, with Salesforce's
//!   error on the row.
//! - Any content change bumps `version`, so the row is pending again, whoever wrote it.

mod changes;
mod claim;
mod commits;
mod from_salesforce;
pub mod inbox;
mod keys;
mod outcome;
mod read;
mod requeue;
mod salesforce_id;
mod stage;
mod status;

pub use changes::{ChangeCursor, ChangedRecord, changes_after};
pub use claim::{
    Claim, ClaimedRecord, DueGroup, JobRow, adopt_job_rows, claim, due_groups, extend_lease,
    release, release_owned, tie_to_job,
};
pub use commits::prune_commits;
pub use from_salesforce::{
    IncomingRow, ReadStamp, StoredRow, store_deletions, store_from_salesforce, store_read,
};
pub use keys::{ExternalId, InvalidKey, MAX_EXTERNAL_ID_LEN, ObjectName, is_api_name};
pub use outcome::{PushFailure, RecordOutcome, record_outcomes};
pub use read::{
    FailureGroup, ObjectCounts, StagedRecord, counts_per_object, failure_groups,
    find_by_salesforce_id, find_record,
};
pub use requeue::{
    FailedRecord, FailureFilter, KnownStatus, Requeue, discard, list_failed, requeue, statuses,
};
pub use salesforce_id::{InvalidSalesforceId, SalesforceId};
pub use stage::{StageOutcome, StageRow, existing_external_ids, stage_deletion, stage_records};
pub use status::{Operation, SyncStatus};
