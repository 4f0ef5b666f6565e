//! Reading Salesforce's changes: SOQL pages, queryAll, getUpdated/getDeleted, Bulk query jobs.

use std::time::Duration;

use serde_json::{Map, Value, json};
use sluice::salesforce::{
    FailureClass, JobState, QueryOperation, QueryOptions, SalesforceError, parse_datetime,
    soql_datetime,
};

use super::{client, sim};

fn accounts(prefix: &str, n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| {
            record(
                json!({"Name": format!("{prefix}-{i}"), "External_Id__c": format!("{prefix}-{i}")}),
            )
        })
        .collect()
}

fn record(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn query_pages_follow_next_records_url_through_five_thousand_rows() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim
        .seed("Account", &accounts("A", 5000))
        .expect("seeds");

    let mut page = client
        .query_with(
            "SELECT Id, Name FROM Account ORDER BY Id",
            QueryOptions {
                batch_size: Some(2000),
                ..QueryOptions::default()
            },
        )
        .await
        .expect("first page");
    let mut rows = page.records.len();
    let mut pages = 1;
    while let Some(next) = page.next_records_url.clone() {
        assert!(pages < 10, "bounded");
        page = client.query_more(&next).await.expect("next page");
        rows += page.records.len();
        pages += 1;
    }

    assert_eq!((page.total_size, rows, pages), (5000, 5000, 3));
    assert!(page.done);
    assert!(!page.records[0].contains_key("attributes"));
    assert_eq!(sim.sim.api_calls(), 3, "one API call per page");
}

#[tokio::test]
async fn malformed_or_unknown_soql_is_a_fatal_rejection_with_salesforces_code() {
    let sim = sim().await;
    let client = client(&sim);
    for (soql, code) in [
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELECT Id, Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
    ] {
        let err = client.query(soql).await.expect_err(soql);
        assert!(
            matches!(&err, SalesforceError::Rejected { status: 400, code: c, .. } if c == code),
            "{soql}: {err:?}"
        );
        assert_eq!(err.class(), FailureClass::Fatal);
    }
    let err = client
        .query_more("https://elsewhere.example/services/data/v62.0/query/01gX-2000")
        .await
        .expect_err("not a nextRecordsUrl");
    assert!(matches!(err, SalesforceError::InvalidInput(_)), "{err:?}");
    let err = client
        .query_with(
            "SELECT Id FROM Account",
            QueryOptions {
                batch_size: Some(100),
                ..QueryOptions::default()
            },
        )
        .await
        .expect_err("batch too small");
    assert!(matches!(err, SalesforceError::InvalidInput(_)), "{err:?}");
}

#[tokio::test]
async fn incremental_reads_filter_by_system_modstamp_and_query_all_sees_deletions() {
    let sim = sim().await;
    let client = client(&sim);
    let ids = sim.sim.seed("Account", &accounts("old", 2)).expect("seeds");
    sim.sim.advance_clock(Duration::from_secs(60));
    let mark = sim.sim.now();
    sim.sim.advance_clock(Duration::from_secs(60));
    let (changed, _) = sim
        .sim
        .edit_as_user("Account", &record(json!({"Id": ids[0], "Name": "renamed"})))
        .expect("edits");
    sim.sim
        .delete_as_user("Account", &ids[1..])
        .expect("deletes");
    let since = soql_datetime(mark);

    let live = client
        .query(&format!(
            "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp > {since} ORDER BY SystemModstamp, Id"
        ))
        .await
        .expect("query");
    let all = client
        .query_all(&format!(
            "SELECT Id, IsDeleted FROM Account WHERE SystemModstamp > {since} AND IsDeleted = true"
        ))
        .await
        .expect("queryAll");

    assert_eq!(live.records.len(), 1);
    assert_eq!(live.records[0]["Id"], changed.as_str());
    let stamp = live.records[0]["SystemModstamp"].as_str().expect("stamp");
    assert!(parse_datetime(stamp).is_some_and(|t| t > mark), "{stamp}");
    assert_eq!(all.records.len(), 1);
    assert_eq!(all.records[0]["Id"], ids[1].as_str());
    assert_eq!(all.records[0]["IsDeleted"], true);
}

#[tokio::test]
async fn get_updated_and_get_deleted_report_ids_and_where_to_resume() {
    let sim = sim().await;
    let client = client(&sim);
    let start = sim.sim.now() - chrono::Duration::minutes(5);
    let ids = sim.sim.seed("Account", &accounts("A", 3)).expect("seeds");
    sim.sim
        .delete_as_user("Account", &ids[2..])
        .expect("deletes");
    sim.sim.advance_clock(Duration::from_secs(120));
    let end = sim.sim.now();

    let updated = client
        .get_updated("Account", start, end)
        .await
        .expect("updated");
    let deleted = client
        .get_deleted("Account", start, end)
        .await
        .expect("deleted");

    assert_eq!(updated.ids, ids[..2]);
    assert!(updated.latest_date_covered <= end);
    assert_eq!(deleted.records.len(), 1);
    assert_eq!(deleted.records[0].id, ids[2]);
    assert!(deleted.earliest_date_available <= deleted.records[0].deleted_date);
    let err = client
        .get_updated("Account", end - chrono::Duration::days(31), end)
        .await
        .expect_err("too old");
    assert!(
        matches!(&err, SalesforceError::Rejected { code, .. } if code == "INVALID_REPLICATION_DATE"),
        "{err:?}"
    );
    assert_eq!(sim.sim.api_calls(), 3);
}

#[tokio::test]
async fn a_bulk_query_reads_a_hundred_thousand_records_in_few_calls() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim
        .seed("Account", &accounts("A", 100_000))
        .expect("seeds");

    let job = client
        .create_query_job("SELECT Id, Name FROM Account", QueryOperation::Query)
        .await
        .expect("created");
    let mut state = job.state;
    let mut polls = 0;
    while !state.is_terminal() && polls < 10 {
        polls += 1;
        state = client.query_job_info(&job.id).await.expect("polled").state;
    }
    assert_eq!(state, JobState::JobComplete);
    let mut pages = client.query_results(&job.id, Some(50_000));
    let (mut rows, mut count) = (0, 0);
    while let Some(page) = pages.next().await.expect("page") {
        assert_eq!(page.columns, ["Id", "Name"]);
        rows += page.rows.len();
        count += 1;
        assert!(count <= 10, "bounded");
    }

    assert_eq!((rows, count), (100_000, 2));
    assert_eq!(
        sim.sim.api_calls(),
        1 + polls + 2,
        "create, polls, two pages"
    );
    assert!(sim.sim.api_calls() <= 5);
}

#[tokio::test]
async fn a_query_page_that_fails_with_503_is_transient() {
    let sim = sim().await;
    let client = client(&sim);
    sim.sim
        .seed("Account", &accounts("A", 2100))
        .expect("seeds");
    let page = client.query("SELECT Id FROM Account").await.expect("page");
    sim.sim.set_faults(sluice::sim::FaultConfig {
        unavailable_next: 1,
        ..Default::default()
    });
    let next = page.next_records_url.expect("more");

    let err = client.query_more(&next).await.expect_err("503");

    assert!(
        matches!(err, SalesforceError::Unavailable { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::Transient);
    assert_eq!(
        client
            .query_more(&next)
            .await
            .expect("retried")
            .records
            .len(),
        100
    );
}
