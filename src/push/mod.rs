//! The push engine: a scheduler in the web process that sends staged changes to Salesforce in
//! batches, under the call gate, and writes each record's outcome back on its row.

mod backoff;
mod batch;
pub mod gate;
mod scheduler;
pub mod store;

pub use batch::{Outcome, PushError, Pusher};
pub use scheduler::{release_all, run};
