//! The resilience suite at CI scale (bench/resilience.sh is the large one): records posted through
//! the API while the scheduler runs and something breaks, and at the end every accepted record is
//! in Salesforce exactly once with the fields it was sent with.

use std::time::Duration;

use serde_json::{Value, json};
use sluice::sim::FaultConfig;
use sqlx::PgPool;

use crate::helpers::{TestHub, contacts, count_rows, eventually};

const RECORDS: usize = 600;

/// Posts `RECORDS` Contacts in 200-record requests and returns what was posted.
async fn post_all(hub: &TestHub, prefix: &str) -> Vec<Value> {
    let records = contacts(prefix, RECORDS);
    let records = records.as_array().expect("array").clone();
    for chunk in records.chunks(200) {
        let response = hub.post_records("Contact", &json!(chunk)).await;
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
    }
    records
}

/// Waits until every staged row is synced, then checks each sent record is in the simulator once,
/// with its fields.
async fn assert_all_arrived_once(hub: &TestHub, sent: &[Value], within: Duration) {
    eventually(within, || async {
        count_rows(&hub.pool, "sync_status = 'synced'").await == sent.len() as i64
    })
    .await;
    let in_salesforce = hub.sim.sim.records("Contact");
    assert_eq!(
        in_salesforce.len(),
        sent.len(),
        "nothing lost, nothing doubled"
    );
    for record in sent {
        let ext = record["External_Id__c"].as_str().expect("external id");
        let found = hub
            .sim
            .sim
            .record_by_external_id("Contact", "External_Id__c", ext)
            .unwrap_or_else(|| panic!("{ext} is not in Salesforce"));
        for field in ["LastName", "Email"] {
            assert_eq!(found[field], record[field], "{ext}.{field}");
        }
    }
}

/// Salesforce calls that failed transiently, from the hub's `/metrics`.
async fn transient_calls(hub: &TestHub) -> u64 {
    let text = hub.get("/metrics").await.text().await.expect("metrics");
    text.lines()
        .filter(|l| {
            l.starts_with("sluice_salesforce_calls_total") && l.contains(r#"outcome="transient""#)
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[sqlx::test]
async fn salesforce_down_then_slow_then_failing_one_call_in_five_loses_nothing(pool: PgPool) {
    let hub = TestHub::start_with(pool, &[("PUSH_MAX_ATTEMPTS", "20")]).await;
    hub.sim.sim.outage_for(Duration::from_millis(1500));
    let sent = post_all(&hub, "R").await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    hub.sim.sim.set_faults(FaultConfig {
        latency_ms: 300,
        ..FaultConfig::default()
    });
    tokio::time::sleep(Duration::from_millis(800)).await;
    hub.sim.sim.set_faults(FaultConfig {
        fail_one_in: 5,
        ..FaultConfig::default()
    });
    // Long enough for every batch to meet the failures; cleared so that backoff, which doubles
    // from 1 s, does not make the test slow.
    tokio::time::sleep(Duration::from_secs(3)).await;
    hub.sim.sim.clear_faults();
    assert!(transient_calls(&hub).await > 0, "the faults were met");
    assert_all_arrived_once(&hub, &sent, Duration::from_secs(90)).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'failed'").await, 0);
}

#[sqlx::test]
async fn losing_every_database_connection_during_pushes_loses_nothing(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    let sent = post_all(&hub, "D").await;
    // What a PostgreSQL restart or failover does to the hub's connections, short of restarting
    // the shared test server.
    // A round may find the hub between connections (it reconnects on demand): what counts is
    // that its connections were cut while it pushed.
    let mut killed = 0;
    for _ in 0..3 {
        let round: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&hub.pool)
        .await
        .expect("terminate");
        killed += round.len();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    assert!(killed > 0, "the hub held connections");
    assert_all_arrived_once(&hub, &sent, Duration::from_secs(60)).await;
}

#[sqlx::test]
async fn ingest_during_a_database_restart_answers_503_never_500(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    // Each round cuts every connection the hub holds (what a restart or failover does), then
    // posts at once: the hub may have reconnected (202) or not yet (503), never a 500.
    let mut answers = std::collections::BTreeMap::new();
    for round in 0..10 {
        sqlx::query_scalar::<_, bool>(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_all(&hub.pool)
        .await
        .expect("terminate");
        let response = hub
            .post_records("Contact", &contacts(&format!("R{round}-"), 5))
            .await;
        let status = response.status().as_u16();
        if status == 503 {
            let problem: Value = response.json().await.unwrap();
            assert_eq!(problem["status"], 503, "{problem}");
        }
        *answers.entry(status).or_insert(0) += 1;
    }
    assert!(
        answers.keys().all(|s| *s == 202 || *s == 503),
        "answers by status: {answers:?}"
    );
}
