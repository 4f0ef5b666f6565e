//! The ingest inbox: a large request is answered once its records are in the inbox, and merged
//! into staging off the request path, in order, never over a newer write of another writer.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::types::Json;

use sluice::staging::inbox;

use crate::helpers::{TestHub, contacts, eventually, ndjson};

async fn inbox_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM staging_inbox")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn staged_rows(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM staging_records")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The row's fields, operation and version.
async fn row(pool: &PgPool, external_id: &str) -> (Value, String, i64) {
    let (fields, operation, version): (Json<Value>, String, i64) = sqlx::query_as(
        "SELECT fields, operation, version FROM staging_records WHERE external_id = $1",
    )
    .bind(external_id)
    .fetch_one(pool)
    .await
    .unwrap();
    (fields.0, operation, version)
}

/// Writes one record to the inbox as ingest does, committed.
async fn accept(pool: &PgPool, external_id: &str, fields: Value) {
    sqlx::query(
        "INSERT INTO staging_inbox (object, external_id, fields) VALUES ('Contact', $1, $2)",
    )
    .bind(external_id)
    .bind(fields.to_string())
    .execute(pool)
    .await
    .unwrap();
}

/// Holds the merge lock in an open transaction: no merge runs until it is dropped.
async fn hold_merges(pool: &PgPool) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT id FROM staging_inbox_merge FOR UPDATE")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

#[sqlx::test]
async fn a_large_request_is_answered_from_the_inbox_and_merged_in_order(pool: PgPool) {
    let hub = TestHub::start_api_only(pool.clone()).await;
    let held = hold_merges(&pool).await;
    let response = hub.post_records("Contact", &contacts("C", 120)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["staged"].as_u64(), body["rejected"].as_u64()),
        (Some(120), Some(0))
    );
    assert_eq!(body["results"][119]["status"], "staged");
    // The same records again, renamed: they queue behind the first request.
    let renamed: Vec<Value> = (0..120)
        .map(|i| json!({"External_Id__c": format!("C-{i}"), "LastName": format!("Renamed{i}")}))
        .collect();
    let response = hub.post_records("Contact", &Value::Array(renamed)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        inbox_rows(&pool).await,
        240,
        "both requests wait in the inbox"
    );
    assert_eq!(
        staged_rows(&pool).await,
        0,
        "nothing merged while the lock is held"
    );

    let metrics = hub.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("\nsluice_inbox_records 240\n"),
        "{metrics}"
    );

    held.rollback().await.unwrap();
    eventually(Duration::from_secs(10), || async {
        inbox_rows(&pool).await == 0
    })
    .await;
    assert_eq!(staged_rows(&pool).await, 120);
    let (fields, operation, version) = row(&pool, "C-7").await;
    assert_eq!(fields["LastName"], "Renamed7", "the later request wins");
    assert_eq!(
        fields["Email"], "person7@example.com",
        "fields it did not send are kept"
    );
    assert_eq!(operation, "upsert");
    assert_eq!(
        version, 1,
        "one merge, one version: the two requests went as one change"
    );
}

#[sqlx::test]
async fn a_small_request_after_a_large_one_follows_it_through_the_inbox(pool: PgPool) {
    let hub = TestHub::start_api_only(pool.clone()).await;
    let held = hold_merges(&pool).await;
    hub.post_records("Contact", &contacts("C", 60)).await;
    // An update without LastName, which a creation needs: staging doesn't know C-3 yet, but the
    // inbox may, so it is not refused as a creation.
    let update = json!([{"External_Id__c": "C-3", "Email": "new@example.com"}]);
    let response = hub.post_records("Contact", &update).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["results"][0]["status"], "staged", "{body}");
    assert_eq!(
        inbox_rows(&pool).await,
        61,
        "the small request went to the inbox too"
    );
    // A small request of rows the inbox doesn't hold goes straight into staging, and a creation
    // there is still held to its required fields.
    let other = json!([{"External_Id__c": "D-1", "LastName": "Direct"}, {"External_Id__c": "D-2"}]);
    let body: Value = hub
        .post_records("Contact", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["results"][0]["status"], "staged", "{body}");
    assert_eq!(body["results"][1]["status"], "rejected", "{body}");
    assert_eq!((inbox_rows(&pool).await, staged_rows(&pool).await), (61, 1));

    held.rollback().await.unwrap();
    eventually(Duration::from_secs(10), || async {
        inbox_rows(&pool).await == 0
    })
    .await;
    let (fields, _, _) = row(&pool, "C-3").await;
    assert_eq!(fields["Email"], "new@example.com");
    assert_eq!(fields["LastName"], "Name3");
}

