//! The Salesforce client against the simulator, over real HTTP.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};
use sluice::salesforce::{
    BulkOperation, CsvSource, CsvUpload, FailureClass, JobInfo, JobState, SalesforceClient,
    SalesforceConfig, SalesforceError,
};
use sluice::sim::{FaultConfig, SimConfig, SimHandle, Simulator};
use url::Url;

const KEY: &str = include_str!("../dev/salesforce-dev-key.pem");

async fn sim() -> SimHandle {
    Simulator::spawn(SimConfig::dev())
        .await
        .expect("simulator starts")
}

fn config(sim: &SimHandle) -> SalesforceConfig {
    let mut cfg = SalesforceConfig::new(
        "sluice-dev-client",
        "integration@sluice.dev",
        KEY.to_owned().into(),
    )
    .with_login_url(Url::parse(&sim.url).expect("sim url"));
    cfg.request_timeout = Duration::from_secs(10);
    cfg
}

fn client(sim: &SimHandle) -> SalesforceClient {
    SalesforceClient::new(config(sim)).expect("client builds")
}

fn record(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn contact(ext: &str, last_name: &str) -> Map<String, Value> {
    record(json!({"External_Id__c": ext, "LastName": last_name, "FirstName": "Ada"}))
}

#[tokio::test]
async fn many_concurrent_calls_share_one_token_request() {
    let sim = sim().await;
    let client = client(&sim);
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = client.clone();
        calls.spawn(async move { client.describe("Contact").await });
    }
    while let Some(done) = calls.join_next().await {
        done.expect("task").expect("describe");
    }
    assert_eq!(client.token_refreshes(), 1);
    assert_eq!(sim.sim.api_calls(), 20);
}

#[tokio::test]
async fn expired_session_is_renewed_once_and_the_call_retried() {
    let sim = sim().await;
    let client = client(&sim);
    client.limits().await.expect("first call");
    sim.sim.expire_all_tokens();

    let results = client
        .upsert_collection(
            "Contact",
            "External_Id__c",
            vec![contact("E-1", "Lovelace")],
        )
        .await;

    let results = results.expect("upsert after re-auth");
    assert!(results[0].success);
    assert_eq!(client.token_refreshes(), 2);
    assert_eq!(sim.sim.records("Contact").len(), 1);
}

#[tokio::test]
async fn exhausted_daily_allocation_is_limit_exceeded() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim.set_api_usage(15_000, 15_000);

    let err = client.limits().await.expect_err("over the limit");

    assert!(
        matches!(err, SalesforceError::LimitExceeded { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::LimitExceeded);
}

#[tokio::test]
async fn per_record_errors_come_back_intact_inside_a_200() {
    let sim = sim().await;
    let client = client(&sim);
    let records = vec![
        contact("E-1", "Lovelace"),
        record(json!({"External_Id__c": "E-2", "FirstName": "NoLastName"})),
        record(json!({"External_Id__c": "E-3", "LastName": "Hopper", "Email": "not an email"})),
    ];

    let results = client
        .upsert_collection("Contact", "External_Id__c", records)
        .await
        .expect("200");

    assert_eq!(results.len(), 3);
    assert!(results[0].success && results[0].created == Some(true) && results[0].id.is_some());
    assert!(!results[1].success);
    assert_eq!(results[1].errors[0].status_code, "REQUIRED_FIELD_MISSING");
    assert_eq!(results[1].errors[0].fields, vec!["LastName".to_string()]);
    assert!(!results[1].is_retryable_failure());
    assert_eq!(results[2].errors[0].status_code, "INVALID_EMAIL_ADDRESS");
    assert_eq!(sim.sim.records("Contact").len(), 1);
}

#[tokio::test]
async fn a_second_upsert_updates_instead_of_creating() {
    let sim = sim().await;
    let client = client(&sim);
    client
        .upsert_collection("Contact", "External_Id__c", vec![contact("E-1", "A")])
        .await
        .expect("insert");

    let results = client
        .upsert_collection("Contact", "External_Id__c", vec![contact("E-1", "B")])
        .await
        .expect("update");

    assert_eq!(results[0].created, Some(false));
    assert_eq!(sim.sim.records("Contact").len(), 1);
}

#[tokio::test]
async fn lock_errors_are_transient_record_errors() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim.set_faults(FaultConfig {
        lock_external_ids: vec!["E-2".into()],
        ..FaultConfig::default()
    });

    let records = vec![contact("E-1", "A"), contact("E-2", "B")];
    let results = client
        .upsert_collection("Contact", "External_Id__c", records)
        .await
        .expect("200");

    assert!(results[0].success);
    assert_eq!(results[1].errors[0].status_code, "UNABLE_TO_LOCK_ROW");
    assert!(results[1].is_retryable_failure());
}

