//! The push engine: a scheduler in the web process that sends staged changes to Salesforce in
//! batches (sObject Collections, or Bulk API 2.0 for a backlog), under the call gate, and writes
//! each record's outcome back on its row.
//!
//! [`Pusher::push_next_batch`] is one unit of work (plan, claim, send, record outcomes); the
//! [`scheduler`] loop only decides when to call it. Apex's push-now ([`push_now`]) makes records
//! due at once.

mod admission;
mod backoff;
mod bulk;
mod bulk_csv;
mod bulk_results;
mod collections;
pub mod jobs;
pub mod lane;
pub mod metrics;
pub mod plan;
mod preflight;
pub mod push_now;
mod pusher;
mod results;
mod resume;
pub mod scheduler;

pub use lane::BulkLane;
pub use pusher::{Outcome, PushError, Pusher};
pub use scheduler::run;
