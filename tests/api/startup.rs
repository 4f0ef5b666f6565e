//! Start-up against an org the shipped mappings do not fit: the refusal an admin reads, and the
//! next start once the admin has fixed the org.

use serde_json::json;
use sluice::sim::{FaultConfig, SimHandle};
use sqlx::PgPool;

use crate::helpers::{TestHub, spawn_sim};

const API_ONLY: &[(&str, &str)] = &[("PUSH_ENABLED", "false")];

/// Changes a picklist value of the simulated org as an admin would in Setup.
async fn set_picklist_value(sim: &SimHandle, object: &str, field: &str, value: &str, active: bool) {
    let answer = reqwest::Client::new()
        .post(format!("{}/__sim/setup/picklist/{object}/{field}", sim.url))
        .json(&json!({"value": value, "active": active}))
        .send()
        .await
        .expect("simulator answers");
    assert_eq!(answer.status(), 204);
}

fn describe_calls(sim: &SimHandle) -> u64 {
    sim.sim
        .stats()
        .by_kind
        .get("describe")
        .copied()
        .unwrap_or(0)
}

/// When each object's describe was stored in the cache shared by the dynos.
async fn cached_at(pool: &PgPool) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
    sqlx::query_as("SELECT object, fetched_at FROM salesforce_describes ORDER BY object")
        .fetch_all(pool)
        .await
        .expect("describe cache")
}

#[sqlx::test]
async fn start_up_refuses_naming_each_missing_value_once_with_the_words_that_send_it(pool: PgPool) {
    let sim = spawn_sim().await;
    set_picklist_value(&sim, "Invoice__c", "Status__c", "Cancelled", false).await;
    set_picklist_value(&sim, "Contact", "LeadSource", "Web", false).await;

    let hub = TestHub::start_against(sim, pool, API_ONLY).await;
    let refusal = format!("{:#}", hub.stop().await.expect_err("start-up refuses"));

    assert_eq!(
        refusal,
        "the mappings do not fit the Salesforce org:\n  \
         Invoice__c.Status__c lacks the picklist value \"Cancelled\" (mapped from \"annulée\" by erp-fr); active values: Draft, Sent, Paid",
        "LeadSource is not restricted, so Salesforce takes an inactive value there"
    );
}

#[sqlx::test]
async fn a_fixed_org_is_picked_up_by_the_next_start_without_waiting_for_the_cache_to_age(
    pool: PgPool,
) {
    let sim = spawn_sim().await;
    set_picklist_value(&sim, "Invoice__c", "Status__c", "Cancelled", false).await;
    let first = TestHub::start_against(sim, pool.clone(), API_ONLY).await;
    let (refused, sim) = first.stop_keeping_sim().await;
    assert!(refused.is_err(), "the org lacks Cancelled");
    // The describe that made start-up fail is in the cache, far younger than its 24 h.
    let before = cached_at(&pool).await;
    assert_eq!(before.len(), 3);

    set_picklist_value(&sim, "Invoice__c", "Status__c", "Cancelled", true).await;
    let calls_before = describe_calls(&sim);
    let second = TestHub::start_against(sim, pool.clone(), API_ONLY).await;
    let health = second.get("/health").await;
    assert_eq!(health.status(), 200, "the fixed org is picked up at once");

    assert_eq!(
        describe_calls(&second.sim) - calls_before,
        1,
        "only Invoice__c's describe is read again"
    );
    let after = cached_at(&pool).await;
    let refreshed: Vec<&str> = after
        .iter()
        .zip(&before)
        .filter(|(a, b)| a.1 > b.1)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(
        refreshed,
        ["Invoice__c"],
        "the fresh describe is stored for the other dynos"
    );
    let stored: serde_json::Value =
        sqlx::query_scalar("SELECT describe FROM salesforce_describes WHERE object = 'Invoice__c'")
            .fetch_one(&pool)
            .await
            .expect("cached");
    let status = stored["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "Status__c")
        .expect("Status__c")
        .clone();
    assert!(
        status["picklistValues"]
            .as_array()
            .expect("values")
            .iter()
            .any(|v| v["value"] == "Cancelled" && v["active"] == true)
    );
    second.stop().await.expect("stops cleanly");
}

#[sqlx::test]
async fn a_cached_describe_that_fits_is_not_read_again(pool: PgPool) {
    let first = TestHub::start_with(pool.clone(), API_ONLY).await;
    let (started, sim) = first.stop_keeping_sim().await;
    started.expect("the shipped mappings fit the simulator's org");
    let calls_before = describe_calls(&sim);

    let second = TestHub::start_against(sim, pool, API_ONLY).await;
    assert_eq!(second.get("/health").await.status(), 200);
    assert_eq!(describe_calls(&second.sim), calls_before);
    second.stop().await.expect("stops cleanly");
}

#[sqlx::test]
async fn when_the_cached_describe_cannot_be_read_again_the_refusal_says_so(pool: PgPool) {
    let sim = spawn_sim().await;
    set_picklist_value(&sim, "Invoice__c", "Status__c", "Cancelled", false).await;
    let first = TestHub::start_against(sim, pool.clone(), API_ONLY).await;
    let (refused, sim) = first.stop_keeping_sim().await;
    assert!(refused.is_err(), "the org lacks Cancelled");

    sim.sim.set_faults(FaultConfig {
        fail_next_of: vec!["describe".into(); 5],
        ..FaultConfig::default()
    });
    let second = TestHub::start_against(sim, pool, API_ONLY).await;
    let refusal = format!("{:#}", second.stop().await.expect_err("still refused"));

    assert!(
        refusal.starts_with(
            "the mappings do not fit the Salesforce org:\n  \
             Invoice__c.Status__c lacks the picklist value \"Cancelled\" (mapped from \"annulée\" by erp-fr); active values: Draft, Sent, Paid\n  \
             (checked against describes cached earlier: reading them again from Salesforce failed: reading the describe of Invoice__c from Salesforce"
        ),
        "{refusal}"
    );
    assert!(refusal.contains("HTTP 500"), "with its cause: {refusal}");
}
