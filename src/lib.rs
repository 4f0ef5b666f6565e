//! Sluice: a data hub for Salesforce.
//!
//! Records arrive over HTTP ([`ingest`]), are checked and staged in Postgres ([`staging`]), and
//! a scheduler in the same process ([`push`]) sends them to Salesforce in rate-limited batches
//! through a typed client ([`salesforce`]). [`sim`] is a Salesforce simulator for tests and local
//! runs. [`serve`] wires it together; [`http`] is the API and its OpenAPI document.

pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod describe;
pub mod error;
pub mod extract;
pub mod failures;
pub mod http;
pub mod ingest;
pub mod normalize;
pub mod objects;
pub mod observe;
pub mod ops;
pub mod org_fit;
pub mod push;
pub mod read;
pub mod records;
pub mod salesforce;
pub mod serve;
pub mod sim;
pub mod sources;
pub mod staging;
pub mod state;
pub mod status_page;
pub mod telemetry;
