//! What a staged row asks of Salesforce, and where it stands (see the state machine in
//! [`super`]).

use serde::Serialize;
use utoipa::ToSchema;

// Derived by Postgres from the row's facts (the `sync_status` generated column): never written.
/// Where a record stands with Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Waiting to be pushed.
    Pending,
    /// Being pushed by a scheduler now.
    InFlight,
    /// Salesforce has this version.
    Synced,
    /// Salesforce refused this version; see the error.
    Failed,
    /// An operator gave up on this failed version; a new change makes it pending again.
    Discarded,
    /// Deleted as asked: Salesforce no longer has the record (or never had it).
    Deleted,
}

impl SyncStatus {
    pub const ALL: [SyncStatus; 6] = [
        Self::Pending,
        Self::InFlight,
        Self::Synced,
        Self::Failed,
        Self::Discarded,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InFlight => "in_flight",
            Self::Synced => "synced",
            Self::Failed => "failed",
            Self::Discarded => "discarded",
            Self::Deleted => "deleted",
        }
    }
}

/// What a staged row asks of Salesforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum Operation {
    /// Create or update the record by its external id.
    Upsert,
    /// Delete the record (by its Salesforce Id).
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Upsert => "upsert",
            Self::Delete => "delete",
        }
    }
}
