use axum::http::{Method, StatusCode};
use serde_json::json;

use super::*;

async fn put_csv(sim: &Simulator, token: &str, job: &str, csv: &str) -> Reply {
    let req = Request::put(format!("{V}/jobs/ingest/{job}/batches"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv")
        .body(Body::from(csv.to_string()))
        .expect("request");
    send(sim, req).await
}

async fn create(sim: &Simulator, token: &str, body: Value) -> String {
    let reply = call(
        sim,
        token,
        Method::POST,
        &format!("{V}/jobs/ingest"),
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let info = reply.json();
    assert_eq!(info["state"], "Open");
    info["id"].as_str().expect("id").to_string()
}

async fn poll(sim: &Simulator, token: &str, job: &str) -> Value {
    call(
        sim,
        token,
        Method::GET,
        &format!("{V}/jobs/ingest/{job}"),
        None,
    )
    .await
    .json()
}

async fn close(sim: &Simulator, token: &str, job: &str) -> Reply {
    call(
        sim,
        token,
        Method::PATCH,
        &format!("{V}/jobs/ingest/{job}"),
        Some(json!({"state": "UploadComplete"})),
    )
    .await
}

#[tokio::test]
async fn an_upsert_job_runs_through_its_states_and_reports_results() {
    let sim = sim();
    let token = login(&sim).await;
    let accounts = create(
        &sim,
        &token,
        json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
    )
    .await;
    assert_eq!(
        put_csv(&sim, &token, &accounts, "Name,External_Id__c\nAcme,A-1\n")
            .await
            .status,
        StatusCode::CREATED
    );
    close(&sim, &token, &accounts).await;
    poll(&sim, &token, &accounts).await;
    assert_eq!(poll(&sim, &token, &accounts).await["state"], "JobComplete");

    let job = create(&sim, &token, json!({"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c", "contentType": "CSV", "columnDelimiter": "COMMA"})).await;
    let csv = "External_Id__c,LastName,Email,Account.External_Id__c,Birthdate\n\
        C-1,Doe,doe@example.com,A-1,2000-01-31\n\
        C-2,,bad,A-1,\n\
        C-3,\"Smith, Jr\",,A-404,\n\
        C-4,Roe,,,31/01/2000\n";
    assert_eq!(
        put_csv(&sim, &token, &job, csv).await.status,
        StatusCode::CREATED
    );
    let again = put_csv(&sim, &token, &job, csv).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    let closed = close(&sim, &token, &job).await;
    assert_eq!(closed.json()["state"], "UploadComplete");
    assert_eq!(poll(&sim, &token, &job).await["state"], "InProgress");
    let done = poll(&sim, &token, &job).await;
    assert_eq!(
        (
            done["state"].as_str(),
            done["numberRecordsProcessed"].as_u64(),
            done["numberRecordsFailed"].as_u64()
        ),
        (Some("JobComplete"), Some(4), Some(3))
    );

    let ok = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/jobs/ingest/{job}/successfulResults/"),
        None,
    )
    .await;
    assert_eq!(ok.headers["content-type"], "text/csv");
    let lines: Vec<&str> = ok.text.lines().collect();
    assert_eq!(
        lines[0],
        r#""sf__Id","sf__Created","External_Id__c","LastName","Email","Account.External_Id__c","Birthdate""#
    );
    assert!(lines[1].contains(r#""true","C-1""#));
    let failed = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/jobs/ingest/{job}/failedResults/"),
        None,
    )
    .await
    .text;
    assert!(
        failed.contains("INVALID_EMAIL_ADDRESS:Email: invalid email address: bad:Email --"),
        "{failed}"
    );
    assert!(failed.contains("INVALID_FIELD:Foreign key external ID: A-404 not found for field External_Id__c in entity Account: --"), "{failed}");
    assert!(
        failed.contains("'31/01/2000' is not a valid value for the type xsd:date:Birthdate --"),
        "{failed}"
    );
    let unprocessed = call(
        &sim,
        &token,
        Method::GET,
        &format!("{V}/jobs/ingest/{job}/unprocessedrecords/"),
        None,
    )
    .await;
    assert_eq!(unprocessed.text.lines().count(), 1);
    let c = sim
        .record_by_external_id("Contact", "External_Id__c", "C-1")
        .expect("contact");
    assert_eq!(c["AccountId"], sim.records("Account")[0]["Id"]);

    let update = create(&sim, &token, json!({"object": "Contact", "operation": "upsert", "externalIdFieldName": "External_Id__c"})).await;
    put_csv(
        &sim,
        &token,
        &update,
        "External_Id__c,Email,Birthdate\nC-1,,#N/A\n",
    )
    .await;
    close(&sim, &token, &update).await;
    poll(&sim, &token, &update).await;
    poll(&sim, &token, &update).await;
    let c = sim
        .record_by_external_id("Contact", "External_Id__c", "C-1")
        .expect("contact");
    assert_eq!(
        (c["Email"].as_str(), c["Birthdate"].is_null()),
        (Some("doe@example.com"), true)
    );
    assert_eq!(
        call(
            &sim,
            &token,
            Method::DELETE,
            &format!("{V}/jobs/ingest/{update}"),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        poll(&sim, &token, &update).await[0]["errorCode"],
        "NOT_FOUND"
    );
    assert_eq!(sim.calls_by_kind()["bulk_upload"], 4);
}

#[tokio::test]
async fn an_unknown_column_or_wrong_line_ending_fails_the_job() {
    let sim = sim();
    let token = login(&sim).await;
    for (csv, line_ending, message) in [
        (
            "Name,Nope__c\nA,b\n",
            "LF",
            "InvalidBatch : Field name not found : Nope__c",
        ),
        (
            "Name\r\nA\r\n",
            "LF",
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF",
        ),
    ] {
        let job = create(
            &sim,
            &token,
            json!({"object": "Account", "operation": "insert", "lineEnding": line_ending}),
        )
        .await;
        put_csv(&sim, &token, &job, csv).await;
        close(&sim, &token, &job).await;
        poll(&sim, &token, &job).await;
        let info = poll(&sim, &token, &job).await;
        assert_eq!(
            (info["state"].as_str(), info["errorMessage"].as_str()),
            (Some("Failed"), Some(message))
        );
    }
    let job = create(
        &sim,
        &token,
        json!({"object": "Account", "operation": "insert", "lineEnding": "CRLF"}),
    )
    .await;
    put_csv(&sim, &token, &job, "Name\r\nA\r\n").await;
    close(&sim, &token, &job).await;
    poll(&sim, &token, &job).await;
    assert_eq!(poll(&sim, &token, &job).await["state"], "JobComplete");
}

#[tokio::test]
async fn job_level_errors_are_rejected() {
    let sim = sim();
    let token = login(&sim).await;
    let path = format!("{V}/jobs/ingest");
    let reply = call(
        &sim,
        &token,
        Method::POST,
        &path,
        Some(json!({"object": "Contact", "operation": "upsert"})),
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "InvalidJob")
    );
    let reply = call(
        &sim,
        &token,
        Method::POST,
        &path,
        Some(json!({"object": "Nope", "operation": "insert"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = call(
        &sim,
        &token,
        Method::POST,
        &path,
        Some(json!({"object": "Account", "operation": "insert", "columnDelimiter": "COLON"})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let job = create(
        &sim,
        &token,
        json!({"object": "Account", "operation": "insert"}),
    )
    .await;
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{path}/{job}/successfulResults"),
        None,
    )
    .await;
    assert_eq!(reply.error_code(), "InvalidJobState");
    let reply = call(&sim, &token, Method::DELETE, &format!("{path}/{job}"), None).await;
    assert_eq!(reply.error_code(), "InvalidJobState");
    let aborted = call(
        &sim,
        &token,
        Method::PATCH,
        &format!("{path}/{job}"),
        Some(json!({"state": "Aborted"})),
    )
    .await;
    assert_eq!(aborted.json()["state"], "Aborted");
    assert_eq!(
        put_csv(&sim, &token, &job, "Name\nA\n").await.error_code(),
        "InvalidJobState"
    );
    assert_eq!(
        close(&sim, &token, &job).await.error_code(),
        "InvalidJobState"
    );
    let reply = call(
        &sim,
        &token,
        Method::GET,
        &format!("{path}/7505g0000000000AAA"),
        None,
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
}

#[tokio::test]
async fn an_upload_larger_than_axums_default_limit_is_accepted_as_salesforce_does() {
    let sim = sim();
    let token = login(&sim).await;
    let job = create(
        &sim,
        &token,
        json!({"object": "Account", "operation": "insert", "lineEnding": "LF"}),
    )
    .await;
    // About 6 MB: three times axum's 2 MB default, well under Bulk API 2.0's 100 MB raw cap.
    let mut csv = String::from("Name\n");
    for i in 0..200_000 {
        csv.push_str(&format!("Company number {i:08} with a long name\n"));
    }
    assert!(csv.len() > 6_000_000);
    let reply = put_csv(&sim, &token, &job, &csv).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
}
