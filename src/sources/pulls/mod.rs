//! Scheduled pulls: a source declared with `[pull]` in its mapping file is read from a JSON API
//! on a schedule, page by page, and its items go through the source's mappings like posted
//! records.
//!
//! - **One dyno at a time.** A run holds a lease on the pull's row in `source_pulls` (a row,
//!   not an advisory lock, which a transaction-mode pooler breaks), renewed with every page; a
//!   dyno that dies leaves it to expire, and another takes the pull over.
//! - **Nothing half-written.** Each page's records are staged in the transaction that moves the
//!   run's position (the next page, the largest watermark seen), and only while the lease is
//!   still ours. A run that stops (a failed page past its retries, SIGTERM, a dead dyno) leaves
//!   that position, and the next run resumes from it with the same watermark parameter.
//! - **Incremental.** The largest watermark value seen (`updated_at`, …) becomes the pull's
//!   watermark when a run completes, and the next run sends it as the API's `updated_since`-style
//!   parameter. Items at the boundary may be read twice, which staging makes harmless.
//!
//! [`Puller::run`] is one run; the [`scheduler`] only decides when to call it. Operators see
//! each pull's runs ([`store::statuses`]) and ask for one now ([`store::request_run`], the
//! status page's button) or run one themselves (`sluice pull SOURCE`).

mod fetch;
mod runner;
pub mod scheduler;
pub mod store;
mod watermark;

pub use runner::{PullError, Puller, RunOutcome, RunReport};
pub use scheduler::run;
pub use store::{PullStatus, RunStatus};