#[tokio::test]
async fn usage_header_is_recorded_after_each_call() {
    let sim = sim().await;
    let client = client(&sim);
    assert_eq!(client.api_usage(), None);
    sim.sim.set_api_usage(100, 15_000);

    client.limits().await.expect("limits");

    let usage = client.api_usage().expect("usage seen");
    assert_eq!((usage.used, usage.max), sim.sim.api_usage());
    assert_eq!(usage.max, 15_000);
}

#[tokio::test]
async fn limits_resource_is_typed() {
    let sim = sim().await;
    let client = client(&sim);

    let limits = client.limits().await.expect("limits");

    assert_eq!(
        limits.daily_api_requests().expect("DailyApiRequests").max,
        15_000
    );
}

#[tokio::test]
async fn server_outages_and_dropped_connections_are_transient() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim.set_faults(FaultConfig {
        unavailable_next: 1,
        ..FaultConfig::default()
    });
    let err = client.limits().await.expect_err("503");
    assert!(
        matches!(err, SalesforceError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::Transient);

    sim.sim.set_faults(FaultConfig {
        drop_next: 1,
        ..FaultConfig::default()
    });
    let err = client.limits().await.expect_err("dropped");
    assert!(matches!(err, SalesforceError::Network(_)), "{err:?}");
    assert_eq!(err.class(), FailureClass::Transient);
}

#[tokio::test]
async fn more_than_200_records_are_refused_before_sending() {
    let sim = sim().await;
    let client = client(&sim);
    let records = (0..201).map(|i| contact(&format!("E-{i}"), "X")).collect();

    let err = client
        .upsert_collection("Contact", "External_Id__c", records)
        .await
        .expect_err("too many");

    assert!(matches!(
        err,
        SalesforceError::TooManyRecords {
            count: 201,
            max: 200
        }
    ));
    assert_eq!(sim.sim.api_calls(), 0);
}

#[tokio::test]
async fn a_wrong_audience_is_a_fatal_auth_error() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.audience = "https://login.example.com".into();
    let client = SalesforceClient::new(cfg).expect("client builds");

    let err = client.limits().await.expect_err("refused");

    assert!(
        matches!(&err, SalesforceError::Auth { error, .. } if error == "invalid_grant"),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::Fatal);
}

#[tokio::test]
async fn describe_and_delete_round_trip() {
    let sim = sim().await;
    let client = client(&sim);
    let describe = client.describe("Contact").await.expect("describe");
    assert!(
        describe
            .field("LastName")
            .expect("LastName")
            .required_on_create()
    );
    assert!(
        describe
            .field("External_Id__c")
            .expect("ext id")
            .external_id
    );

    let created = client
        .upsert_collection("Contact", "External_Id__c", vec![contact("E-1", "A")])
        .await
        .expect("upsert");
    let id = created[0].id.clone().expect("id");
    let results = client
        .delete_collection(&[id.clone(), id])
        .await
        .expect("delete");

    assert!(results[0].success);
    assert!(!results[1].success);
    assert!(sim.sim.records("Contact").is_empty());
}

