use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, eventually};

#[sqlx::test]
async fn rows_inserted_and_updated_with_plain_sql_are_pushed(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) \
         VALUES ('Account', 'A-1', '{\"External_Id__c\": \"A-1\", \"Name\": \"Acme\"}')",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1 }
    })
    .await;

    sqlx::query("UPDATE staging_records SET fields = fields || '{\"Name\": \"Acme SA\"}' WHERE external_id = 'A-1'")
        .execute(&hub.pool)
        .await
        .unwrap();
    let sim = hub.sim.sim.clone();
    eventually(Duration::from_secs(10), || {
        let sim = sim.clone();
        async move {
            sim.records("Account")
                .first()
                .map(|r| r["Name"] == json!("Acme SA"))
                .unwrap_or(false)
        }
    })
    .await;
    // Salesforce has the record before the push writes its outcome back on the row.
    eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced' AND version = 2").await == 1 }
    })
    .await;
}

#[sqlx::test]
async fn an_invalid_row_written_with_sql_gets_its_error_and_is_never_sent(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    // The scheduler's start-up read of /limits may land before or after this point: count
    // every other call.
    let calls_but_limits = |hub: &TestHub| {
        let by_kind = hub.sim.sim.calls_by_kind();
        hub.sim.sim.api_calls() - by_kind.get("limits").copied().unwrap_or(0)
    };
    let calls = calls_but_limits(&hub);
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) VALUES \
         ('Contact', 'SQL-1', '{\"External_Id__c\": \"SQL-1\", \"FirstName\": \"No last name\"}'), \
         ('Contact', 'SQL-2', '{\"External_Id__c\": \"SQL-2\", \"LastName\": \"Bad\", \"Email\": \"not an email\"}'), \
         ('Contact', 'SQL-3', '{\"External_Id__c\": \"SQL-3\", \"LastName\": \"Good\"}')",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status IN ('failed', 'synced')").await == 3 }
    })
    .await;
    let rows: Vec<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT external_id, sync_status, last_error_code, last_error_message \
         FROM staging_records ORDER BY external_id",
    )
    .fetch_all(&hub.pool)
    .await
    .unwrap();
    assert_eq!(
        (rows[0].1.as_str(), rows[0].2.as_deref()),
        ("failed", Some("REQUIRED_FIELD_MISSING"))
    );
    assert!(rows[0].3.as_deref().unwrap().contains("LastName"));
    assert_eq!(
        (rows[1].1.as_str(), rows[1].2.as_deref()),
        ("failed", Some("INVALID_EMAIL_ADDRESS"))
    );
    assert_eq!(rows[2].1, "synced");
    assert_eq!(hub.sim.sim.upserted_external_ids("Contact"), ["SQL-3"]);
    assert_eq!(
        calls_but_limits(&hub),
        calls + 1,
        "one call, for the valid row only"
    );
    assert_eq!(
        hub.sim.sim.calls_by_kind().get("collections_upsert"),
        Some(&1)
    );
}

/// The row's key is its `external_id` column: fields written with SQL need not repeat it.
#[sqlx::test]
async fn a_row_whose_fields_leave_out_the_external_id_is_pushed_by_its_key(pool: PgPool) {
    let hub = TestHub::start(pool).await;
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) \
         VALUES ('Account', 'A-9', '{\"Name\": \"Key left out\"}')",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1 }
    })
    .await;
    let accounts = hub.sim.sim.records("Account");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["External_Id__c"], json!("A-9"));
    assert_eq!(accounts[0]["Name"], json!("Key left out"));
}
