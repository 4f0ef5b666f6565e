use std::process::Command;

use chrono::{Duration, Utc};
use serde_json::json;
use sluice::ops::{self, FailureArgs, ReplayArgs};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, drain};

/// The URL of the test's own database, for the `sluice` binary run as a subprocess.
pub async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for sqlx::test");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn sluice(args: &[&str], database_url: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("DATABASE_SSL_MODE", "disable")
        .output()
        .expect("sluice runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A hub without a scheduler whose records fail for good on their first transient error, so
/// that a test can make Salesforce refuse a record whatever ingest's validation accepts.
pub async fn hub_failing_fast(pool: PgPool) -> TestHub {
    TestHub::start_with(
        pool,
        &[("PUSH_ENABLED", "false"), ("PUSH_MAX_ATTEMPTS", "1")],
    )
    .await
}

/// Makes the simulator answer `UNABLE_TO_LOCK_ROW` for the next write of each external id.
pub async fn lock_in_salesforce(hub: &TestHub, external_ids: &[&str]) {
    let response = hub
        .http
        .post(format!("{}/__sim/faults", hub.sim.url))
        .json(&json!({ "lock_external_ids": external_ids }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

pub fn contact(id: &str, last_name: &str) -> serde_json::Value {
    json!({"External_Id__c": id, "LastName": last_name})
}

/// Contacts C-1 and C-3 synced, C-2 and C-4 failed with `UNABLE_TO_LOCK_ROW`.
async fn known_run(hub: &TestHub) {
    lock_in_salesforce(hub, &["C-2", "C-4"]).await;
    let body = json!([
        contact("C-1", "One"),
        contact("C-2", "Two"),
        contact("C-3", "Three"),
        contact("C-4", "Four")
    ]);
    assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
    drain(&hub.pusher("ops-test")).await;
}

fn by(object: Option<&str>, code: Option<&str>, ids: &[&str]) -> FailureArgs {
    FailureArgs {
        object: object.map(str::to_owned),
        code: code.map(str::to_owned),
        external_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        all: false,
    }
}

#[sqlx::test]
async fn sluice_status_prints_the_counts_and_the_failures(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    known_run(&hub).await;
    let (ok, stdout, stderr) = sluice(&["status"], &database_url(&hub.pool).await);
    assert!(ok, "{stderr}");
    let contact = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("Contact"))
        .unwrap();
    let columns: Vec<&str> = contact.split_whitespace().collect();
    assert_eq!(
        &columns[..6],
        ["Contact", "0", "0", "2", "2", "0"],
        "{stdout}"
    );
    assert!(stdout.contains("Failures: 2"), "{stdout}");
    assert!(stdout.contains("UNABLE_TO_LOCK_ROW"), "{stdout}");
    assert!(stdout.contains("of 15,000 used"), "{stdout}");
}

#[sqlx::test]
async fn retry_and_discard_apply_to_the_filtered_failures_only(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    known_run(&hub).await;
    assert!(matches!(
        ops::retry(&hub.pool, &by(None, None, &[])).await,
        Err(ops::OpsError::NoFilter)
    ));
    assert_eq!(
        ops::retry(&hub.pool, &by(Some("Contact"), None, &["C-2"]))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'pending'").await,
        1
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-4' AND sync_status = 'failed'").await,
        1
    );

    let (ok, stdout, stderr) = sluice(
        &["discard", "--code", "UNABLE_TO_LOCK_ROW"],
        &database_url(&hub.pool).await,
    );
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "discarded 1 failed record(s)");
    assert_eq!(
        count_rows(
            &hub.pool,
            "external_id = 'C-4' AND sync_status = 'discarded'"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn replay_requeues_the_records_received_in_the_range(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    known_run(&hub).await;
    sqlx::query("UPDATE staging_records SET received_at = now() - interval '2 hours' WHERE external_id = 'C-3'")
        .execute(&hub.pool)
        .await
        .unwrap();
    let now = Utc::now();
    let recent = ReplayArgs {
        object: "Contact".into(),
        from: now - Duration::minutes(30),
        to: now + Duration::minutes(1),
    };
    // C-1 (synced) and C-2, C-4 (failed) were received in the range; C-3 two hours ago.
    assert_eq!(ops::replay(&hub.pool, &recent).await.unwrap(), 3);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'pending'").await, 3);
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-3' AND sync_status = 'synced'").await,
        1
    );
    drain(&hub.pusher("ops-test")).await;
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-1' AND sync_status = 'synced'").await,
        1
    );

    let backwards = ReplayArgs {
        from: recent.to,
        to: recent.from,
        ..recent
    };
    assert!(matches!(
        ops::replay(&hub.pool, &backwards).await,
        Err(ops::OpsError::EmptyRange { .. })
    ));
}

#[test]
fn every_operator_command_explains_itself() {
    for command in ["status", "retry", "discard", "replay"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([command, "--help"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{command} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("DATABASE_URL") || help.contains("--object"),
            "{command}: {help}"
        );
    }
}
