//! A backlog goes through Bulk API 2.0; deletions remove records in Salesforce.

use std::time::Duration;

use serde_json::{Value, json};
use sluice::sim::FaultConfig;
use sqlx::PgPool;

use crate::helpers::{TestHub, config, contacts, count_rows, pusher_for};
use crate::push_support::settle;

const BULK: &[(&str, &str)] = &[
    ("PUSH_BULK_THRESHOLD", "300"),
    ("PUSH_BULK_MAX_RECORDS", "1000"),
    ("PUSH_BATCH_WINDOW_MS", "0"),
];

#[sqlx::test]
async fn a_backlog_goes_as_one_bulk_job_and_each_outcome_comes_back(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, BULK), "test");
    hub.post_records(
        "Account",
        &json!([{"External_Id__c": "A-1", "Name": "Acme"}]),
    )
    .await;
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(10),
    )
    .await;

    let mut body = contacts("K", 500);
    let rows = body.as_array_mut().unwrap();
    rows[1]["Account"] = json!({"External_Id__c": "A-1"});
    rows[2]["Account"] = json!({"External_Id__c": "A-404"});
    rows[3]["LastName"] = json!("Quote \"and\", comma\nnewline");
    assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
    hub.sim.sim.set_faults(FaultConfig {
        lock_external_ids: vec!["K-4".into()],
        ..FaultConfig::default()
    });
    let calls_before = hub.sim.sim.api_calls();
    settle(&[pusher], &hub.pool, Duration::from_secs(30)).await;

    let by_kind = hub.sim.sim.calls_by_kind();
    assert_eq!(by_kind.get("bulk_create_job"), Some(&1), "{by_kind:?}");
    assert_eq!(by_kind.get("bulk_upload"), Some(&1));
    assert_eq!(by_kind.get("bulk_failed_results"), Some(&1));
    assert_eq!(
        by_kind.get("bulk_unprocessed_records"),
        None,
        "the job completed"
    );
    // The locked record goes again, alone, through a collections call.
    assert_eq!(by_kind.get("collections_upsert"), Some(&2), "{by_kind:?}");
    let spent = hub.sim.sim.api_calls() - calls_before;
    assert!(spent <= 9, "{spent} calls: {by_kind:?}");

    assert_eq!(
        count_rows(&hub.pool, "object = 'Contact' AND sync_status = 'synced'").await,
        499
    );
    let (status, code): (String, String) = sqlx::query_as(
        "SELECT sync_status, last_error_code FROM staging_records WHERE external_id = 'K-2'",
    )
    .fetch_one(&hub.pool)
    .await
    .unwrap();
    assert_eq!(
        (status.as_str(), code.as_str()),
        ("failed", "INVALID_FIELD")
    );

    let with_parent = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "K-1")
        .unwrap();
    let account = hub
        .sim
        .sim
        .record_by_external_id("Account", "External_Id__c", "A-1")
        .unwrap();
    assert_eq!(with_parent["AccountId"], account["Id"]);
    let quoted = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "K-3")
        .unwrap();
    let staged: String = sqlx::query_scalar(
        "SELECT fields->>'LastName' FROM staging_records WHERE external_id = 'K-3'",
    )
    .fetch_one(&hub.pool)
    .await
    .unwrap();
    assert!(staged.starts_with("Quote \"and\", comma"), "{staged}");
    assert_eq!(
        quoted["LastName"],
        json!(staged),
        "quotes and commas survive the CSV"
    );
    let staged_id: String =
        sqlx::query_scalar("SELECT salesforce_id FROM staging_records WHERE external_id = 'K-3'")
            .fetch_one(&hub.pool)
            .await
            .unwrap();
    assert_eq!(
        quoted["Id"],
        json!(staged_id),
        "results correlated by external id"
    );

    let jobs = sluice::push::jobs::recent(&hub.pool, 10).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        (
            jobs[0].state.as_str(),
            jobs[0].records,
            jobs[0].succeeded,
            jobs[0].failed
        ),
        ("JobComplete", 500, Some(498), Some(2))
    );
    assert!(jobs[0].finished_at.is_some());
}

