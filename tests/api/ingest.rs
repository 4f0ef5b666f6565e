use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestHub, contacts, count_rows, token};

async fn problem(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(content_type.as_deref(), Some("application/problem+json"));
    (status, response.json().await.unwrap())
}

#[sqlx::test]
async fn valid_records_are_staged_and_answered_202_with_one_result_each(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let response = hub.post_records("Contact", &contacts("C", 3)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["staged"], 3);
    assert_eq!(body["rejected"], 0);
    assert_eq!(
        body["results"][2],
        json!({"index": 2, "external_id": "C-2", "status": "staged"})
    );
    assert_eq!(
        count_rows(&hub.pool, "object = 'Contact' AND sync_status = 'pending'").await,
        3
    );
}

#[sqlx::test]
async fn a_mixed_batch_stages_the_good_records_and_names_each_bad_one(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let body = json!([
        {"External_Id__c": "C-1", "LastName": "Good"},
        {"LastName": "No id"},
        {"External_Id__c": "C-3", "Id": "0035g00000AbCdEAAA"},
    ]);
    let response = hub.post_records("Contact", &body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (body["staged"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(body["results"][1]["status"], "rejected");
    assert_eq!(body["results"][1]["errors"][0]["field"], "External_Id__c");
    assert_eq!(body["results"][1]["errors"][0]["rule"], "required");
    assert_eq!(body["results"][2]["errors"][0]["field"], "Id");
    assert_eq!(count_rows(&hub.pool, "true").await, 1);
}

#[sqlx::test]
async fn malformed_requests_get_a_problem_naming_the_fault_and_store_nothing(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let url = format!("{}/v1/objects/Contact/records", hub.url);
    let send = |body: &'static str, content_type: &'static str| {
        hub.http
            .post(&url)
            .bearer_auth(&hub.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let (status, p) = problem(
        send("[{\"External_Id__c\": ", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["field"], "body");
    assert_eq!(p["errors"][0]["rule"], "json");

    let (status, p) = problem(
        send("{\"External_Id__c\": \"x\"}", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(p["errors"][0]["rule"], "type");

    let (status, _) = problem(send("[]", "application/json").await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, p) = problem(send("[{}]", "text/csv").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(p["detail"].as_str().unwrap().contains("application/json"));

    let (status, p) = problem(
        send("[{\"LastName\": \"x\"}]", "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "External_Id__c");

    let (status, p) = problem(hub.post_records("Opportunity", &contacts("C", 1)).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(p["detail"].as_str().unwrap().contains("Opportunity"));

    assert_eq!(count_rows(&hub.pool, "true").await, 0);
}

#[sqlx::test]
async fn a_body_over_the_limit_is_refused_413(pool: PgPool) {
    let hub = TestHub::start_with(
        pool,
        &[("PUSH_ENABLED", "false"), ("SLUICE_MAX_BODY_BYTES", "1024")],
    )
    .await;
    let (status, p) = problem(hub.post_records("Contact", &contacts("C", 100)).await).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(p["status"], 413);
    assert_eq!(count_rows(&hub.pool, "true").await, 0);
}

#[sqlx::test]
async fn no_data_endpoint_answers_without_a_valid_token(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let url = format!("{}/v1/objects/Contact/records", hub.url);
    let response = hub
        .http
        .post(&url)
        .json(&contacts("C", 1))
        .send()
        .await
        .unwrap();
    assert!(response.headers().contains_key("www-authenticate"));
    let (status, _) = problem(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let response = hub
        .http
        .post(&url)
        .bearer_auth("not.a.jwt")
        .json(&contacts("C", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, StatusCode::UNAUTHORIZED);

    let read_only = token("records:read");
    let response = hub
        .http
        .post(&url)
        .bearer_auth(read_only)
        .json(&contacts("C", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, StatusCode::FORBIDDEN);

    let response = hub
        .http
        .get(format!("{}/v1/objects/Contact/records/C-0", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(count_rows(&hub.pool, "true").await, 0);
}

#[sqlx::test]
async fn a_retried_request_with_the_same_idempotency_key_returns_the_first_answer(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let url = format!("{}/v1/objects/Contact/records", hub.url);
    let send = |body: Value| {
        hub.http
            .post(&url)
            .bearer_auth(&hub.token)
            .header("idempotency-key", "order-42")
            .json(&body)
            .send()
    };
    let first: Value = send(contacts("C", 2)).await.unwrap().json().await.unwrap();
    // Change the staged row behind the API's back: a replay must not stage again.
    sqlx::query("UPDATE staging_records SET fields = fields || '{\"LastName\":\"Changed\"}'")
        .execute(&hub.pool)
        .await
        .unwrap();
    let second = send(contacts("C", 2)).await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(second.json::<Value>().await.unwrap(), first);
    assert_eq!(
        count_rows(&hub.pool, "fields->>'LastName' = 'Changed'").await,
        2
    );

    let conflict = send(contacts("D", 1)).await.unwrap();
    assert_eq!(problem(conflict).await.0, StatusCode::CONFLICT);
}

#[sqlx::test]
async fn the_same_record_sent_again_is_unchanged_and_an_update_merges_fields(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "C-1", "LastName": "A", "Email": "a@example.com"}]),
    )
    .await;
    let again: Value = hub
        .post_records(
            "Contact",
            &json!([{"External_Id__c": "C-1", "LastName": "A"}]),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["results"][0]["status"], "unchanged");

    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "C-1", "Phone": "+33 1 23 45 67 89"}]),
    )
    .await;
    let record: Value = hub
        .get("/v1/objects/Contact/records/C-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["fields"]["LastName"], "A");
    assert_eq!(record["fields"]["Email"], "a@example.com");
    assert_eq!(record["fields"]["Phone"], "+33 1 23 45 67 89");
    assert_eq!(record["version"], 2);
    assert_eq!(record["sync_status"], "pending");
}

#[sqlx::test]
async fn health_is_open_and_ready_checks_the_database(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let health = reqwest::get(format!("{}/health", hub.url)).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(health.headers().contains_key("x-request-id"));
    let ready = reqwest::get(format!("{}/ready", hub.url)).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[sqlx::test]
async fn gzip_bodies_are_staged_as_their_plain_records_and_hash_the_same(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let array = serde_json::to_vec(&contacts("G", 300)).unwrap();
    let ndjson: String = contacts("N", 300)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{c}\n"))
        .collect();
    for (content_type, plain, key) in [
        ("application/json", array, "gz-array"),
        ("application/x-ndjson", ndjson.into_bytes(), "gz-ndjson"),
    ] {
        let send = |body: Vec<u8>, encoding: Option<&'static str>| {
            let mut request = hub
                .http
                .post(format!("{}/v1/objects/Contact/records", hub.url))
                .bearer_auth(&hub.token)
                .header("content-type", content_type)
                .header("idempotency-key", key)
                .body(body);
            if let Some(encoding) = encoding {
                request = request.header("content-encoding", encoding);
            }
            request.send()
        };
        let response = send(gzip(&plain), Some("gzip")).await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED, "{content_type}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["staged"], 300, "{content_type}: {body}");
        // The same records sent plain are the same request: the first answer comes back.
        let again = send(plain, None).await.unwrap();
        assert_eq!(again.status(), StatusCode::ACCEPTED);
        assert_eq!(again.json::<Value>().await.unwrap(), body);
    }
    assert_eq!(count_rows(&hub.pool, "object = 'Contact'").await, 600);
}
