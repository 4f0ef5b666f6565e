//! Records Salesforce refused: listed, retried after the data is fixed, or discarded.
//! The API routes and the `sluice retry` / `sluice discard` commands share [`store`].

pub mod routes;
pub mod store;

pub use store::{FailedRecord, FailureFilter};
