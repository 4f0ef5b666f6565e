use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestHub, drain, token};
use crate::ops::{contact, hub_failing_fast, lock_in_salesforce};

/// The value of one series in a Prometheus text exposition, e.g. `x_total{object="Contact"}`.
pub fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Counters live in the process; nextest runs each test in its own process, so they start at 0.
fn counters_are_this_tests_own() -> bool {
    std::env::var("NEXTEST_EXECUTION_MODE").as_deref() == Ok("process-per-test")
}

#[sqlx::test]
async fn metrics_show_what_was_ingested_and_pushed(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    lock_in_salesforce(&hub, &["C-3"]).await;
    let body = json!([
        contact("C-1", "One"),
        contact("C-2", "Two"),
        contact("C-3", "Three"),
        {"LastName": "No external id"},
    ]);
    assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
    drain(&hub.pusher("metrics-test")).await;

    let response = hub.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let value = |series: &str| {
        sample(&text, series).unwrap_or_else(|| panic!("{series} missing from:\n{text}"))
    };

    // Read from Postgres at scrape time: exact whatever else ran in this process.
    assert_eq!(
        value(r#"sluice_records{object="Contact",status="synced"}"#),
        2.0
    );
    assert_eq!(
        value(r#"sluice_records{object="Contact",status="failed"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_records{object="Account",status="pending"}"#),
        0.0
    );
    assert_eq!(value(r#"sluice_queue_depth{object="Contact"}"#), 0.0);
    assert_eq!(value(r#"sluice_queue_lag_seconds{object="Contact"}"#), 0.0);
    let used = value("sluice_salesforce_api_used");
    assert!(used >= 1.0, "the push call counts against the org's usage");
    assert_eq!(value("sluice_salesforce_api_max"), 15_000.0);
    assert_eq!(value("sluice_salesforce_api_left"), 15_000.0 - used);
    // Each usage update leaves a sample for the status page's 24 h chart.
    let history = sluice::salesforce::gate::usage_history(&hub.pool)
        .await
        .unwrap();
    assert_eq!(history.last().map(|s| s.used as f64), Some(used));

    if !counters_are_this_tests_own() {
        eprintln!(
            "counters shared with other tests in this process: exact counts checked under nextest only"
        );
        assert!(value(r#"sluice_records_received_total{object="Contact"}"#) >= 4.0);
        return;
    }
    assert_eq!(
        value(r#"sluice_records_received_total{object="Contact"}"#),
        4.0
    );
    assert_eq!(
        value(r#"sluice_records_rejected_total{object="Contact"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_records_staged_total{object="Contact"}"#),
        3.0
    );
    assert_eq!(
        value(r#"sluice_records_pushed_total{object="Contact"}"#),
        2.0
    );
    assert_eq!(
        value(r#"sluice_records_failed_total{object="Contact"}"#),
        0.0
    );
    // C-3's lock error is transient: counted as retried, then parked as failed (one attempt).
    assert_eq!(
        value(r#"sluice_records_retried_total{object="Contact"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_push_batch_size_count{object="Contact"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_push_batch_size_sum{object="Contact"}"#),
        3.0
    );
    assert_eq!(
        value(r#"sluice_push_batch_size_bucket{object="Contact",le="1"}"#),
        0.0
    );
    assert_eq!(
        value(r#"sluice_push_batch_size_bucket{object="Contact",le="5"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_push_duration_seconds_count{object="Contact"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_salesforce_calls_total{kind="collections",outcome="success"}"#),
        1.0
    );
    // The hub's own token, minted for its start-up describes, and the test pusher's: the
    // recorder exists before the hub's first call, so both are counted.
    assert_eq!(value("sluice_salesforce_token_requests_total"), 2.0);
}

#[sqlx::test]
async fn a_transient_failure_counts_as_retried(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "C-1", "LastName": "One"}]),
    )
    .await;
    hub.http
        .post(format!("{}/__sim/faults", hub.sim.url))
        .json(&json!({"unavailable_next": 1}))
        .send()
        .await
        .unwrap();
    let pusher = hub.pusher("metrics-test");
    drain(&pusher).await;
    // Skip the backoff instead of sleeping through it.
    sqlx::query("UPDATE staging_records SET next_attempt_at = now()")
        .execute(&hub.pool)
        .await
        .unwrap();
    drain(&pusher).await;
    let text = hub.get("/metrics").await.text().await.unwrap();
    if counters_are_this_tests_own() {
        assert_eq!(
            sample(&text, r#"sluice_records_retried_total{object="Contact"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(&text, r#"sluice_records_pushed_total{object="Contact"}"#),
            Some(1.0)
        );
        assert_eq!(
            sample(
                &text,
                r#"sluice_salesforce_calls_total{kind="collections",outcome="transient"}"#
            ),
            Some(1.0)
        );
    }
}

#[sqlx::test]
async fn metrics_need_the_admin_scope(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let anonymous = hub
        .http
        .get(format!("{}/metrics", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let writer = hub
        .http
        .get(format!("{}/metrics", hub.url))
        .bearer_auth(token("records:write"))
        .send()
        .await
        .unwrap();
    assert_eq!(writer.status(), 403);
}

#[sqlx::test]
async fn a_record_deleted_through_the_hub_is_counted_as_deleted(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records(
        "Contact",
        &json!([contact("C-1", "One"), contact("C-2", "Two")]),
    )
    .await;
    let pusher = hub.pusher("metrics-test");
    drain(&pusher).await;
    let deleted = hub
        .http
        .delete(format!("{}/v1/objects/Contact/records/C-1", hub.url))
        .bearer_auth(&hub.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 202);
    drain(&pusher).await;

    let text = hub.get("/metrics").await.text().await.unwrap();
    let value = |series: &str| {
        sample(&text, series).unwrap_or_else(|| panic!("{series} missing from:\n{text}"))
    };
    assert_eq!(
        value(r#"sluice_records{object="Contact",status="deleted"}"#),
        1.0
    );
    assert_eq!(
        value(r#"sluice_records{object="Contact",status="synced"}"#),
        1.0
    );
}
