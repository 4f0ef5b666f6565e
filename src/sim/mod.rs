//! A Salesforce simulator for tests and local runs.
