//! Each transient fault Salesforce can throw is recovered with nothing lost; a record error is
//! kept with Salesforce's code and goes again through the failures API.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::sim::FaultConfig;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, config, contacts, count_rows, eventually, pusher_for};
use crate::push_support::settle;

/// Stages 300 Contacts (two batches), breaks Salesforce as `faults` says, pushes until the queue
/// settles, and checks every record is in Salesforce once with its Id on its row.
async fn recovers_from(pool: PgPool, faults: FaultConfig, overrides: &[(&str, &str)]) -> TestHub {
    let hub = TestHub::start_api_only(pool).await;
    assert_eq!(
        hub.post_records("Contact", &contacts("F", 300))
            .await
            .status(),
        202
    );
    hub.sim.sim.set_faults(faults);
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, overrides), "test");
    settle(&[pusher], &hub.pool, Duration::from_secs(40)).await;
    assert_eq!(
        count_rows(
            &hub.pool,
            "sync_status = 'synced' AND salesforce_id IS NOT NULL"
        )
        .await,
        300
    );
    assert_eq!(
        hub.sim.sim.records("Contact").len(),
        300,
        "nothing lost, nothing doubled"
    );
    hub
}

#[sqlx::test]
async fn service_unavailable_answers_are_retried(pool: PgPool) {
    let faults = FaultConfig {
        unavailable_next: 3,
        ..FaultConfig::default()
    };
    let hub = recovers_from(pool, faults, &[]).await;
    assert_eq!(
        hub.sim.sim.faults().unavailable_next,
        0,
        "the faults were met"
    );
}

#[sqlx::test]
async fn server_errors_are_retried(pool: PgPool) {
    let faults = FaultConfig {
        server_error_next: 3,
        ..FaultConfig::default()
    };
    let hub = recovers_from(pool, faults, &[]).await;
    assert_eq!(hub.sim.sim.faults().server_error_next, 0);
}

#[sqlx::test]
async fn dropped_connections_are_retried(pool: PgPool) {
    let faults = FaultConfig {
        drop_next: 3,
        ..FaultConfig::default()
    };
    let hub = recovers_from(pool, faults, &[]).await;
    assert_eq!(hub.sim.sim.faults().drop_next, 0);
}

#[sqlx::test]
async fn answers_slower_than_the_timeout_are_retried(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("S", 300)).await;
    crate::helpers::settle(&hub.pool).await;
    hub.sim.sim.set_faults(FaultConfig {
        latency_ms: 1500,
        ..FaultConfig::default()
    });
    let pusher = pusher_for(
        &hub.pool,
        &config(&hub.sim.url, &[("SALESFORCE_TIMEOUT_SECS", "1")]),
        "test",
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    pusher.push_next_batch().await.unwrap();
    assert_eq!(
        count_rows(
            &hub.pool,
            "last_error_code = 'NETWORK_ERROR' AND attempts = 1"
        )
        .await,
        200,
        "a timeout is a transient failure of the whole batch"
    );
    hub.sim.sim.clear_faults();
    settle(&[pusher], &hub.pool, Duration::from_secs(30)).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 300);
    assert_eq!(hub.sim.sim.records("Contact").len(), 300);
}

#[sqlx::test]
async fn records_salesforce_could_not_lock_are_retried_alone(pool: PgPool) {
    let faults = FaultConfig {
        lock_external_ids: vec!["F-7".into(), "F-7".into(), "F-250".into()],
        ..FaultConfig::default()
    };
    let hub = recovers_from(pool, faults, &[]).await;
    let sent = hub.sim.sim.upserted_external_ids("Contact");
    assert_eq!(
        sent.iter().filter(|e| *e == "F-7").count(),
        3,
        "two locks, then synced"
    );
    assert_eq!(
        sent.iter().filter(|e| *e == "F-8").count(),
        1,
        "its neighbours went once"
    );
    assert_eq!(sent.len(), 303);
}

#[sqlx::test]
async fn an_outage_window_is_waited_out(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("O", 300)).await;
    hub.sim.sim.outage_for(Duration::from_secs(3));
    let pusher = hub.pusher("test");
    settle(&[pusher], &hub.pool, Duration::from_secs(40)).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 300);
    assert_eq!(hub.sim.sim.records("Contact").len(), 300);
}

