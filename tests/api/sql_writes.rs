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
    assert_eq!(
        count_rows(&hub.pool, "sync_status = 'synced' AND version = 2").await,
        1
    );
}
