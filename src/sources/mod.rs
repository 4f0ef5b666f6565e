//! Other ways in: records that external services push as signed webhooks ([`webhooks`]) and
//! records pulled on a schedule from internal JSON APIs ([`pulls`]).
//!
//! Both go through the source's mapping like posted records: a payload (an event, a pulled item)
//! is nested JSON, each object of the source takes the records its `records` path selects in it
//! ([`crate::normalize::Mapping::records_of`]), parents first, and they are checked and staged
//! by [`crate::ingest::intake::stage_records`] in the same transaction that records where the
//! source stands (the event's id, the pull's next page), so nothing is half-written.

mod intake;
pub mod metrics;
pub mod pulls;
pub mod webhooks;

pub use intake::{Intake, stage_payloads};
