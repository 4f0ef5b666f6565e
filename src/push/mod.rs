//! The push engine: a scheduler in the web process that sends staged changes to Salesforce in
//! batches (sObject Collections, or Bulk API 2.0 for a backlog), under the call gate, and writes
//! each record's outcome back on its row.

mod backoff;
mod batch;
mod bulk;
mod bulk_csv;
mod bulk_results;
mod collections;
pub mod gate;
pub mod jobs;
mod outcomes;
pub mod permits;
pub mod plan;
mod preflight;
mod records;
pub mod routes;
mod scheduler;
pub mod store;

pub use batch::{Outcome, PushError, Pusher};
pub use scheduler::{release_all, run};
