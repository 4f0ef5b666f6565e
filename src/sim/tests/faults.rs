use axum::http::{Method, StatusCode};
use serde_json::json;

use super::*;
use crate::sim::FaultConfig;

#[tokio::test]
async fn next_n_calls_fail_with_503_then_500_and_are_not_counted() {
    let sim = sim();
    let token = login(&sim).await;
    sim.set_faults(FaultConfig {
        unavailable_next: 1,
        server_error_next: 1,
        ..FaultConfig::default()
    });
    let path = format!("{V}/limits");
    let first = call(&sim, &token, Method::GET, &path, None).await;
    assert_eq!(
        (first.status, first.error_code().as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "SERVER_UNAVAILABLE")
    );
    let second = call(&sim, &token, Method::GET, &path, None).await;
    assert_eq!(
        (second.status, second.error_code().as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN_EXCEPTION")
    );
    assert_eq!(
        call(&sim, &token, Method::GET, &path, None).await.status,
        StatusCode::OK
    );
    assert_eq!(sim.api_calls(), 1);
}

#[tokio::test]
async fn one_call_in_k_fails_and_an_outage_fails_everything() {
    let sim = sim();
    let token = login(&sim).await;
    sim.set_faults(FaultConfig {
        fail_one_in: 3,
        ..FaultConfig::default()
    });
    let path = format!("{V}/limits");
    let mut statuses = vec![];
    for _ in 0..6 {
        statuses.push(
            call(&sim, &token, Method::GET, &path, None)
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 500, 200, 200, 500]);
    sim.clear_faults();
    sim.outage_for(std::time::Duration::from_secs(60));
    assert_eq!(
        call(&sim, &token, Method::GET, &path, None).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    sim.clear_faults();
    assert_eq!(
        call(&sim, &token, Method::GET, &path, None).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn listed_external_ids_fail_once_with_unable_to_lock_row() {
    let sim = sim();
    let token = login(&sim).await;
    sim.set_faults(FaultConfig {
        lock_external_ids: vec!["A-2".into()],
        ..FaultConfig::default()
    });
    let records = vec![account("A-1", "One"), account("A-2", "Two")];
    let res = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        records.clone(),
    )
    .await
    .json();
    assert_eq!(res[0]["success"], true);
    assert_eq!(res[1]["errors"][0]["statusCode"], "UNABLE_TO_LOCK_ROW");
    let res = upsert(&sim, &token, "Account", "External_Id__c", false, records)
        .await
        .json();
    assert_eq!(
        (res[0]["created"].as_bool(), res[1]["created"].as_bool()),
        (Some(false), Some(true))
    );
}

#[tokio::test]
async fn admin_endpoints_control_and_inspect_the_sim() {
    let sim = sim();
    let token = login(&sim).await;
    upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "Acme")],
    )
    .await;
    let post = |path: &str, body: Value| {
        Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request")
    };
    let records = send(
        &sim,
        Request::get("/__sim/records/Account")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .json();
    assert_eq!(records[0]["External_Id__c"], "A-1");
    let stats = send(
        &sim,
        Request::get("/__sim/stats")
            .body(Body::empty())
            .expect("request"),
    )
    .await
    .json();
    assert_eq!(
        (
            stats["calls_total"].as_u64(),
            stats["calls_by_kind"]["collections_upsert"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        send(&sim, post("/__sim/faults", json!({"unavailable_next": 1})))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(&sim, post("/__sim/faults", json!({"bogus": 1})))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    send(&sim, post("/__sim/usage", json!({"used": 5, "max": 5}))).await;
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    send(&sim, post("/__sim/reset", json!({}))).await;
    assert!(sim.records("Account").is_empty());
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::OK
    );
    send(&sim, post("/__sim/expire-tokens", json!({}))).await;
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_dropped_connection_gives_the_client_no_response_and_latency_shows_as_concurrency() {
    let handle = Simulator::spawn(SimConfig::dev()).await.expect("binds");
    let client = reqwest::Client::new();
    let jwt = sign(
        &json!({"iss": "sluice-dev-client", "sub": "integration@sluice.dev", "aud": handle.url, "exp": now() + 60}),
    );
    let form = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
        ("assertion", jwt.as_str()),
    ];
    let body: Value = client
        .post(format!("{}/services/oauth2/token", handle.url))
        .form(&form)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = body["access_token"].as_str().expect("token").to_string();
    assert_eq!(body["instance_url"], handle.url);

    handle.sim.set_faults(FaultConfig {
        drop_next: 1,
        ..FaultConfig::default()
    });
    let url = format!("{}{V}/limits", handle.url);
    let dropped = client.get(&url).bearer_auth(&token).send().await;
    assert!(
        dropped.is_err(),
        "expected a transport error, got {dropped:?}"
    );
    let ok = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("second call");
    assert_eq!(ok.status(), 200);

    handle.sim.set_faults(FaultConfig {
        latency_ms: 200,
        ..FaultConfig::default()
    });
    let calls = (0..3).map(|_| client.get(&url).bearer_auth(&token).send());
    for res in futures_join(calls).await {
        assert_eq!(res.expect("call").status(), 200);
    }
    assert_eq!(handle.sim.max_concurrent_calls_seen(), 3);
    handle.shutdown().await;
}

async fn futures_join<F: std::future::Future + Send + 'static>(
    futs: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = vec![];
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
