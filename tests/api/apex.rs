//! The Apex endpoints: records Salesforce sends back, lookups by Salesforce Id, push-now.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, drain, token};

async fn post(hub: &TestHub, path: &str, token: &str, body: &Value) -> reqwest::Response {
    hub.http
        .post(format!("{}{path}", hub.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

async fn salesforce_id_of(hub: &TestHub, external_id: &str) -> String {
    sqlx::query_scalar("SELECT salesforce_id FROM staging_records WHERE external_id = $1")
        .bind(external_id)
        .fetch_one(&hub.pool)
        .await
        .expect("a pushed record has its Salesforce Id")
}

#[sqlx::test]
async fn records_salesforce_sends_are_stored_readable_and_never_pushed_back(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let seed = json!([{"External_Id__c": "C-3", "LastName": "From the hub"}]);
    assert_eq!(hub.post_records("Contact", &seed).await.status(), 202);
    drain(&hub.pusher("t")).await;
    let c3_id = salesforce_id_of(&hub, "C-3").await;
    let calls_before = hub.sim.sim.api_calls();
    let upserted_before = hub.sim.sim.upserted_external_ids("Contact");

    let from_salesforce = json!([
        {"attributes": {"type": "Contact"}, "Id": "0035g00000XyZaB", "External_Id__c": "C-2",
         "LastName": "Created in Salesforce", "LastModifiedDate": "2026-11-28T10:00:00.000+0000"},
        {"Id": c3_id, "Title": "CEO"},
        {"Id": "0035g00000ZzZzZ", "LastName": "Nobody knows me"},
    ]);
    let response = post(
        &hub,
        "/v1/salesforce/objects/Contact/records",
        &hub.token,
        &from_salesforce,
    )
    .await;
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["stored"].as_u64(), body["rejected"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(body["results"][0]["external_id"], "C-2");
    assert_eq!(body["results"][0]["sync_status"], "synced");
    assert_eq!(
        body["results"][1]["external_id"], "C-3",
        "matched by Salesforce Id"
    );
    assert_eq!(body["results"][2]["status"], "rejected");
    assert_eq!(body["results"][2]["errors"][0]["field"], "External_Id__c");
    assert_eq!(body["results"][2]["errors"][0]["rule"], "unknown_record");

    // Internal apps read them by external id and by Salesforce Id (15 characters too).
    let c2: Value = hub
        .get("/v1/objects/Contact/records/C-2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        c2["fields"],
        json!({"External_Id__c": "C-2", "LastName": "Created in Salesforce"})
    );
    assert_eq!(c2["sync_status"], "synced");
    assert_eq!(c2["salesforce_id"], "0035g00000XyZaBAAV");
    let by_id = hub
        .get("/v1/objects/Contact/records/by-salesforce-id/0035g00000XyZaB")
        .await;
    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.json::<Value>().await.unwrap()["external_id"], "C-2");
    let c3: Value = hub
        .get(&format!(
            "/v1/objects/Contact/records/by-salesforce-id/{c3_id}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(c3["fields"]["Title"], "CEO");
    assert_eq!(c3["fields"]["LastName"], "From the hub");
    assert_eq!(
        count_rows(
            &hub.pool,
            "origin = 'salesforce' AND sync_status = 'synced'"
        )
        .await,
        2
    );

    // Nothing goes back to Salesforce.
    assert!(drain(&hub.pusher("t")).await.is_empty());
    assert_eq!(hub.sim.sim.api_calls(), calls_before);
    assert_eq!(
        hub.sim.sim.upserted_external_ids("Contact"),
        upserted_before
    );

    // A later change from the hub's side is pushed as usual.
    let change = json!([{"External_Id__c": "C-2", "Email": "c2@example.com"}]);
    assert_eq!(hub.post_records("Contact", &change).await.status(), 202);
    drain(&hub.pusher("t")).await;
    assert!(
        hub.sim
            .sim
            .upserted_external_ids("Contact")
            .contains(&"C-2".to_owned())
    );
    assert_eq!(
        count_rows(
            &hub.pool,
            "external_id = 'C-2' AND origin = 'hub' AND sync_status = 'synced'"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn a_salesforce_change_does_not_swallow_an_unpushed_hub_change(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let seed = json!([{"External_Id__c": "C-1", "LastName": "Durand"}]);
    hub.post_records("Contact", &seed).await;
    drain(&hub.pusher("t")).await;
    let id = salesforce_id_of(&hub, "C-1").await;
    let hub_change = json!([{"External_Id__c": "C-1", "Email": "new@example.com"}]);
    hub.post_records("Contact", &hub_change).await;

    let sf_change = json!([{"Id": id, "External_Id__c": "C-1", "Phone": "+33 1 23 45 67 89"}]);
    let response = post(
        &hub,
        "/v1/salesforce/objects/Contact/records",
        &hub.token,
        &sf_change,
    )
    .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["results"][0]["sync_status"], "pending");

    drain(&hub.pusher("t")).await;
    let in_salesforce = hub.sim.sim.records("Contact");
    assert_eq!(in_salesforce[0]["Email"], "new@example.com");
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-1' AND sync_status = 'synced'").await,
        1
    );
}

#[sqlx::test]
async fn bad_records_from_salesforce_are_named_and_an_all_bad_batch_is_422(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let path = "/v1/salesforce/objects/Contact/records";
    let all_bad = json!([{"Id": "not-an-id"}, {"LastName": "No Id"}]);
    let response = post(&hub, path, &hub.token, &all_bad).await;
    assert_eq!(response.status(), 422);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Id");
    assert_eq!(problem["errors"][1]["rule"], "required");
    let response = post(&hub, path, &hub.token, &json!({"Id": "0035g00000XyZaB"})).await;
    assert_eq!(response.status(), 400);
    let response = post(
        &hub,
        "/v1/salesforce/objects/Lead/records",
        &hub.token,
        &json!([]),
    )
    .await;
    assert_eq!(response.status(), 404);
    let reader = token("records:read");
    assert_eq!(post(&hub, path, &reader, &all_bad).await.status(), 403);
}

#[sqlx::test]
async fn lookup_by_salesforce_id_names_a_bad_id(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let response = hub
        .get("/v1/objects/Contact/records/by-salesforce-id/003-nope")
        .await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "id");
    let response = hub
        .get("/v1/objects/Contact/records/by-salesforce-id/0035g00000XyZaB")
        .await;
    assert_eq!(response.status(), 404);
    let response = hub
        .get("/v1/objects/Lead/records/by-salesforce-id/0035g00000XyZaB")
        .await;
    assert_eq!(response.status(), 404);
}

#[sqlx::test]
async fn push_now_makes_a_failed_record_go_again_and_wakes_the_schedulers(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let body = json!([{"External_Id__c": "C-1", "LastName": "Fine"}]);
    hub.post_records("Contact", &body).await;
    // Straight SQL, as other apps write: the API's own checks would refuse a Contact without a
    // last name before Salesforce could.
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) \
         VALUES ('Contact', 'C-2', '{\"External_Id__c\": \"C-2\", \"FirstName\": \"No last name\"}')",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    drain(&hub.pusher("t")).await;
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'failed'").await,
        1
    );
    let calls_before = hub.sim.sim.api_calls();

    let mut listener = sqlx::postgres::PgListener::connect_with(&hub.pool)
        .await
        .unwrap();
    listener.listen("sluice_pending").await.unwrap();
    let request = json!({"external_ids": ["C-2", "C-1", "C-404"]});
    let response = post(&hub, "/v1/objects/Contact/push", &hub.token, &request).await;
    assert_eq!(response.status(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["queued"], json!(["C-2"]));
    assert_eq!(
        answer["not_queued"],
        json!([{"external_id": "C-1", "sync_status": "synced"}])
    );
    assert_eq!(answer["unknown"], json!(["C-404"]));
    let woken = tokio::time::timeout(Duration::from_secs(5), listener.recv()).await;
    assert!(
        matches!(woken, Ok(Ok(_))),
        "no notification on sluice_pending"
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'pending' AND attempts = 0 AND next_attempt_at <= now()").await,
        1
    );

    drain(&hub.pusher("t")).await;
    assert_eq!(
        hub.sim.sim.api_calls(),
        calls_before + 1,
        "C-2 went to Salesforce again"
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'failed'").await,
        1
    );
}

#[sqlx::test]
async fn push_now_checks_its_input_and_the_callers_rights(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let path = "/v1/objects/Contact/push";
    let field_of = |problem: Value| {
        problem["errors"][0]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let too_many: Vec<String> = (0..201).map(|i| format!("C-{i}")).collect();
    for (body, field) in [
        (json!({"external_ids": []}), "external_ids"),
        (json!({"external_ids": too_many}), "external_ids"),
        (json!({"external_ids": ["C-1", " "]}), "external_ids[1]"),
    ] {
        let response = post(&hub, path, &hub.token, &body).await;
        assert_eq!(response.status(), 400);
        assert_eq!(field_of(response.json().await.unwrap()), field);
    }
    let ok = json!({"external_ids": ["C-1"]});
    assert_eq!(
        post(&hub, "/v1/objects/Lead/push", &hub.token, &ok)
            .await
            .status(),
        404
    );
    assert_eq!(
        post(&hub, path, &token("records:read sync:admin"), &ok)
            .await
            .status(),
        403
    );
    let mut claims = sluice::auth::testing::default_claims("records:write");
    claims["sluice_objects"] = json!(["Account"]);
    let account_only = sluice::auth::testing::mint_hs256(crate::helpers::SECRET, claims);
    assert_eq!(post(&hub, path, &account_only, &ok).await.status(), 403);
    assert_eq!(
        post(&hub, path, &token("records:write"), &ok)
            .await
            .status(),
        202
    );
}
