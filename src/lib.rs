//! Sluice: a data hub for Salesforce.
//!
//! Records arrive over HTTP ([`ingest`]), are normalized and staged in Postgres ([`staging`]), and
//! a scheduler in the same process pushes them to Salesforce in rate-limited batches ([`push`])
//! through a typed client ([`salesforce`]). [`sim`] is a Salesforce simulator for tests and local runs.

pub mod auth;
pub mod salesforce;
pub mod sim;
