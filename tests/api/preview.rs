//! Trying a mapping before using it: the preview endpoint and `sluice mappings try` show each
//! record as Salesforce would receive it, or every reason it would be refused, spending no API
//! call and storing nothing.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{SECRET, TestHub, count_rows, token};

async fn preview(
    hub: &TestHub,
    source: &str,
    object: &str,
    bearer: &str,
    body: &Value,
) -> reqwest::Response {
    hub.http
        .post(format!("{}/v1/mappings/{source}/{object}/preview", hub.url))
        .bearer_auth(bearer)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

#[sqlx::test]
async fn a_preview_shows_each_record_as_salesforce_would_receive_it_and_stores_nothing(
    pool: PgPool,
) {
    let hub = TestHub::start_api_only(pool).await;
    let calls = hub.sim.sim.api_calls();
    let body = json!([
        {"numero_facture": "\u{feff}f-2026-001", "code_client": "c-001", "montant_ttc": "EUR 1.234,56",
         "date_facture": "28/11/2026", "statut": " PAYEE "},
        {"numero_facture": "f-2026-002", "montant_ttc": "12,3,4", "date_facture": "31/11/2026",
         "statut": "Résiliée"},
    ]);
    let response = preview(&hub, "erp-fr", "Invoice__c", &hub.token, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        (
            &answer["accepted"],
            &answer["refused"],
            &answer["describe_checked"]
        ),
        (&json!(1), &json!(1), &json!(true))
    );
    assert_eq!(
        answer["records"][0],
        json!({
            "index": 0, "external_id": "F-2026-001", "status": "accepted",
            "record": {
                "Invoice_Number__c": "F-2026-001", "Name": "F-2026-001", "Amount__c": 1234.56,
                "Currency__c": "EUR", "Issue_Date__c": "2026-11-28", "Status__c": "Paid",
                "Account__r": {"External_Id__c": "C-001"}
            }
        })
    );
    let refused = &answer["records"][1];
    assert_eq!(refused["status"], "refused");
    assert_eq!(refused["external_id"], "F-2026-002");
    let problems: Vec<(&str, &str, &str)> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["external_id"], "F-2026-002", "{e}");
            (
                e["field"].as_str().unwrap(),
                e["salesforce_field"].as_str().unwrap(),
                e["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        [
            ("montant_ttc", "Amount__c", "decimal"),
            ("date_facture", "Issue_Date__c", "date"),
            ("statut", "Status__c", "map"),
            ("code_client", "Account__r.External_Id__c", "required"),
        ]
    );
    assert_eq!(hub.sim.sim.api_calls(), calls, "no API call");
    assert_eq!(count_rows(&hub.pool, "true").await, 0, "nothing staged");
}

#[sqlx::test]
async fn a_preview_checks_staged_records_as_updates_as_ingest_would(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let staged = hub
        .post_records(
            "Contact",
            &json!([{"External_Id__c": "C-1", "LastName": "Durand"}]),
        )
        .await;
    assert_eq!(staged.status(), StatusCode::ACCEPTED);
    let body = json!([
        {"External_Id__c": "C-1", "FirstName": "Marie"},
        {"External_Id__c": "C-2", "FirstName": "Paul"},
    ]);
    let answer: Value = preview(&hub, "default", "Contact", &hub.token, &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["records"][0]["status"], "accepted", "{answer}");
    assert_eq!(answer["records"][1]["status"], "refused");
    assert_eq!(
        answer["records"][1]["errors"][0]["salesforce_field"],
        "LastName"
    );
    assert_eq!(answer["records"][1]["errors"][0]["rule"], "required");
    assert_eq!(count_rows(&hub.pool, "true").await, 1);
}

#[sqlx::test]
async fn a_preview_needs_records_write_for_that_source_and_a_mapping(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let body = json!([{"External_Id__c": "C-1", "LastName": "Durand"}]);
    let reader = token("records:read");
    let response = preview(&hub, "default", "Contact", &reader, &body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let mut claims = sluice::auth::testing::default_claims("records:write");
    claims["sluice_sources"] = json!(["default"]);
    let other_source = sluice::auth::testing::mint_hs256(SECRET, claims);
    let response = preview(&hub, "erp-fr", "Contact", &other_source, &body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = preview(&hub, "nobody", "Contact", &hub.token, &body).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = preview(&hub, "default", "Contact", &hub.token, &json!([])).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn sluice_mappings_try_shows_a_csv_export_without_a_database_and_exits_1_on_a_refusal() {
    let dir = std::env::temp_dir().join(format!("sluice-try-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample = dir.join("factures.csv");
    std::fs::write(
        &sample,
        "\u{feff}numero_facture;code_client;montant_ttc;date_facture;statut\n\
         F-1;C-001;1 234,56 €;1er mars 2026;Payée\n\
         F-2;C-001;12,3,4;31/02/2026;payée\n",
    )
    .unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "mappings",
            "try",
            "--source",
            "erp-fr",
            "--object",
            "Invoice__c",
        ])
        .arg(&sample)
        .args(["--dir", concat!(env!("CARGO_MANIFEST_DIR"), "/mappings")])
        .env_remove("DATABASE_URL")
        .output()
        .expect("sluice runs");
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("1 of 2 record(s) would be refused"),
        "{stderr}"
    );
    for expected in [
        "erp-fr → Invoice__c: 2 record(s), 1 accepted, 1 refused",
        "#0 F-1: accepted",
        "\"Amount__c\":1234.56",
        "\"Issue_Date__c\":\"2026-03-01\"",
        "#1 F-2: refused",
        "- montant_ttc → Amount__c [decimal]: \"12,3,4\" is not a fr decimal",
        "- date_facture → Issue_Date__c [date]: \"31/02/2026\" is not a real calendar date",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing from:\n{stdout}"
        );
    }
}
