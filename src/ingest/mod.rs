//! Ingest: records posted to the API are checked, normalized and staged in Postgres.

mod idempotency;
mod records;
pub mod routes;

pub use records::{MAX_RECORDS_PER_REQUEST, ParsedBatch, parse_batch};
pub use routes::{IngestResponse, RecordResult, RecordStatus, get_record, post_records};
