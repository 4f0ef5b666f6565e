//! The push engine's benchmark, counted by the simulator (`scripts/bench-push.sh` runs it in a
//! release build; ignored by the normal test run). Each scenario prints one `BENCH` line.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sluice::sim::FaultConfig;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, config, count_rows, eventually, pusher_for};

/// The hub's default push settings; only the callers' rate limit (of the ingest API, not of
/// Salesforce) is lifted so that the load generator is not refused.
const DEFAULTS: &[(&str, &str)] = &[
    ("PUSH_BATCH_WINDOW_MS", "200"),
    ("PUSH_SWEEP_INTERVAL_MS", "2000"),
    ("PUSH_LIMIT_PAUSE_SECS", "60"),
    ("SALESFORCE_MAX_CALLS_PER_SECOND", "5"),
    ("SALESFORCE_TIMEOUT_SECS", "60"),
    ("SLUICE_RATE_LIMIT_PER_SECOND", "100000"),
    ("SLUICE_RATE_LIMIT_BURST", "100000"),
];

/// Salesforce answers in about this long (the simulator answers at once otherwise).
fn latency_ms() -> u64 {
    std::env::var("BENCH_SF_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}

async fn hub(pool: PgPool, scheduler: bool) -> TestHub {
    let off = [("PUSH_ENABLED", "false")];
    hub_with(pool, if scheduler { &[] } else { &off }).await
}

/// A hub with the default settings but for `changes`.
async fn hub_with(pool: PgPool, changes: &[(&str, &str)]) -> TestHub {
    let mut overrides: Vec<_> = DEFAULTS
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    overrides.extend_from_slice(changes);
    let hub = TestHub::start_with(pool, &overrides).await;
    hub.sim.sim.set_faults(FaultConfig {
        latency_ms: latency_ms(),
        ..FaultConfig::default()
    });
    // Let the scheduler's start-up /limits call land before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    hub
}

fn contacts(prefix: &str, range: std::ops::Range<usize>, version: usize) -> Value {
    Value::Array(
        range
            .map(|i| {
                json!({
                    "External_Id__c": format!("{prefix}-{i}"),
                    "LastName": format!("Name{i} v{version}"),
                    "Email": format!("person{i}@example.com"),
                })
            })
            .collect(),
    )
}

async fn post(hub: &TestHub, body: &Value) {
    let response = hub.post_records("Contact", body).await;
    assert_eq!(response.status(), 202, "{:?}", response.text().await);
}

async fn wait_synced(pool: &PgPool, n: i64, timeout: Duration) {
    let pool = pool.clone();
    eventually(timeout, || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await >= n }
    })
    .await;
}

fn report(name: &str, records: usize, calls: u64, goal: &str, hub: &TestHub, extra: &str) {
    let by_kind = hub.sim.sim.calls_by_kind();
    println!(
        "BENCH {name}: records={records} api_calls={calls} goal=\"{goal}\" {extra} by_kind={by_kind:?}"
    );
}

#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_stream_of_new_records(pool: PgPool) {
    let hub = hub(pool, true).await;
    let before = hub.sim.sim.api_calls();
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for chunk in 0..100 {
        tick.tick().await;
        post(&hub, &contacts("S", chunk * 100..(chunk + 1) * 100, 0)).await;
    }
    let sent_in = started.elapsed();
    wait_synced(&hub.pool, 10_000, Duration::from_secs(120)).await;
    let calls = hub.sim.sim.api_calls() - before;
    let extra = format!("sent_in_s={:.1}", sent_in.as_secs_f64());
    report("10k new at 1000/s", 10_000, calls, "<= 52", &hub, &extra);
    assert!(calls <= 52, "{calls} calls");

    let before = hub.sim.sim.api_calls();
    for chunk in 0..10 {
        post(&hub, &contacts("S", chunk * 1000..(chunk + 1) * 1000, 0)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = hub.sim.sim.api_calls() - before;
    report("10k re-sent unchanged", 10_000, calls, "0", &hub, "");
    assert_eq!(calls, 0);
}

#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_backlog_of_100k(pool: PgPool) {
    let hub = hub(pool, false).await;
    for chunk in 0..10 {
        post(
            &hub,
            &contacts("B", chunk * 10_000..(chunk + 1) * 10_000, 0),
        )
        .await;
    }
    let before = hub.sim.sim.api_calls();
    let pusher = pusher_for(&hub.pool, &config(&hub.sim.url, DEFAULTS), "bench");
    let stop = CancellationToken::new();
    let scheduler = tokio::spawn(sluice::push::run(pusher, stop.clone()));
    let started = Instant::now();
    wait_synced(&hub.pool, 100_000, Duration::from_secs(600)).await;
    let took = started.elapsed();
    stop.cancel();
    scheduler.await.unwrap();
    let calls = hub.sim.sim.api_calls() - before;
    let extra = format!("took_s={:.1} jobs={}", took.as_secs_f64(), jobs(&hub).await);
    report(
        "100k backlog",
        100_000,
        calls,
        "Bulk API 2.0, < 20",
        &hub,
        &extra,
    );
    assert!(calls < 20, "{calls} calls");
    assert!(hub.sim.sim.calls_by_kind().contains_key("bulk_create_job"));
}

