use axum::body::Body;
use axum::http::{Request, StatusCode};

use super::*;

async fn arrivals(sim: &Simulator, object: &str) -> Reply {
    let req = Request::get(format!("/__sim/arrivals/{object}"))
        .body(Body::empty())
        .expect("request builds");
    send(sim, req).await
}

#[tokio::test]
async fn arrivals_give_each_record_its_creation_and_last_write_time_by_external_id() {
    let sim = sim();
    let token = login(&sim).await;
    let before = chrono::Utc::now().timestamp_millis();
    let first = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "Acme")],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "Acme 2")],
    )
    .await;
    let after = chrono::Utc::now().timestamp_millis();

    let reply = arrivals(&sim, "Account").await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    let a1 = &body["A-1"];
    let created = a1["created_ms"].as_i64().expect("created_ms");
    let modified = a1["modified_ms"].as_i64().expect("modified_ms");
    assert!(
        before <= created && created < modified && modified <= after,
        "{body}"
    );
    assert_eq!(body.as_object().map(|m| m.len()), Some(1));
    assert_eq!(sim.api_calls(), 2, "reading arrivals is not an API call");
}

#[tokio::test]
async fn arrivals_of_an_unknown_object_are_404() {
    let reply = arrivals(&sim(), "Nope__c").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
