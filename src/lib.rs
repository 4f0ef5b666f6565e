//! Sluice: a data hub for Salesforce.

pub mod auth;
pub mod salesforce;
pub mod sim;
