//! Sluice: a data hub for Salesforce.

pub mod sim;
