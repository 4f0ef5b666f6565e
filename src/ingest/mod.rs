//! Ingest: batches of records coming into the hub.
//!
//! Records posted by senders are normalized through their sender's mapping, checked against
//! Salesforce's describe, and staged in Postgres ([`routes`]). Records changed in Salesforce and
//! sent back by Apex are stored as Salesforce has them, never to be pushed back
//! ([`from_salesforce`]).

mod answer;
mod decode;
pub mod from_salesforce;
mod idempotency;
pub mod intake;
pub mod merger;
pub mod metrics;
mod ndjson;
mod pipeline;
pub mod preview;
mod records;
pub mod routes;
mod salesforce_records;
mod sample;
mod strict_json;
pub mod try_file;

pub use answer::{IngestResponse, RecordResult, RecordStatus};
pub use records::MAX_RECORDS_PER_REQUEST;
pub use routes::{DEFAULT_SOURCE, post_records};
pub use salesforce_records::MAX_SALESFORCE_RECORDS;
