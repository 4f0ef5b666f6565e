use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, drain, ndjson};

async fn post(hub: &TestHub, object: &str, source: &str, body: &Value) -> reqwest::Response {
    hub.http
        .post(format!(
            "{}/v1/objects/{object}/records?source={source}",
            hub.url
        ))
        .bearer_auth(&hub.token)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn field<'a>(record: &'a serde_json::Map<String, Value>, name: &str) -> &'a Value {
    record.get(name).unwrap_or(&Value::Null)
}

#[sqlx::test]
async fn a_french_erp_export_lands_in_salesforce_as_salesforce_expects(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let accounts = json!([{
        "code_client": " c-001 ", "raison_sociale": "Boulangerie Martin", "siren": "552 100 554",
        "telephone": "01 23 45 67 89", "ville": "PARIS", "code_postal": "75011", "pays": "France",
        "secteur": "commerce"
    }]);
    let contacts = json!([{
        "code_contact": "ct-9", "code_client": "c-001", "prenom": "marie", "nom": "DURAND",
        "email": "MARIE.DURAND@EXEMPLE.FR", "portable": "06 12 34 56 78",
        "date_naissance": "28/11/1986", "pays": "Allemagne", "origine": "site web"
    }]);
    let invoices = json!([{
        "numero_facture": "f-2026-001", "code_client": "C-001", "code_contact": "CT-9",
        "montant_ttc": "1 234,56", "date_facture": "28/11/2026", "date_echeance": "28/12/2026",
        "statut": "payée"
    }]);
    for (object, body) in [
        ("Account", &accounts),
        ("Contact", &contacts),
        ("Invoice__c", &invoices),
    ] {
        let response = post(&hub, object, "erp-fr", body).await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{object}: {}",
            response.text().await.unwrap()
        );
    }
    drain(&hub.pusher("test")).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 3);

    let sim = &hub.sim.sim;
    let account = sim
        .record_by_external_id("Account", "External_Id__c", "C-001")
        .expect("account");
    assert_eq!(field(&account, "Name"), "Boulangerie Martin");
    assert_eq!(field(&account, "Phone"), "+33123456789");
    assert_eq!(field(&account, "BillingCity"), "Paris");
    assert_eq!(field(&account, "BillingCountryCode"), "FR");
    assert_eq!(field(&account, "Industry"), "Retail");

    let contact = sim
        .record_by_external_id("Contact", "External_Id__c", "CT-9")
        .expect("contact");
    assert_eq!(field(&contact, "FirstName"), "Marie");
    assert_eq!(field(&contact, "LastName"), "Durand");
    assert_eq!(field(&contact, "Email"), "marie.durand@exemple.fr");
    assert_eq!(field(&contact, "MobilePhone"), "+33612345678");
    assert_eq!(field(&contact, "Birthdate"), "1986-11-28");
    assert_eq!(field(&contact, "MailingCountryCode"), "DE");
    assert_eq!(field(&contact, "LeadSource"), "Web");
    assert_eq!(field(&contact, "AccountId"), field(&account, "Id"));

    let invoice = sim
        .record_by_external_id("Invoice__c", "Invoice_Number__c", "F-2026-001")
        .expect("invoice");
    assert_eq!(field(&invoice, "Amount__c"), &json!(1234.56));
    assert_eq!(field(&invoice, "Issue_Date__c"), "2026-11-28");
    assert_eq!(field(&invoice, "Status__c"), "Paid");
    assert_eq!(field(&invoice, "Currency__c"), "EUR");
    assert_eq!(field(&invoice, "Account__c"), field(&account, "Id"));
    assert_eq!(field(&invoice, "Contact__c"), field(&contact, "Id"));
}