#[sqlx::test]
async fn an_inbox_record_never_overwrites_a_newer_write_of_another_writer(pool: PgPool) {
    for id in ["SQL-1", "DEL-1", "SF-1"] {
        accept(&pool, id, json!({"LastName": "Old", "Title": "Old title"})).await;
    }
    inbox::merge(&pool, inbox::MERGE_MAX_RECORDS).await.unwrap();

    // Accepted first, then changed by others before the merge:
    accept(
        &pool,
        "SQL-1",
        json!({"LastName": "From inbox", "Department": "Inbox"}),
    )
    .await;
    accept(&pool, "DEL-1", json!({"LastName": "From inbox"})).await;
    accept(&pool, "SF-1", json!({"LastName": "From inbox"})).await;
    // an app's SQL,
    sqlx::query(
        "UPDATE staging_records SET fields = fields || '{\"LastName\": \"From SQL\"}' \
         WHERE external_id = 'SQL-1'",
    )
    .execute(&pool)
    .await
    .unwrap();
    // a deletion,
    sqlx::query("UPDATE staging_records SET operation = 'delete' WHERE external_id = 'DEL-1'")
        .execute(&pool)
        .await
        .unwrap();
    // and Salesforce's own version, read back (not a newer write of the hub's: the record from
    // the inbox must still reach Salesforce).
    sqlx::query(
        "UPDATE staging_records SET fields = fields || '{\"LastName\": \"In Salesforce\"}', \
         origin = 'salesforce' WHERE external_id = 'SF-1'",
    )
    .execute(&pool)
    .await
    .unwrap();

    assert_eq!(
        inbox::merge(&pool, inbox::MERGE_MAX_RECORDS).await.unwrap(),
        3
    );
    let (fields, operation, _) = row(&pool, "SQL-1").await;
    assert_eq!(fields["LastName"], "From SQL", "the later SQL write wins");
    assert_eq!(
        fields["Department"], "Inbox",
        "a field it did not write comes from the inbox"
    );
    assert_eq!(operation, "upsert");
    let (_, operation, _) = row(&pool, "DEL-1").await;
    assert_eq!(
        operation, "delete",
        "an older record does not bring a deleted row back"
    );
    let (fields, _, _) = row(&pool, "SF-1").await;
    assert_eq!(fields["LastName"], "From inbox");
    let status: String =
        sqlx::query_scalar("SELECT sync_status FROM staging_records WHERE external_id = 'SF-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "pending", "the hub's change goes to Salesforce");
}

#[sqlx::test]
async fn records_accepted_before_a_crash_are_merged_by_the_next_start(pool: PgPool) {
    // As a hub killed after answering would leave them: committed in the inbox, not merged.
    for i in 0..75 {
        let id = format!("C-{i}");
        let fields = json!({"External_Id__c": id, "LastName": format!("Name{i}")});
        accept(&pool, &id, fields).await;
    }
    let hub = TestHub::start(pool.clone()).await;
    eventually(Duration::from_secs(20), || async {
        hub.sim.sim.records("Contact").len() == 75
    })
    .await;
    assert_eq!(inbox_rows(&pool).await, 0);
}

#[sqlx::test]
async fn a_deletion_finds_a_record_still_in_the_inbox(pool: PgPool) {
    let hub = TestHub::start_api_only(pool.clone()).await;
    let held = hold_merges(&pool).await;
    hub.post_records("Contact", &contacts("C", 60)).await;
    let delete = hub
        .http
        .delete(format!("{}/v1/objects/Contact/records/C-5", hub.url))
        .bearer_auth(&hub.token)
        .send();
    // The deletion waits for the merge it needs, which waits for the lock.
    let release = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        held.rollback().await.unwrap();
    };
    let (response, ()) = tokio::join!(delete, release);
    let response = response.unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    let (_, operation, _) = row(&pool, "C-5").await;
    assert_eq!(operation, "delete");
}

