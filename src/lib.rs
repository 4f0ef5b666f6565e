//! Sluice: a data hub for Salesforce.

pub mod salesforce;
pub mod sim;
