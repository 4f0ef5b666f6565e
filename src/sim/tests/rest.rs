use axum::http::{Method, StatusCode};
use serde_json::json;

use super::*;

#[tokio::test]
async fn the_versions_list_needs_no_auth_and_is_not_counted() {
    let sim = sim();
    let reply = send(
        &sim,
        Request::get("/services/data/")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let list = reply.json();
    assert_eq!(
        list[0],
        json!({"label": "Version 41.0", "url": "/services/data/v41.0", "version": "41.0"})
    );
    assert!(reply.headers.get("sforce-limit-info").is_none());
    assert_eq!(sim.api_calls(), 0);
}

#[tokio::test]
async fn every_rest_call_is_counted_and_reports_usage() {
    let sim = sim();
    let token = login(&sim).await;
    sim.set_api_usage(100, 15_000);
    let reply = call(&sim, &token, Method::GET, &format!("{V}/limits/"), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["sforce-limit-info"], "api-usage=101/15000");
    assert_eq!(
        reply.json()["DailyApiRequests"],
        json!({"Max": 15000, "Remaining": 14899})
    );
    assert_eq!(
        reply.json()["DailyBulkApiBatches"],
        json!({"Max": 15000, "Remaining": 15000})
    );
    call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Account/describe"),
        None,
    )
    .await;
    assert_eq!(sim.api_calls(), 2);
    assert_eq!(
        sim.calls_by_kind(),
        [("describe".to_string(), 1), ("limits".to_string(), 1)].into()
    );
    assert!(sim.max_calls_in_any_second() >= 1);
    assert_eq!(sim.max_concurrent_calls_seen(), 1);
}

#[tokio::test]
async fn an_exhausted_allocation_answers_403_request_limit_exceeded() {
    let sim = sim();
    let token = login(&sim).await;
    sim.set_api_usage(9, 10);
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::OK
    );
    let reply = call(&sim, &token, Method::GET, &format!("{V}/limits"), None).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json(),
        json!([{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
    );
    assert_eq!(reply.headers["sforce-limit-info"], "api-usage=10/10");
    assert_eq!(sim.api_calls(), 1, "the refused call is not counted");
}

#[tokio::test]
async fn retired_and_malformed_versions_and_unknown_resources_are_rejected() {
    let sim = sim();
    let token = login(&sim).await;
    let reply = call(
        &sim,
        &token,
        Method::GET,
        "/services/data/v40.0/limits",
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::GONE);
    for path in [
        "/services/data/v62/limits",
        "/services/data/62.0/limits",
        "/services/data/v99.0/limits",
        "/services/data/v62.5/limits",
    ] {
        let reply = call(&sim, &token, Method::GET, path, None).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (StatusCode::NOT_FOUND, "NOT_FOUND"),
            "{path}"
        );
    }
    assert_eq!(sim.api_calls(), 0);
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Account/describe/extra"),
        None,
    )
    .await;
    assert_eq!(
        reply.json(),
        json!([{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}])
    );
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/jobs/ingest/750x/unprocessedRecords"),
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(sim.calls_by_kind()["not_found"], 2);
}

#[tokio::test]
async fn describe_exposes_the_schema_a_validator_needs() {
    let sim = sim();
    let token = login(&sim).await;
    let d = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/invoice__c/describe/"),
        None,
    )
    .await
    .json();
    assert_eq!(
        (
            d["name"].as_str(),
            d["keyPrefix"].as_str(),
            d["custom"].as_bool()
        ),
        (Some("Invoice__c"), Some("a0X"), Some(true))
    );
    let field = |name: &str| {
        d["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .expect("field")
    };
    let number = field("Invoice_Number__c");
    assert_eq!(
        (
            number["externalId"].as_bool(),
            number["unique"].as_bool(),
            number["length"].as_u64()
        ),
        (Some(true), Some(true), Some(40))
    );
    let amount = field("Amount__c");
    assert_eq!(
        (
            amount["type"].as_str(),
            amount["precision"].as_u64(),
            amount["scale"].as_u64()
        ),
        (Some("currency"), Some(16), Some(2))
    );
    let status = field("Status__c");
    assert_eq!(status["restrictedPicklist"], true);
    assert_eq!(status["picklistValues"][3]["value"], "Cancelled");
    let contact = field("Contact__c");
    assert_eq!(
        (
            contact["referenceTo"].clone(),
            contact["relationshipName"].clone()
        ),
        (json!(["Contact"]), json!("Contact__r"))
    );
    let created = field("CreatedDate");
    assert_eq!(
        (
            created["createable"].as_bool(),
            created["updateable"].as_bool()
        ),
        (Some(false), Some(false))
    );

    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Nope__c/describe"),
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}

#[tokio::test]
async fn a_record_can_be_read_by_id() {
    let sim = sim();
    let token = login(&sim).await;
    let res = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "Acme")],
    )
    .await
    .json();
    let id = res[0]["id"].as_str().expect("id").to_string();
    let got = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Account/{}", &id[..15]),
        None,
    )
    .await
    .json();
    assert_eq!(
        (got["Id"].as_str(), got["Name"].as_str()),
        (Some(id.as_str()), Some("Acme"))
    );
    assert_eq!(got["attributes"]["type"], "Account");
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Contact/{id}"),
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "MALFORMED_ID")
    );
    let missing = crate::sim::ids::generate("001", 999);
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/sobjects/Account/{missing}"),
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}