async fn delete(hub: &TestHub, object: &str, external_id: &str) -> reqwest::Response {
    hub.http
        .delete(format!(
            "{}/v1/objects/{object}/records/{external_id}",
            hub.url
        ))
        .bearer_auth(&hub.token)
        .send()
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_staged_deletion_removes_the_record_in_salesforce(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = hub.pusher("test");
    hub.post_records("Contact", &contacts("D", 3)).await;
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(10),
    )
    .await;
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "N-1", "LastName": "Never sent"}]),
    )
    .await;

    let answer = delete(&hub, "Contact", "D-1").await;
    assert_eq!(answer.status(), 202);
    let staged: Value = answer.json().await.unwrap();
    assert_eq!(staged["sync_status"], "pending");
    assert_eq!(delete(&hub, "Contact", "N-1").await.status(), 202);
    let missing = delete(&hub, "Contact", "nobody").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    assert_eq!(delete(&hub, "Nope__c", "D-1").await.status(), 404);

    let calls = hub.sim.sim.api_calls();
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(10),
    )
    .await;
    assert_eq!(
        hub.sim.sim.api_calls() - calls,
        1,
        "one delete call; N-1 never reached Salesforce"
    );
    assert_eq!(
        hub.sim.sim.calls_by_kind().get("collections_delete"),
        Some(&1)
    );
    let left: Vec<Value> = hub
        .sim
        .sim
        .records("Contact")
        .into_iter()
        .map(|r| r["External_Id__c"].clone())
        .collect();
    assert_eq!(left, [json!("D-0"), json!("D-2")]);
    let record: Value = hub
        .get("/v1/objects/Contact/records/D-1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(record["sync_status"], "deleted");
    assert_eq!(record["salesforce_id"], Value::Null);
    assert_eq!(count_rows(&hub.pool, "sync_status = 'deleted'").await, 2);

    // Sent again, the record is created again.
    hub.post_records(
        "Contact",
        &json!([{"External_Id__c": "D-1", "LastName": "Back"}]),
    )
    .await;
    settle(&[pusher], &hub.pool, Duration::from_secs(10)).await;
    let back = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "D-1")
        .expect("created again");
    assert_eq!(back["LastName"], json!("Back"));
}

#[sqlx::test]
async fn many_deletions_go_as_one_bulk_delete_job(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, BULK), "test");
    hub.post_records("Contact", &contacts("M", 400)).await;
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(20),
    )
    .await;
    assert_eq!(hub.sim.sim.records("Contact").len(), 400);
    let staged =
        sqlx::query("UPDATE staging_records SET operation = 'delete' WHERE external_id <> 'M-0'")
            .execute(&hub.pool)
            .await
            .unwrap();
    assert_eq!(staged.rows_affected(), 399);
    settle(&[pusher], &hub.pool, Duration::from_secs(20)).await;
    let by_kind = hub.sim.sim.calls_by_kind();
    assert_eq!(by_kind.get("bulk_create_job"), Some(&2), "{by_kind:?}");
    assert_eq!(by_kind.get("collections_delete"), None);
    assert_eq!(hub.sim.sim.records("Contact").len(), 1);
    assert_eq!(
        count_rows(
            &hub.pool,
            "sync_status = 'deleted' AND salesforce_id IS NULL"
        )
        .await,
        399
    );
}

/// Stages 500 Contacts (a Bulk job with `BULK`), breaks the job's follow-up as `faults` says,
/// pushes with `pushers` until the queue settles, and checks in the simulator that Salesforce
/// wrote each record exactly once (triggers and flows would run once) through one job.
async fn bulk_job_written_once(
    hub: &TestHub,
    faults: FaultConfig,
    pushers: &[sluice::push::Pusher],
) {
    assert_eq!(
        hub.post_records("Contact", &contacts("B", 500))
            .await
            .status(),
        202
    );
    hub.sim.sim.set_faults(faults);
    settle(pushers, &hub.pool, Duration::from_secs(60)).await;
    assert_written_once(hub, 500);
}

fn assert_written_once(hub: &TestHub, n: usize) {
    let by_kind = hub.sim.sim.calls_by_kind();
    assert_eq!(
        by_kind.get("bulk_create_job"),
        Some(&1),
        "one job: {by_kind:?}"
    );
    assert_eq!(by_kind.get("collections_upsert"), None, "{by_kind:?}");
    for i in 0..n {
        let writes = hub
            .sim
            .sim
            .writes_of("Contact", "External_Id__c", &format!("B-{i}"));
        assert_eq!(writes, 1, "B-{i} written {writes} times");
    }
    assert_eq!(hub.sim.sim.records("Contact").len(), n);
}

/// Waits (at most 20 s) until a job holding `records` rows is closed and being processed.
async fn a_job_in_flight(pool: &PgPool, records: i64) {
    crate::helpers::eventually(Duration::from_secs(20), || {
        let pool = pool.clone();
        async move {
            count_rows(&pool, "bulk_job_id IS NOT NULL").await == records
                && sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM push_bulk_jobs WHERE state IN ('UploadComplete', 'InProgress')",
                )
                .fetch_one(&pool)
                .await
                .unwrap()
                    > 0
        }
    })
    .await;
}

async fn synced(pool: &PgPool, n: i64) {
    assert_eq!(
        count_rows(
            pool,
            "sync_status = 'synced' AND salesforce_id IS NOT NULL AND bulk_job_id IS NULL"
        )
        .await,
        n
    );
}

#[sqlx::test]
async fn a_bulk_job_whose_close_answer_is_lost_is_followed_not_sent_again(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, BULK), "test");
    let faults = FaultConfig {
        drop_answer_of: vec!["bulk_set_job_state".into()],
        ..FaultConfig::default()
    };
    bulk_job_written_once(&hub, faults, &[pusher]).await;
    assert!(
        hub.sim.sim.faults().drop_answer_of.is_empty(),
        "the close's answer was lost"
    );
    synced(&hub.pool, 500).await;
}

