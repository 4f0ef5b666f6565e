//! Seeing the hub: [`metrics`] at `/metrics`, the [`figures`] that the metrics, the status page
//! and `sluice status` share, and the record-level trace in the logs.
//!
//! The trace: the ingest request logs (debug) the external ids it staged inside its request span
//! (`request_id`); each push batch logs (debug) its `batch_id` and external ids inside the
//! `push_batch` span that also holds the Salesforce call. `grep <external id>` finds both lines;
//! their `request_id` and `batch_id` find the rest. Field values never reach a log line unless
//! `SLUICE_LOG_PAYLOADS=true` (see [`crate::telemetry::id_list`]).

pub mod figures;
pub mod format;
pub mod metrics;