/// An org-wide outage pauses the push (one probe at a time) instead of spending the records'
/// attempts: with only two attempts a record, none is parked, and the push drains at once after.
#[sqlx::test]
async fn an_outage_pauses_the_push_and_keeps_the_records_attempts(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records("Contact", &contacts("P", 1000)).await;
    let settings = config(
        &hub.sim.url,
        &[
            ("PUSH_MAX_ATTEMPTS", "2"),
            ("PUSH_BATCH_WINDOW_MS", "0"),
            ("PUSH_BULK_THRESHOLD", "100000"),
        ],
    );
    let pusher = pusher_for(&hub.pool, &settings, "test");
    let outage = Duration::from_secs(8);
    let before = hub.sim.sim.requests_received();
    hub.sim.sim.outage_for(outage);
    let started = Instant::now();
    let shutdown = CancellationToken::new();
    let running = tokio::spawn(sluice::push::run(pusher, shutdown.clone()));
    tokio::time::sleep(outage).await;
    let during = hub.sim.sim.requests_received() - before;
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(30), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1000 }
    })
    .await;
    let drained = started.elapsed() - outage;
    shutdown.cancel();
    running.await.unwrap();

    assert_eq!(count_rows(&hub.pool, "sync_status = 'failed'").await, 0);
    assert_eq!(hub.sim.sim.records("Contact").len(), 1000);
    // Three failures start the pause; then probes after 0.5, 1, 2 and 4 s (and a token).
    assert!(during <= 10, "{during} requests during an 8 s outage");
    // The last probe waits at most 4 s past the outage's end, then 5 calls go at once.
    assert!(
        drained < Duration::from_secs(8),
        "drained {drained:?} after"
    );
}

#[sqlx::test]
async fn a_record_error_is_kept_and_goes_again_through_the_failures_api(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    let orphan = json!([{"External_Id__c": "C-1", "LastName": "Orphan",
                         "Account": {"External_Id__c": "A-404"}}]);
    hub.post_records("Contact", &orphan).await;
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(10),
    )
    .await;

    let failures: Value = hub
        .get("/v1/failures?object=Contact")
        .await
        .json()
        .await
        .unwrap();
    let failure = &failures["failures"][0];
    assert_eq!(failure["external_id"], "C-1");
    assert_eq!(failure["error_code"], "INVALID_FIELD", "{failures}");
    assert!(
        failure["error_message"].as_str().unwrap().contains("A-404"),
        "{failures}"
    );

    // The parent arrives; retrying the child through the API makes it go again.
    hub.post_records(
        "Account",
        &json!([{"External_Id__c": "A-404", "Name": "Acme"}]),
    )
    .await;
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'failed'").await, 1);
    let retried: Value = hub
        .http
        .post(format!("{}/v1/failures/retry", hub.url))
        .bearer_auth(&hub.token)
        .json(&json!({"object": "Contact", "external_ids": ["C-1"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(retried["records"], 1);
    settle(&[pusher], &hub.pool, Duration::from_secs(10)).await;
    let contact = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "C-1")
        .expect("in Salesforce");
    let account = hub
        .sim
        .sim
        .record_by_external_id("Account", "External_Id__c", "A-404")
        .unwrap();
    assert_eq!(contact["AccountId"], account["Id"]);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 2);
}

fn named(n: usize, last_name: &str) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"External_Id__c": format!("L-{i}"), "LastName": format!("{last_name}{i}")}))
            .collect(),
    )
}

/// Salesforce goes on with a call whose client timed out and writes its records 2 s later; the
/// newer version staged meanwhile must land after it, so that Salesforce ends with the last
/// version the hub accepted.
#[sqlx::test]
async fn a_late_answer_never_overtakes_a_newer_version(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    assert_eq!(
        hub.post_records("Contact", &named(50, "Old"))
            .await
            .status(),
        202
    );
    hub.sim.sim.set_faults(FaultConfig {
        late_collections_next: 1,
        late_ms: 2000,
        ..FaultConfig::default()
    });
    let cfg = config(
        &hub.sim.url,
        &[
            ("SALESFORCE_TIMEOUT_SECS", "1"),
            ("PUSH_UNANSWERED_HOLD_SECS", "3"),
        ],
    );
    let pusher = pusher_for(&hub.pool, &cfg, "test");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = std::time::Instant::now();
    pusher.push_next_batch().await.unwrap();
    assert_eq!(
        count_rows(
            &hub.pool,
            "last_error_code = 'NETWORK_ERROR' AND unanswered_until IS NOT NULL"
        )
        .await,
        50,
        "the timed-out call is unanswered: its records are held"
    );
    assert_eq!(
        hub.post_records("Contact", &named(50, "New"))
            .await
            .status(),
        202
    );
    settle(&[pusher], &hub.pool, Duration::from_secs(30)).await;
    // Whatever the hub did, the late call has landed by now.
    tokio::time::sleep(Duration::from_millis(2500).saturating_sub(sent.elapsed())).await;

    for i in 0..50 {
        let record = hub
            .sim
            .sim
            .record_by_external_id("Contact", "External_Id__c", &format!("L-{i}"))
            .expect("in Salesforce");
        assert_eq!(
            record["LastName"],
            format!("New{i}"),
            "L-{i}: the last version wins"
        );
    }
    assert_eq!(hub.sim.sim.records("Contact").len(), 50);
    assert_eq!(
        hub.sim.sim.upserted_external_ids("Contact").len(),
        100,
        "the late call and the newer version, nothing more"
    );
    assert_eq!(
        count_rows(
            &hub.pool,
            "sync_status = 'synced' AND unanswered_until IS NULL"
        )
        .await,
        50
    );
}