#[tokio::test]
async fn bulk_upsert_job_round_trip() {
    let sim = sim().await;
    let client = client(&sim);
    let job = client
        .create_ingest_job("Contact", BulkOperation::Upsert, Some("External_Id__c"))
        .await
        .expect("create");
    assert_eq!(job.state, JobState::Open);

    let csv =
        "External_Id__c,LastName,FirstName\nB-1,Lovelace,Ada\nB-2,,NoLastName\nB-3,Hopper,Grace\n";
    client
        .upload_job_data(&job.id, csv.to_owned())
        .await
        .expect("upload");
    let info = close_and_wait(&client, &job.id).await;

    assert_eq!(info.state, JobState::JobComplete);
    assert_eq!(info.number_records_failed, Some(1));
    let mut ok = Vec::new();
    let rows = client
        .successful_results(&job.id, |row| {
            let last_name = row.fields.get("LastName").map(str::to_owned);
            ok.push((row.id.to_owned(), row.created, last_name));
        })
        .await
        .expect("successes");
    assert_eq!(rows, 2);
    assert!(ok.iter().all(|(id, created, _)| *created && !id.is_empty()));
    let mut failed = Vec::new();
    client
        .failed_results(&job.id, |row| {
            let ext = row.fields.get("External_Id__c").map(str::to_owned);
            failed.push((ext, row.error.status_code.clone()));
        })
        .await
        .expect("failures");
    assert_eq!(
        failed,
        [(Some("B-2".to_owned()), "REQUIRED_FIELD_MISSING".to_owned())]
    );
    let unprocessed = client
        .unprocessed_records(&job.id, |_| {})
        .await
        .expect("unprocessed");
    assert_eq!(unprocessed, 0);
    assert_eq!(sim.sim.records("Contact").len(), 2);
}

async fn close_and_wait(client: &SalesforceClient, job_id: &str) -> JobInfo {
    client.close_job(job_id).await.expect("close");
    let mut info = client.job_info(job_id).await.expect("poll");
    for _ in 0..50 {
        if info.state.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        info = client.job_info(job_id).await.expect("poll");
    }
    info
}

/// `External_Id__c,LastName` rows `S-0`… written while they are sent.
struct Contacts(usize);

impl Contacts {
    fn row(i: usize) -> String {
        format!("S-{i},Name {i} {}\n", "x".repeat(40))
    }
}

impl CsvSource for Contacts {
    fn size(&self) -> u64 {
        let rows: usize = (0..self.0).map(|i| Self::row(i).len()).sum();
        ("External_Id__c,LastName\n".len() + rows) as u64
    }

