use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{auth_keys_json, count_rows, eventually, spawn_sim, token};
use crate::ops::database_url;

const DEV_KEY: &str = include_str!("../../dev/salesforce-dev-key.pem");

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `sluice serve` as Heroku would (a process, logs on stdout, debug level), sends one record
/// through to the simulator, and reads every line it logged.
#[sqlx::test]
async fn a_full_run_logs_the_records_trace_and_never_its_token_or_fields(pool: PgPool) {
    let sim = spawn_sim().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path =
        std::env::temp_dir().join(format!("sluice-logs-{port}-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("serve")
        .env("PORT", port.to_string())
        .env("DATABASE_URL", database_url(&pool).await)
        .env("DATABASE_SSL_MODE", "disable")
        .env("SALESFORCE_LOGIN_URL", &sim.url)
        .env("SALESFORCE_CLIENT_ID", "sluice-dev-client")
        .env("SALESFORCE_USERNAME", "integration@sluice.dev")
        .env("SALESFORCE_PRIVATE_KEY", DEV_KEY)
        .env("SLUICE_AUTH_KEYS", auth_keys_json())
        .env("PUSH_BATCH_WINDOW_MS", "20")
        .env("PUSH_SWEEP_INTERVAL_MS", "200")
        .env("RUST_LOG", "debug")
        .env_remove("LOG_FORMAT")
        .env_remove("SLUICE_LOG_PAYLOADS")
        .stdout(Stdio::from(log))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _child = Killed(child);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    eventually(Duration::from_secs(20), || async {
        http.get(format!("{url}/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;

    let bearer = token("records:write records:read sync:admin");
    let record = json!([{"External_Id__c": "TRACE-7", "LastName": "Quixotically", "Email": "zelda.quux@example.org"}]);
    let response = http
        .post(format!("{url}/v1/objects/Contact/records"))
        .bearer_auth(&bearer)
        .json(&record)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    eventually(Duration::from_secs(20), || async {
        count_rows(&pool, "external_id = 'TRACE-7' AND sync_status = 'synced'").await == 1
    })
    .await;
    // Let the last lines reach the file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);

    for secret in [bearer.as_str(), "Quixotically", "zelda.quux", "PRIVATE KEY"] {
        assert!(!logs.contains(secret), "{secret:?} appears in the logs");
    }
    let with_id: Vec<&str> = logs.lines().filter(|l| l.contains("TRACE-7")).collect();
    let staged = with_id
        .iter()
        .find(|l| l.contains("records staged"))
        .unwrap_or_else(|| panic!("no ingest line with the external id in:\n{logs}"));
    assert!(
        staged.contains(&format!("request_id={request_id}")),
        "{staged}"
    );
    let claimed = with_id
        .iter()
        .find(|l| l.contains("batch claimed"))
        .unwrap_or_else(|| panic!("no push line with the external id in:\n{logs}"));
    let batch_id = claimed
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("batch_id="))
        .unwrap_or_else(|| panic!("the push line names its batch: {claimed}"));
    assert!(
        logs.lines().any(
            |l| l.contains("salesforce request") && l.contains(&format!("batch_id={batch_id}"))
        ),
        "the Salesforce call carries the batch id:\n{logs}"
    );
    assert!(
        logs.lines().all(|l| l.contains("level=")),
        "every line is logfmt"
    );
}
