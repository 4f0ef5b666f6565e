use axum::http::{Method, StatusCode};
use serde_json::json;

use super::query::names;
use super::*;

const JOBS: &str = "/services/data/v62.0/jobs/query";

async fn create(sim: &Simulator, token: &str, body: serde_json::Value) -> Reply {
    call(sim, token, Method::POST, JOBS, Some(body)).await
}

async fn poll_until_complete(sim: &Simulator, token: &str, id: &str) -> usize {
    for polls in 1..=10 {
        let info = call(sim, token, Method::GET, &format!("{JOBS}/{id}"), None).await;
        if info.json()["state"] == "JobComplete" {
            return polls;
        }
    }
    panic!("job {id} never completed");
}

#[tokio::test]
async fn a_hundred_thousand_records_come_back_in_five_calls() {
    let sim = sim();
    let token = login(&sim).await;
    sim.seed("Account", &names("A", 100_000)).expect("seeds");

    let job = create(
        &sim,
        &token,
        json!({"operation": "query", "query": "SELECT Id, Name FROM Account"}),
    )
    .await;
    assert_eq!(job.status, StatusCode::OK, "{}", job.text);
    let info = job.json();
    assert_eq!(
        (info["state"].as_str(), info["operation"].as_str()),
        (Some("UploadComplete"), Some("query"))
    );
    let id = info["id"].as_str().expect("id").to_string();
    let polls = poll_until_complete(&sim, &token, &id).await;
    let mut rows = 0;
    let mut locator: Option<String> = None;
    let mut pages = 0;
    while pages < 10 {
        let mut path = format!("{JOBS}/{id}/results?maxRecords=50000");
        if let Some(l) = &locator {
            path.push_str(&format!("&locator={l}"));
        }
        let page = call(&sim, &token, Method::GET, &path, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_eq!(page.headers["content-type"], "text/csv");
        pages += 1;
        let count: usize = page.headers["sforce-numberofrecords"]
            .to_str()
            .ok()
            .and_then(|n| n.parse().ok())
            .expect("record count");
        assert!(page.text.starts_with("\"Id\",\"Name\"\n"));
        assert_eq!(page.text.lines().count(), count + 1);
        rows += count;
        match page.headers["sforce-locator"].to_str().expect("locator") {
            "null" => break,
            next => locator = Some(next.to_string()),
        }
    }

    assert_eq!((rows, pages, polls), (100_000, 2, 2));
    assert_eq!(sim.api_calls(), 5, "create, two polls, two result pages");
    assert_eq!(sim.stats().families()["bulk_query_calls"], 5);
}

#[tokio::test]
async fn results_wait_for_completion_and_query_all_includes_deleted_rows() {
    let sim = sim();
    let token = login(&sim).await;
    let ids = sim.seed("Account", &names("A", 3)).expect("seeds");
    sim.delete_as_user("Account", &ids[..1]).expect("deletes");
    let job = create(
        &sim,
        &token,
        json!({"operation": "queryAll", "query": "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true", "columnDelimiter": "PIPE"}),
    )
    .await
    .json();
    let id = job["id"].as_str().expect("id");

    let early = call(
        &sim,
        &token,
        Method::GET,
        &format!("{JOBS}/{id}/results"),
        None,
    )
    .await;
    assert_eq!(
        (early.status, early.error_code().as_str()),
        (StatusCode::PRECONDITION_FAILED, "JOB_NOT_COMPLETE")
    );
    poll_until_complete(&sim, &token, id).await;
    let results = call(
        &sim,
        &token,
        Method::GET,
        &format!("{JOBS}/{id}/results"),
        None,
    )
    .await;
    assert_eq!(
        results.text,
        format!("\"Id\"|\"IsDeleted\"\n\"{}\"|\"true\"\n", ids[0])
    );
    assert_eq!(results.headers["sforce-locator"], "null");
    let other_version = call(
        &sim,
        &token,
        Method::GET,
        &format!("/services/data/v61.0/jobs/query/{id}/results"),
        None,
    )
    .await;
    assert_eq!(other_version.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn bad_jobs_are_refused_at_creation() {
    let sim = sim();
    let token = login(&sim).await;
    for body in [
        json!({"operation": "query", "query": "SELECT Nope FROM Account"}),
        json!({"operation": "query", "query": "SELECT Id FROM Account GROUP BY Id"}),
        json!({"operation": "insert", "query": "SELECT Id FROM Account"}),
        json!({"operation": "query"}),
        json!({"operation": "query", "query": "SELECT Id FROM Account", "lineEnding": "CR"}),
    ] {
        let reply = create(&sim, &token, body.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.error_code(), "InvalidJob", "{body}");
    }
    let reply = create(
        &sim,
        &token,
        json!({"operation": "query", "query": "SELECT Id FROM Account", "extra": 1}),
    )
    .await;
    assert_eq!(reply.error_code(), "JSON_PARSER_ERROR");
}

#[tokio::test]
async fn jobs_can_be_aborted_listed_and_deleted() {
    let sim = sim();
    let token = login(&sim).await;
    let job = create(
        &sim,
        &token,
        json!({"operation": "query", "query": "SELECT Id FROM Account"}),
    )
    .await
    .json();
    let id = job["id"].as_str().expect("id");
    let delete_open = call(&sim, &token, Method::DELETE, &format!("{JOBS}/{id}"), None).await;
    assert_eq!(delete_open.error_code(), "InvalidJobState");

    let aborted = call(
        &sim,
        &token,
        Method::PATCH,
        &format!("{JOBS}/{id}"),
        Some(json!({"state": "Aborted"})),
    )
    .await;

    assert_eq!(aborted.json()["state"], "Aborted");
    let list = call(&sim, &token, Method::GET, JOBS, None).await.json();
    assert_eq!(list["records"][0]["id"], id);
    let deleted = call(&sim, &token, Method::DELETE, &format!("{JOBS}/{id}"), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let limits = call(
        &sim,
        &token,
        Method::GET,
        "/services/data/v62.0/limits",
        None,
    )
    .await
    .json();
    assert_eq!(
        limits["DailyBulkV2QueryJobs"],
        json!({"Max": 10000, "Remaining": 9999})
    );
}