/// The same 10,000 records posted five times, 150 ms apart (each POST one transaction): the
/// window runs from each commit, so the five versions are one write, as one POST would be.
#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_five_posts_of_the_same_10k(pool: PgPool) {
    five_posts(pool, &[], "default window").await;
}

/// The same with a window longer than one POST of 10,000 takes to commit here.
#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_five_posts_of_the_same_10k_with_a_1_s_window(pool: PgPool) {
    five_posts(
        pool,
        &[
            ("PUSH_BATCH_WINDOW_MS", "1000"),
            ("PUSH_MAX_LAG_MS", "5000"),
        ],
        "PUSH_BATCH_WINDOW_MS=1000",
    )
    .await;
}

async fn five_posts(pool: PgPool, overrides: &[(&str, &str)], name: &str) {
    let hub = hub_with(pool, overrides).await;
    let before = hub.sim.sim.api_calls();
    let mut posts = Vec::new();
    for version in 0..5 {
        let request = hub
            .http
            .post(format!("{}/v1/objects/Contact/records", hub.url))
            .bearer_auth(&hub.token)
            .json(&contacts("P", 0..10_000, version));
        posts.push(tokio::spawn(request.send()));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    for sent in posts {
        assert_eq!(sent.await.unwrap().unwrap().status(), 202);
    }
    let pool = hub.pool.clone();
    eventually(Duration::from_secs(120), || {
        let pool = pool.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 10_000 }
    })
    .await;
    let calls = hub.sim.sim.api_calls() - before;
    // When each POST's transaction committed, from the first: the window runs from these.
    let commits: Vec<f64> = sqlx::query_scalar(
        "SELECT extract(epoch FROM committed_at - min(committed_at) OVER ())::float8 \
         FROM staging_commits ORDER BY committed_at OFFSET 1",
    )
    .fetch_all(&hub.pool)
    .await
    .unwrap();
    let commits: Vec<String> = commits.iter().map(|s| format!("{s:.2}")).collect();
    let extra = format!(
        "commits_s=[{}] jobs={}",
        commits.join(","),
        jobs(&hub).await
    );
    report(
        &format!("10k posted 5 times, 150 ms apart ({name})"),
        10_000,
        calls,
        "one write a record when the commits fall within the window",
        &hub,
        &extra,
    );
    assert!(
        calls < 30,
        "{calls} calls: no better than five separate pushes"
    );
}

/// Records per Bulk job, in the order they were created.
async fn jobs(hub: &TestHub) -> String {
    let sizes: Vec<i32> =
        sqlx::query_scalar("SELECT records FROM push_bulk_jobs ORDER BY created_at")
            .fetch_all(&hub.pool)
            .await
            .unwrap();
    format!("{sizes:?}").replace(' ', "")
}

/// 10,000 records at 1,000 a second (a chunk of 200 every 200 ms), each record sent `versions`
/// times in a row within its chunk's 200 ms.
async fn chunked_updates(pool: PgPool, versions: usize) -> (u64, TestHub) {
    let hub = hub(pool, true).await;
    let before = hub.sim.sim.api_calls();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    for chunk in 0..50 {
        tick.tick().await;
        for version in 0..versions {
            post(
                &hub,
                &contacts("U", chunk * 200..(chunk + 1) * 200, version),
            )
            .await;
        }
    }
    wait_synced(&hub.pool, 10_000, Duration::from_secs(120)).await;
    (hub.sim.sim.api_calls() - before, hub)
}

#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_updated_once(pool: PgPool) {
    let (calls, hub) = chunked_updates(pool, 1).await;
    report("10k updated once", 10_000, calls, "baseline", &hub, "");
}

#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_updated_5_times_within_the_window(pool: PgPool) {
    let (calls, hub) = chunked_updates(pool, 5).await;
    let last = hub
        .sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", "U-9999")
        .unwrap();
    assert_eq!(
        last["LastName"],
        json!("Name9999 v4"),
        "the last version won"
    );
    report(
        "10k updated 5 times",
        10_000,
        calls,
        "same as once",
        &hub,
        "",
    );
    assert!(calls <= 52, "{calls} calls");
}

#[sqlx::test]
#[ignore = "benchmark: scripts/bench-push.sh"]
async fn bench_lag_at_100_per_second(pool: PgPool) {
    let hub = hub(pool, true).await;
    let before = hub.sim.sim.api_calls();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    for chunk in 0..400 {
        tick.tick().await;
        post(&hub, &contacts("L", chunk * 5..(chunk + 1) * 5, 0)).await;
    }
    wait_synced(&hub.pool, 2000, Duration::from_secs(60)).await;
    let calls = hub.sim.sim.api_calls() - before;
    let (p50, p99, max): (f64, f64, f64) = sqlx::query_as(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s), \
                percentile_cont(0.99) WITHIN GROUP (ORDER BY s), max(s) \
         FROM (SELECT extract(epoch FROM synced_at - received_at)::float8 AS s \
               FROM staging_records) lag",
    )
    .fetch_one(&hub.pool)
    .await
    .unwrap();
    let extra = format!("lag_p50_s={p50:.3} lag_p99_s={p99:.3} lag_max_s={max:.3}");
    report(
        "lag at 100/s for 20 s",
        2000,
        calls,
        "p50 < 1 s, p99 < 3 s",
        &hub,
        &extra,
    );
    assert!(p50 < 1.0 && p99 < 3.0, "{extra}");
}
