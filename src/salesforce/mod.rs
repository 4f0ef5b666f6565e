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

mod bulk;
mod client;
mod collections;
mod config;
mod error;
pub mod gate;
mod limits;
pub mod metrics;
mod token;
mod types;

pub use bulk::{BulkOperation, FailedRow, JobInfo, JobState, MAX_UPLOAD_BYTES, SuccessfulRow};
pub use client::SalesforceClient;
pub use collections::MAX_COLLECTION_RECORDS;
pub use config::{
    ApiVersion, ApiVersionError, DEFAULT_API_VERSION, DEFAULT_LOGIN_URL, SalesforceConfig,
    audience_for,
};
pub use error::{FailureClass, SalesforceError};
pub use limits::{ApiUsage, OrgLimit, OrgLimits, PerAppUsage, parse_limit_info};
pub use types::{FieldDescribe, PicklistValue, RecordError, RecordResult, SObjectDescribe};
