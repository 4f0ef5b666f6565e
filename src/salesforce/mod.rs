//! A typed client for the Salesforce REST API.
