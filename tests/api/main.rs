//! Integration tests: a real Postgres (a fresh database per test, `#[sqlx::test]`), the hub on
//! port 0, and the Salesforce simulator over HTTP.

mod helpers;

mod ingest;
mod openapi;
mod push;
mod sql_writes;