    fn write_next(&self, cursor: &mut usize, out: &mut Vec<u8>, target: usize) {
        if *cursor == 0 {
            out.extend_from_slice(b"External_Id__c,LastName\n");
        }
        while *cursor < self.0 {
            out.extend_from_slice(Self::row(*cursor).as_bytes());
            *cursor += 1;
            if out.len() >= target {
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_streamed_upload_is_written_again_whole_when_the_session_expired() {
    let sim = sim().await;
    let client = client(&sim);
    let job = client
        .create_ingest_job("Contact", BulkOperation::Upsert, Some("External_Id__c"))
        .await
        .expect("create");
    sim.sim.expire_all_tokens();

    // About 500 KB: several chunks.
    let upload = CsvUpload::streamed(Arc::new(Contacts(8000)));
    client
        .upload_job_data(&job.id, upload)
        .await
        .expect("upload after re-auth");
    let info = close_and_wait(&client, &job.id).await;

    assert_eq!(client.token_refreshes(), 2);
    assert_eq!(info.number_records_processed, Some(8000));
    assert_eq!(info.number_records_failed, Some(0));
    let mut last_names = 0;
    let rows = client
        .successful_results(&job.id, |row| {
            last_names += usize::from(row.fields.get("LastName").is_some());
        })
        .await
        .expect("successes");
    assert_eq!((rows, last_names), (8000, 8000));
    assert_eq!(sim.sim.records("Contact").len(), 8000);
}

#[tokio::test]
async fn a_streamed_upload_is_sent_with_its_content_length_not_chunked() {
    let (login, hits) = stub::spawn(axum::http::StatusCode::CREATED, "").await;
    let client = stub_client(&login);
    let upload = CsvUpload::streamed(Arc::new(Contacts(3000)));
    let len = upload.len();

    client
        .upload_job_data("7500000000000001", upload)
        .await
        .expect("upload");

    let framing = hits
        .last_request
        .lock()
        .unwrap()
        .clone()
        .expect("a request");
    assert_eq!(framing.content_length, Some(len.to_string()));
    assert_eq!(framing.transfer_encoding, None);
    assert_eq!(framing.body_bytes as u64, len);
}

#[tokio::test]
async fn slow_answers_time_out_as_network_errors() {
    let sim = sim().await;
    let mut cfg = config(&sim);
    cfg.request_timeout = Duration::from_millis(200);
    let client = SalesforceClient::new(cfg).expect("client builds");
    client.limits().await.expect("token and first call");
    sim.sim.set_faults(FaultConfig {
        latency_ms: 1_000,
        ..FaultConfig::default()
    });

    let err = client.limits().await.expect_err("timeout");

    assert!(
        matches!(&err, SalesforceError::Network(e) if e.is_timeout()),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::Transient);
}

#[path = "salesforce_client/stub.rs"]
mod stub;

fn stub_client(login: &str) -> SalesforceClient {
    let cfg = SalesforceConfig::new(
        "sluice-dev-client",
        "integration@sluice.dev",
        KEY.to_owned().into(),
    )
    .with_login_url(Url::parse(login).expect("url"));
    SalesforceClient::new(cfg).expect("client builds")
}

#[tokio::test]
async fn a_401_after_re_auth_is_session_invalid_and_calls_go_to_the_instance() {
    use std::sync::atomic::Ordering;
    let body = r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
    let (login, hits) = stub::spawn(axum::http::StatusCode::UNAUTHORIZED, body).await;
    let client = stub_client(&login);

    let err = client.limits().await.expect_err("401 twice");

    assert!(
        matches!(err, SalesforceError::SessionInvalid { .. }),
        "{err:?}"
    );
    assert_eq!(hits.tokens.load(Ordering::SeqCst), 2);
    assert_eq!(hits.rest.load(Ordering::SeqCst), 2);
    assert_eq!(client.token_refreshes(), 2);
}

#[tokio::test]
async fn a_401_a_new_token_cannot_fix_is_not_retried() {
    use std::sync::atomic::Ordering;
    let body = r#"[{"message":"This session is not valid for use with the REST API","errorCode":"INVALID_SESSION_ID"}]"#;
    let (login, hits) = stub::spawn(axum::http::StatusCode::UNAUTHORIZED, body).await;
    let client = stub_client(&login);

    let err = client.limits().await.expect_err("401");

    assert!(
        matches!(err, SalesforceError::SessionInvalid { .. }),
        "{err:?}"
    );
    assert_eq!(hits.tokens.load(Ordering::SeqCst), 1);
    assert_eq!(hits.rest.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_html_gateway_error_is_unavailable_without_the_html() {
    let (login, _) = stub::spawn(
        axum::http::StatusCode::BAD_GATEWAY,
        "<html><body>Bad gateway</body></html>",
    )
    .await;
    let client = stub_client(&login);

    let err = client.limits().await.expect_err("502");

    assert!(
        matches!(err, SalesforceError::Unavailable { status: 502, .. }),
        "{err:?}"
    );
    assert!(!err.to_string().contains("<html>"));
}

#[path = "salesforce_client/reads.rs"]
mod reads;
#[path = "salesforce_client/streaming.rs"]
mod streaming;
