//! A typed client for the Salesforce REST API.
//!
//! Section numbers (§) in this module's comments cite `docs/salesforce.md`, the Salesforce
//! behaviour Sluice relies on.
//!
//! Auth is the OAuth 2.0 JWT bearer flow with a cached token and one re-auth per request on 401
//! (§1). Writes go through sObject Collections (§3) or Bulk API 2.0
//! ingest (§5). Every failure is classified where it happens ([`SalesforceError::class`], §7) and
//! the last `Sforce-Limit-Info` is kept for pacing ([`SalesforceClient::api_usage`], §6).
//! The client never retries on its own beyond that re-auth: retry policy belongs to the caller.
//!
//! Reads go the same way: SOQL `query`/`queryAll` and their pages, getUpdated/getDeleted, Bulk
//! API 2.0 query jobs, and Change Data Capture events over the Streaming API ([`StreamingClient`]).

mod bulk;
mod bulk_query;
mod bulk_upload;
mod change_event;
mod client;
mod collections;
mod config;
mod csv_rows;
mod datetime;
mod error;
pub mod gate;
mod limits;
pub mod metrics;
mod query;
mod replication;
mod streaming;
mod token;
mod types;

pub use bulk::{BulkOperation, FailedRow, JobInfo, JobState, MAX_UPLOAD_BYTES, SuccessfulRow};
pub use bulk_query::{QueryJobInfo, QueryOperation, QueryResults, ResultsPage};
pub use bulk_upload::{CsvSource, CsvUpload};
pub use change_event::{ChangeEvent, ChangeEventHeader, ChangeType};
pub use client::{SalesforceClient, counts_against_api_limit};
pub use collections::MAX_COLLECTION_RECORDS;
pub use config::{
    ApiVersion, ApiVersionError, DEFAULT_API_VERSION, DEFAULT_LOGIN_URL, SalesforceConfig,
    audience_for,
};
pub use csv_rows::{CsvRow, CsvRowError, CsvRows};
pub use datetime::{parse_datetime, soql_datetime};
pub use error::{FailureClass, SalesforceError};
pub use limits::{ApiUsage, OrgLimit, OrgLimits, PerAppUsage, parse_limit_info};
pub use query::{QUERY_BATCH_SIZE, QueryOptions, QueryPage};
pub use replication::{DeletedRecord, DeletedRecords, UpdatedIds};
pub use streaming::{Delivery, ReplayFrom, StreamingClient};
pub use types::{FieldDescribe, PicklistValue, RecordError, RecordResult, SObjectDescribe};
