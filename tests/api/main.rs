//! Integration tests: a real Postgres (a fresh database per test, `#[sqlx::test]`), the hub on
//! port 0, and the Salesforce simulator over HTTP.

mod helpers;

mod apex;
mod corpus;
mod hostile;
mod inbox;
mod ingest;
mod logs;
mod metrics;
mod normalize;
mod openapi;
mod ops;
mod org_setup;
mod preview;
mod pulls;
mod push;
mod push_bench;
mod push_bulk;
mod push_dynos;
mod push_faults;
mod push_lane;
mod push_limits;
mod push_support;
mod push_window;
mod reads;
mod reads_changes;
mod reads_merge;
mod reads_support;
mod resilience;
mod security;
mod sources_support;
mod sql_writes;
mod startup;
mod status_page;
mod webhooks;
