//! The staging table in Postgres: every record's current fields and its sync state.
//!
//! The table (`staging_records`, see `migrations/`) is also an interface for other apps: rows they
//! insert or update with plain SQL go through the same triggers as the API's writes.

mod read;
mod write;

pub use read::{StagedRecord, SyncStatus, find_record, status_counts};
pub use write::{StageOutcome, StageRow, existing_external_ids, stage_records};
