//! Reading Salesforce's changes back: first loads, incremental reads woken by change events or
//! by the safety poll, deletions, no echo, one reader per object across dynos.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{count_rows, drain, eventually};
use crate::reads_support::{
    Dyno, contact, contact_reads, edit_in_salesforce, first_load_done, hub, staged,
};

/// An org with a large allowance: the safety interval is the object's `every`. Set in the
/// shared usage row, as a push would have observed it, so no dyno reads `/limits` at start.
async fn large_org(pool: &PgPool) {
    sqlx::query("UPDATE salesforce_usage SET used = 0, max = 5000000, observed_at = now()")
        .execute(pool)
        .await
        .expect("usage set");
}

async fn reads_done(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT reads FROM salesforce_reads WHERE object = 'Contact'")
        .fetch_one(pool)
        .await
        .expect("reads row")
}

#[sqlx::test]
async fn a_change_made_in_salesforce_is_in_postgres_within_one_poll_interval(pool: PgPool) {
    let hub = hub(pool, &contact_reads(2), false).await;
    large_org(&hub.pool).await;
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;

    edit_in_salesforce(&hub, contact("R-1", "Made in Salesforce"));

    // No change events: the safety poll (every 2 s here) finds it.
    eventually(Duration::from_secs(2 + 3), || async {
        staged(&hub.pool, "R-1").await.is_some()
    })
    .await;
    let (fields, origin, status) = staged(&hub.pool, "R-1").await.expect("stored");
    assert_eq!(fields["LastName"], "Made in Salesforce");
    assert_eq!(fields["Email"], "r-1@example.com");
    assert_eq!((origin.as_str(), status.as_str()), ("salesforce", "synced"));
    assert!(fields.get("SystemModstamp").is_none() && fields.get("Id").is_none());
    dyno.halt().await;
}

#[sqlx::test]
async fn change_events_wake_a_read_long_before_the_safety_poll(pool: PgPool) {
    // The Developer Edition's 15,000 calls: the safety poll comes every couple of minutes.
    let hub = hub(pool, &contact_reads(1), true).await;
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    let safety: f64 = 86_400.0 / (15_000.0 * 0.10 / 2.0);
    let reads_before = reads_done(&hub.pool).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        reads_done(&hub.pool).await,
        reads_before,
        "an idle org is not read again before the safety interval ({safety:.0} s)"
    );

    let started = std::time::Instant::now();
    edit_in_salesforce(&hub, contact("R-2", "Woken"));
    eventually(Duration::from_secs(15), || async {
        staged(&hub.pool, "R-2").await.is_some()
    })
    .await;
    assert!(started.elapsed().as_secs_f64() < safety / 4.0);
    dyno.halt().await;
}

#[sqlx::test]
async fn a_hundred_thousand_records_are_first_loaded_by_a_bulk_query_in_few_calls(pool: PgPool) {
    let hub = hub(pool, &contact_reads(60), false).await;
    let seed: Vec<_> = (0..100_000)
        .map(|i| crate::reads_support::fields(contact(&format!("B-{i}"), &format!("Bulk {i}"))))
        .collect();
    hub.sim.sim.seed("Contact", &seed).expect("seeded");
    let calls_before = hub.sim.sim.api_calls();

    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    dyno.halt().await;

    assert_eq!(
        count_rows(
            &hub.pool,
            "object = 'Contact' AND origin = 'salesforce' AND sync_status = 'synced'"
        )
        .await,
        100_000
    );
    let (fields, _, _) = staged(&hub.pool, "B-99999").await.expect("the last one");
    assert_eq!(fields["LastName"], "Bulk 99999");
    let families = hub.sim.sim.stats().families();
    let calls = hub.sim.sim.api_calls() - calls_before;
    // /limits, create, a poll or two, two pages of 50,000, delete.
    assert!(calls <= 8, "{calls} calls: {families:?}");
    assert_eq!(families["queries"], 0, "no SOQL for the first load");
    assert!(families["bulk_query_calls"] >= 4);
    let recorded: i64 = sqlx::query_scalar("SELECT calls FROM salesforce_reads")
        .fetch_one(&hub.pool)
        .await
        .unwrap();
    assert_eq!(recorded as u64, families["bulk_query_calls"]);
}

#[sqlx::test]
async fn a_deletion_in_salesforce_propagates(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), true).await;
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    let id = edit_in_salesforce(&hub, contact("D-1", "Soon gone"));
    eventually(Duration::from_secs(15), || async {
        staged(&hub.pool, "D-1").await.is_some()
    })
    .await;

    hub.sim
        .sim
        .delete_as_user("Contact", &[id])
        .expect("deleted");

    eventually(Duration::from_secs(15), || async {
        staged(&hub.pool, "D-1")
            .await
            .is_some_and(|(_, origin, status)| status == "deleted" && origin == "salesforce")
    })
    .await;
    let calls = hub.sim.sim.api_calls();
    drain(&hub.pusher("t")).await;
    assert_eq!(
        hub.sim.sim.api_calls(),
        calls,
        "the deletion is not pushed back"
    );
    dyno.halt().await;
}