/// A backlog still being merged from the inbox waits for the rest of it: pushed while merges
/// go on, it would go by Collections, or as a job that takes only a part. Small transactions go
/// meanwhile, as while a job runs.
#[sqlx::test]
async fn a_backlog_waits_for_the_rest_of_it_in_the_inbox_but_a_fresh_record_does_not(pool: PgPool) {
    let hub = TestHub::start_api_only(pool.clone()).await;
    hub.post_records("Contact", &contacts("B", 2500)).await;
    crate::helpers::settle(&pool).await;
    // More of the import, not merged yet.
    let held = hold_merges(&pool).await;
    hub.post_records("Contact", &contacts("C", 100)).await;
    // A record saved in an app, one of its own.
    let fresh = json!([{"External_Id__c": "F-1", "LastName": "Fresh"}]);
    hub.post_records("Contact", &fresh).await;
    tokio::time::sleep(Duration::from_millis(400)).await;

    let pusher = hub.pusher("test");
    let calls = hub.sim.sim.api_calls();
    let mut lane = sluice::push::BulkLane::spawned();
    match pusher.push_next(&mut lane).await.unwrap() {
        sluice::push::Outcome::Pushed { records, .. } => assert_eq!(records, 1),
        other => panic!("expected the fresh record pushed, got {other:?}"),
    }
    assert_eq!(hub.sim.sim.api_calls(), calls + 1, "one Collections call");
    assert!(
        matches!(
            pusher.push_next(&mut lane).await.unwrap(),
            sluice::push::Outcome::Wait(_)
        ),
        "the backlog waits while the inbox holds more of it"
    );
    assert_eq!(hub.sim.sim.api_calls(), calls + 1);

    // Once merged and quiet for the window, the whole backlog goes as one job.
    held.rollback().await.unwrap();
    crate::helpers::settle(&pool).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    crate::helpers::drain(&pusher).await;
    assert_eq!(hub.sim.sim.records("Contact").len(), 2601);
    let by_kind = hub.sim.sim.calls_by_kind();
    assert_eq!(by_kind.get("bulk_create_job"), Some(&1), "{by_kind:?}");
    assert_eq!(by_kind.get("collections_upsert"), Some(&1), "{by_kind:?}");
}

/// An inbox the merge has fallen behind refuses what would add to it: 503 with `Retry-After`,
/// naming the limit, nothing of the request stored, JSON or NDJSON. A small request still goes
/// straight into staging; once merged, large requests are taken again.
#[sqlx::test]
async fn a_full_inbox_refuses_large_requests_until_it_is_merged(pool: PgPool) {
    let hub = TestHub::start_with(
        pool.clone(),
        &[
            ("PUSH_ENABLED", "false"),
            ("SLUICE_INBOX_MAX_RECORDS", "100"),
        ],
    )
    .await;
    let held = hold_merges(&pool).await;
    let first = hub.post_records("Contact", &contacts("A", 120)).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED, "the inbox was empty");

    let refused = hub.post_records("Contact", &contacts("B", 60)).await;
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()["retry-after"], "5");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["type"], "https://sluice.dev/problems/inbox-full");
    let detail = problem["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("about 120 records") && detail.contains("SLUICE_INBOX_MAX_RECORDS"),
        "{problem}"
    );

    let stream = hub
        .post_ndjson("Contact", ndjson(contacts("N", 60).as_array().unwrap()))
        .await;
    assert_eq!(stream.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(inbox_rows(&pool).await, 120, "nothing refused was stored");

    let small = json!([{"External_Id__c": "D-1", "LastName": "Direct"}]);
    assert_eq!(
        hub.post_records("Contact", &small).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        staged_rows(&pool).await,
        1,
        "a small request goes straight in"
    );

    held.rollback().await.unwrap();
    crate::helpers::settle(&pool).await;
    let again = hub.post_records("Contact", &contacts("B", 60)).await;
    assert_eq!(
        again.status(),
        StatusCode::ACCEPTED,
        "merged, the inbox takes more"
    );
}