#[sqlx::test]
async fn what_the_describe_shows_salesforce_would_refuse_is_refused_without_an_api_call(
    pool: PgPool,
) {
    let hub = TestHub::start_api_only(pool).await;
    let calls = hub.sim.sim.api_calls();
    let body = json!([
        {"External_Id__c": "C-1", "FirstName": "No last name"},
        {"External_Id__c": "C-2", "LastName": "x".repeat(81)},
        {"External_Id__c": "C-3", "LastName": "Ok", "MailingCountryCode": "ZZ"},
        {"External_Id__c": "C-4", "LastName": "Fine"},
    ]);
    let response = hub.post_records("Contact", &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        (answer["staged"].as_u64(), answer["rejected"].as_u64()),
        (Some(1), Some(3))
    );
    let errors = |i: usize| answer["results"][i]["errors"][0].clone();
    assert_eq!(
        (errors(0)["field"].as_str(), errors(0)["rule"].as_str()),
        (Some("LastName"), Some("required"))
    );
    assert_eq!(errors(1)["rule"], "too_long");
    assert!(
        errors(1)["message"]
            .as_str()
            .unwrap()
            .contains("STRING_TOO_LONG")
    );
    assert_eq!(errors(2)["field"], "MailingCountryCode");
    assert_eq!(errors(2)["rule"], "picklist");
    assert_eq!(
        hub.sim.sim.api_calls(),
        calls,
        "validation spent no API call"
    );
}

#[sqlx::test]
async fn retried_requests_and_identical_records_cost_no_extra_api_call(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    let body = json!([{"External_Id__c": "C-1", "LastName": "Durand"}]);
    let send = || {
        hub.http
            .post(format!("{}/v1/objects/Contact/records", hub.url))
            .bearer_auth(&hub.token)
            .header("idempotency-key", "retry-me")
            .json(&body)
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    drain(&pusher).await;
    let calls = hub.sim.sim.api_calls();
    let second: Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(first, second);
    let same_again: Value = hub
        .post_records("Contact", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same_again["unchanged"], 1);
    drain(&pusher).await;
    assert_eq!(hub.sim.sim.api_calls(), calls);
}

#[sqlx::test]
async fn an_unknown_source_or_a_source_without_this_object_is_404(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let response = post(&hub, "Contact", "nobody", &json!([{"x": 1}])).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("nobody"));
    assert_eq!(count_rows(&hub.pool, "true").await, 0);
}

#[sqlx::test]
async fn an_ndjson_stream_is_staged_and_its_bad_lines_are_reported(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let mut lines: Vec<Value> = (0..5000)
        .map(|i| json!({"External_Id__c": format!("N-{i}"), "LastName": format!("Name {i}")}))
        .collect();
    lines[10] = json!({"LastName": "no id"});
    let mut body = ndjson(&lines);
    body.push_str("{not json\n");
    let response = hub.post_ndjson("Contact", body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["staged"], 4999);
    assert_eq!(answer["rejected"], 2);
    let rejected: Vec<u64> = answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, [10, 5000]);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'pending'").await, 4999);
}

#[sqlx::test]
async fn an_ndjson_stream_over_the_limit_stages_nothing(pool: PgPool) {
    let hub = TestHub::start_with(
        pool,
        &[
            ("PUSH_ENABLED", "false"),
            ("SLUICE_MAX_STREAM_BYTES", "100000"),
        ],
    )
    .await;
    let lines: Vec<Value> = (0..5000)
        .map(|i| json!({"External_Id__c": format!("N-{i}"), "LastName": "x"}))
        .collect();
    let response = hub.post_ndjson("Contact", ndjson(&lines)).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        count_rows(&hub.pool, "true").await,
        0,
        "nothing half-written"
    );
}

#[sqlx::test]
async fn start_up_refuses_a_mapping_onto_a_field_salesforce_does_not_have(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("sluice-bad-mapping-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.toml"),
        r#"source = "bad"
[objects.Contact]
external_id = "External_Id__c"
[objects.Contact.fields]
External_Id__c = { from = "id" }
LastName = { from = "name" }
Favourite_Colour__c = { from = "colour" }
"#,
    )
    .unwrap();
    let dir_str = dir.to_str().unwrap().to_owned();
    let hub = TestHub::start_with(
        pool,
        &[("PUSH_ENABLED", "false"), ("SLUICE_MAPPINGS_DIR", &dir_str)],
    )
    .await;
    let error = hub.stop().await.expect_err("start-up fails");
    let message = format!("{error:#}");
    assert!(message.contains("Favourite_Colour__c"), "{message}");
    std::fs::remove_dir_all(&dir).ok();
}
