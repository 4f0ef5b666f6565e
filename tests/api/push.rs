use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;
use sluice::push::Outcome;
use sqlx::PgPool;

use crate::helpers::{TestHub, contacts, count_rows, drain, eventually, pusher_for};

#[sqlx::test]
async fn staged_records_reach_salesforce_and_get_their_ids_back(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    for batch in 0..5 {
        let response = hub
            .post_records("Contact", &contacts(&format!("B{batch}"), 200))
            .await;
        assert_eq!(response.status(), 202);
    }
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(20), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1000 }
    })
    .await;
    let in_salesforce = hub.sim.sim.records("Contact");
    assert_eq!(in_salesforce.len(), 1000);
    let (external_id, salesforce_id): (String, String) = sqlx::query_as(
        "SELECT external_id, salesforce_id FROM staging_records WHERE external_id = 'B3-17'",
    )
    .fetch_one(&hub.pool)
    .await
    .unwrap();
    let record = in_salesforce
        .iter()
        .find(|r| r["External_Id__c"] == json!(external_id))
        .expect("in the simulator");
    assert_eq!(record["Id"], json!(salesforce_id));
    assert_eq!(record["LastName"], json!("Name17"));
    hub.stop().await.expect("clean shutdown");
}

#[sqlx::test]
async fn a_record_salesforce_rejects_keeps_its_error_and_the_others_sync(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    // Errors only Salesforce can see: ingest checks each record alone.
    let body = json!([
        {"External_Id__c": "C-1", "LastName": "Fine"},
        {"External_Id__c": "C-2", "LastName": "Orphan", "Account": {"External_Id__c": "A-404"}},
        {"External_Id__c": "C-3", "LastName": "Orphan too", "Account": {"External_Id__c": "A-405"}},
    ]);
    assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
    drain(&hub.pusher("test")).await;

    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT external_id, sync_status, last_error_code, salesforce_id FROM staging_records ORDER BY external_id",
    )
    .fetch_all(&hub.pool)
    .await
    .unwrap();
    assert_eq!(rows[0].1, "synced");
    assert!(rows[0].3.is_some());
    for row in &rows[1..] {
        assert_eq!(
            (row.1.as_str(), row.2.as_deref()),
            ("failed", Some("INVALID_FIELD"))
        );
    }
    assert_eq!(hub.sim.sim.records("Contact").len(), 1);

    // Fixing the data puts the record back in the queue.
    let parent = json!([{"External_Id__c": "A-404", "Name": "Acme"}]);
    hub.post_records("Account", &parent).await;
    let fix = json!([{"External_Id__c": "C-2", "LastName": "Now adopted"}]);
    hub.post_records("Contact", &fix).await;
    drain(&hub.pusher("test")).await;
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'synced'").await,
        1
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-3' AND sync_status = 'failed'").await,
        1
    );
}

#[sqlx::test]
async fn an_expired_token_is_renewed_once_and_nothing_is_lost(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    hub.post_records("Contact", &contacts("A", 10)).await;
    drain(&pusher).await;
    hub.sim.sim.expire_all_tokens();
    hub.post_records("Contact", &contacts("B", 10)).await;
    drain(&pusher).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 20);
    assert_eq!(hub.sim.sim.records("Contact").len(), 20);
}