#[sqlx::test]
async fn what_is_read_is_never_pushed_back(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), true).await;
    // A record from the hub, pushed once.
    assert_eq!(
        hub.post_records("Contact", &json!([contact("E-1", "From the hub")]))
            .await
            .status(),
        202
    );
    drain(&hub.pusher("t")).await;
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    edit_in_salesforce(&hub, contact("E-2", "From Salesforce"));
    eventually(Duration::from_secs(15), || async {
        staged(&hub.pool, "E-2").await.is_some()
    })
    .await;
    let calls = hub.sim.sim.calls_by_kind();

    drain(&hub.pusher("t")).await;

    assert_eq!(hub.sim.sim.calls_by_kind(), calls, "nothing was pushed");
    assert_eq!(hub.sim.sim.upserted_external_ids("Contact"), ["E-1"]);
    let (_, origin, status) = staged(&hub.pool, "E-1").await.expect("E-1");
    assert_eq!(
        (origin.as_str(), status.as_str()),
        ("hub", "synced"),
        "read back unchanged"
    );
    dyno.halt().await;
}

#[sqlx::test]
async fn two_dynos_never_both_read_an_object(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), false).await;
    large_org(&hub.pool).await;
    let a = Dyno::start(&hub, "web.1");
    let b = Dyno::start(&hub, "web.2");
    for i in 0..8 {
        edit_in_salesforce(&hub, contact(&format!("T-{i}"), "Two dynos"));
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eventually(Duration::from_secs(10), || async {
        count_rows(&hub.pool, "external_id LIKE 'T-%'").await == 8
    })
    .await;
    a.halt().await;
    b.halt().await;

    let reads = reads_done(&hub.pool).await;
    assert!(reads >= 3, "{reads} reads");
    assert_eq!(
        hub.sim.sim.max_concurrent_calls_seen(),
        1,
        "only one dyno calls at a time"
    );
    // One read at a time, at most one a second (`every`), whichever dyno runs it.
    let queries = hub.sim.sim.stats().families()["queries"];
    assert_eq!(
        queries as i64,
        reads - 1,
        "every read but the first load is one query"
    );
}

#[sqlx::test]
async fn a_dead_dynos_lease_is_taken_over_once_it_expires(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), false).await;
    large_org(&hub.pool).await;
    // A dyno died holding the lease, 3 s before it expires.
    sqlx::query(
        "INSERT INTO salesforce_reads (object, lease_owner, lease_expires_at) \
         VALUES ('Contact', 'web.9', now() + interval '3 seconds')",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    let dyno = Dyno::start(&hub, "web.1");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        reads_done(&hub.pool).await,
        0,
        "no read under another's lease"
    );
    first_load_done(&hub.pool, "Contact").await;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT lease_owner FROM salesforce_reads WHERE object = 'Contact'")
            .fetch_one(&hub.pool)
            .await
            .unwrap();
    assert_ne!(owner.as_deref(), Some("web.9"));
    dyno.halt().await;
    let owner: Option<String> =
        sqlx::query_scalar("SELECT lease_owner FROM salesforce_reads WHERE object = 'Contact'")
            .fetch_one(&hub.pool)
            .await
            .unwrap();
    assert_eq!(owner, None, "a stopping dyno gives its lease back");
}

#[sqlx::test]
async fn operators_see_each_reads_last_poll_lag_rows_and_calls(pool: PgPool) {
    let hub = hub(pool, &contact_reads(60), false).await;
    let seed: Vec<_> = (0..3)
        .map(|i| crate::reads_support::fields(contact(&format!("O-{i}"), "Seen")))
        .collect();
    hub.sim.sim.seed("Contact", &seed).expect("seeded");
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    dyno.halt().await;
    let calls = hub.sim.sim.stats().families()["bulk_query_calls"];

    let metrics = hub.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains("sluice_read_rows_total{object=\"Contact\"} 3\n"),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "sluice_read_calls_total{{object=\"Contact\"}} {calls}\n"
    )));
    let lag = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sluice_read_lag_seconds{object=\"Contact\"} "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("a lag");
    assert!((0.0..60.0).contains(&lag), "{lag}");
    assert!(metrics.contains("sluice_read_last_poll_timestamp_seconds{object=\"Contact\"} 1"));

    let text = sluice::ops::status_text(&hub.pool, 5)
        .await
        .expect("status");
    let line = text
        .lines()
        .skip_while(|l| !l.starts_with("Reads from Salesforce"))
        .find(|l| l.trim_start().starts_with("Contact"))
        .expect("a Contact line");
    assert!(line.contains(&format!(" {calls} ")), "{line}");
}
