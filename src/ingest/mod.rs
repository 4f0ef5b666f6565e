//! Ingest: records posted to the API are normalized through their sender's mapping, checked
//! against Salesforce's describe, and staged in Postgres.

mod answer;
mod idempotency;
mod ndjson;
mod pipeline;
pub mod preview;
mod records;
pub mod routes;
mod sample;
pub mod try_file;

pub use answer::{IngestResponse, RecordResult, RecordStatus};
pub use records::MAX_RECORDS_PER_REQUEST;
pub use routes::{DEFAULT_SOURCE, get_record, post_records};