#[sqlx::test]
async fn a_bulk_job_whose_polls_fail_is_polled_again_not_sent_again(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    // Polls failing three times in a row set the job aside; it is taken up again after the lease.
    let overrides: Vec<(&str, &str)> = [BULK, &[("PUSH_LEASE_SECS", "1")]].concat();
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, &overrides), "test");
    let faults = FaultConfig {
        fail_next_of: vec!["bulk_get_job".into(); 10],
        ..FaultConfig::default()
    };
    bulk_job_written_once(&hub, faults, &[pusher]).await;
    assert!(hub.sim.sim.faults().fail_next_of.is_empty());
    synced(&hub.pool, 500).await;
}

#[sqlx::test]
async fn a_bulk_job_whose_results_fail_is_read_again_not_sent_again(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    // The scheduler sets the job aside and takes it up again (after its lease, at most 30 s).
    let overrides: Vec<(&str, &str)> = [BULK, &[("PUSH_LEASE_SECS", "2")]].concat();
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, &overrides), "test");
    let faults = FaultConfig {
        fail_next_of: vec!["bulk_successful_results".into()],
        ..FaultConfig::default()
    };
    bulk_job_written_once(&hub, faults, &[pusher]).await;
    assert!(hub.sim.sim.faults().fail_next_of.is_empty());
    synced(&hub.pool, 500).await;
}

/// The scheduler following a job dies mid-poll (its task is dropped, as `kill -9` would): another
/// one, with its own pool, takes the job over once its lease expires and resumes polling it.
#[sqlx::test]
async fn another_scheduler_resumes_a_bulk_job_whose_follower_died_mid_poll(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let overrides: Vec<(&str, &str)> = [BULK, &[("PUSH_LEASE_SECS", "2")]].concat();
    let cfg = config(&hub.sim.url, &overrides);
    assert_eq!(
        hub.post_records("Contact", &contacts("B", 500))
            .await
            .status(),
        202
    );
    let doomed = pusher_for(&hub.pool, &cfg, "web.1");
    let run = tokio::spawn(async move { doomed.push_next_batch().await });
    a_job_in_flight(&hub.pool, 500).await;
    run.abort();
    let _ = run.await;
    assert_eq!(count_rows(&hub.pool, "bulk_job_id IS NOT NULL").await, 500);

    let survivor = pusher_for(&hub.pool, &cfg, "web.2");
    settle(&[survivor], &hub.pool, Duration::from_secs(60)).await;
    assert_written_once(&hub, 500);
    synced(&hub.pool, 500).await;
    assert_eq!(
        count_rows(&hub.pool, "synced_fields = fields").await,
        500,
        "the resumed job's rows know what Salesforce holds"
    );
    let owner: Option<String> = sqlx::query_scalar("SELECT lease_owner FROM push_bulk_jobs")
        .fetch_one(&hub.pool)
        .await
        .unwrap();
    assert_eq!(owner, None, "the job is finished");
}

/// A Bulk job's records give their fields to the upload, so what Salesforce holds afterwards is
/// read from the row: a row still as it was sent remembers it (sending it again unchanged costs
/// nothing), and a row changed while the job ran goes again, so Salesforce ends with the newer
/// version.
#[sqlx::test]
async fn a_bulk_jobs_rows_remember_what_salesforce_holds(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, BULK), "test");
    let body = contacts("B", 500);
    assert_eq!(hub.post_records("Contact", &body).await.status(), 202);
    let job = {
        let pusher = pusher.clone();
        tokio::spawn(async move { pusher.push_next_batch().await })
    };
    a_job_in_flight(&hub.pool, 500).await;
    let newer = json!([{"External_Id__c": "B-7", "LastName": "Newer"}]);
    assert_eq!(hub.post_records("Contact", &newer).await.status(), 202);
    job.await.expect("the job's task").expect("the job");
    settle(
        std::slice::from_ref(&pusher),
        &hub.pool,
        Duration::from_secs(30),
    )
    .await;

    let b7 = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "B-7")
        .unwrap();
    assert_eq!(b7["LastName"], json!("Newer"), "the newer version won");
    assert_eq!(
        count_rows(
            &hub.pool,
            "sync_status = 'synced' AND synced_fields = fields"
        )
        .await,
        500,
        "every row knows what Salesforce holds"
    );

    let calls = hub.sim.sim.api_calls();
    let mut again = body;
    again[7]["LastName"] = json!("Newer");
    assert_eq!(hub.post_records("Contact", &again).await.status(), 202);
    settle(&[pusher], &hub.pool, Duration::from_secs(10)).await;
    assert_eq!(
        hub.sim.sim.api_calls(),
        calls,
        "nothing changed, nothing sent"
    );
}