#[sqlx::test]
async fn request_limit_exceeded_pauses_the_push_and_loses_nothing(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    hub.post_records("Contact", &contacts("C", 5)).await;
    hub.sim.sim.set_api_usage(15_000, 15_000);
    // Past the batch window, the batch is ready.
    tokio::time::sleep(Duration::from_millis(50)).await;

    let outcome = pusher.push_next_batch().await.unwrap();
    assert!(
        matches!(outcome, Outcome::Pushed { synced: 0, .. }),
        "{outcome:?}"
    );
    assert_eq!(
        count_rows(&hub.pool, "sync_status = 'pending' AND attempts = 0").await,
        5
    );
    // While paused, no scheduler calls Salesforce.
    let calls = hub.sim.sim.api_calls();
    let other = pusher_for(&hub.pool, &hub.config, "other-dyno");
    let outcome = other.push_next_batch().await.unwrap();
    assert!(!matches!(outcome, Outcome::Pushed { .. }), "{outcome:?}");
    assert_eq!(hub.sim.sim.api_calls(), calls);

    // The answer said the allowance is spent: past the limit pause, a hard stop for the budget.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let outcome = other.push_next_batch().await.unwrap();
    assert!(matches!(outcome, Outcome::Wait(_)), "{outcome:?}");
    assert_eq!(hub.sim.sim.api_calls(), calls);
    let usage = sluice::salesforce::gate::usage(&hub.pool).await.unwrap();
    let hold = usage.hold_at(chrono::Utc::now()).expect("paused");
    assert_eq!(hold.reason, sluice::salesforce::gate::PauseReason::Budget);

    // Once the report that found it spent is a day old, the rolling window has freed room: the
    // push resumes without reading `/limits` first.
    hub.sim.sim.set_api_usage(100, 15_000);
    sqlx::query("UPDATE salesforce_usage SET observed_at = now() - interval '25 hours'")
        .execute(&hub.pool)
        .await
        .unwrap();
    drain(&pusher).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 5);
    assert_eq!(hub.sim.sim.calls_by_kind().get("limits"), None);
}

#[sqlx::test]
async fn two_schedulers_on_one_database_never_send_the_same_record_twice(pool: PgPool) {
    let overrides = [("PUSH_ENABLED", "false"), ("PUSH_BULK_THRESHOLD", "100000")];
    let hub = TestHub::start_with(pool, &overrides).await;
    for batch in 0..10 {
        hub.post_records("Contact", &contacts(&format!("B{batch}"), 200))
            .await;
    }
    let a = pusher_for(&hub.pool, &hub.config, "dyno-a");
    let b = pusher_for(&hub.pool, &hub.config, "dyno-b");
    let (pushed_a, pushed_b) = tokio::join!(drain(&a), drain(&b));
    let records = |outcomes: &[Outcome]| -> usize {
        outcomes
            .iter()
            .map(|o| match o {
                Outcome::Pushed { records, .. } => *records,
                _ => 0,
            })
            .sum()
    };
    assert_eq!(records(&pushed_a) + records(&pushed_b), 2000);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 2000);
    let received = hub.sim.sim.upserted_external_ids("Contact");
    assert_eq!(received.len(), 2000, "every record sent exactly once");
    assert_eq!(received.iter().collect::<HashSet<_>>().len(), 2000);
}

#[sqlx::test]
async fn changes_made_while_a_record_is_in_flight_are_pushed_after(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "C-1", "LastName": "First"}]),
    )
    .await;
    let pusher = hub.pusher("test");
    let contact = sluice::staging::ObjectName::parse("Contact").unwrap();
    let claim = crate::push_support::test_claim(&contact);
    let claimed = sluice::staging::claim(&hub.pool, claim).await.unwrap();
    assert_eq!(claimed.len(), 1);
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "C-1", "LastName": "Second"}]),
    )
    .await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'in_flight'").await, 1);
    // A crashed scheduler's lease is reclaimed only after it expires.
    sqlx::query("UPDATE staging_records SET lease_expires_at = now() - interval '1 second'")
        .execute(&hub.pool)
        .await
        .unwrap();
    drain(&pusher).await;
    let in_salesforce = hub.sim.sim.records("Contact");
    assert_eq!(in_salesforce[0]["LastName"], json!("Second"));
    assert_eq!(
        count_rows(&hub.pool, "sync_status = 'synced' AND synced_version = 2").await,
        1
    );
}

#[sqlx::test]
async fn an_unchanged_resend_costs_no_api_call(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    hub.post_records("Contact", &contacts("C", 50)).await;
    drain(&pusher).await;
    let calls = hub.sim.sim.api_calls();
    let again: serde_json::Value = hub
        .post_records("Contact", &contacts("C", 50))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["unchanged"], 50);
    assert!(drain(&pusher).await.is_empty());
    assert_eq!(hub.sim.sim.api_calls(), calls);
}

#[sqlx::test]
async fn sigterm_stops_the_hub_cleanly_within_the_grace_period(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    hub.post_records("Contact", &contacts("C", 400)).await;
    let started = std::time::Instant::now();
    hub.stop().await.expect("serve returns Ok");
    assert!(started.elapsed() < Duration::from_secs(6));
}
