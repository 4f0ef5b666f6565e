//! Scheduled pulls against a paged JSON API the test starts: pages and watermark, a page that
//! fails, a run that resumes, a dyno killed mid-pull and another taking over after the lease.

use std::time::Duration;

use serde_json::Value;
use sluice::config::Config;
use sluice::describe::Describes;
use sluice::sources::pulls::{Puller, RunOutcome, RunReport, RunStatus};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{config, count_rows, eventually};
use crate::sources_support::{API_TOKEN, PagedApi, invoice, mappings_dir, orders_mapping};

fn five_invoices() -> Vec<Value> {
    vec![
        invoice("F-1", "C-1", "10.00", "2026-12-01T10:00:00Z"),
        invoice("F-2", "C-1", "20.50", "2026-12-01T11:00:00Z"),
        invoice("F-3", "C-2", "1,234.50", "2026-12-02T09:00:00Z"),
        invoice("F-4", "C-3", "7", "2026-12-03T08:00:00Z"),
        invoice("F-5", "C-3", "8", "2026-12-04T08:00:00Z"),
    ]
}

fn pull_config(api: &PagedApi, lease_secs: &str) -> Config {
    let dir = mappings_dir(&[("orders-api.toml", orders_mapping(&api.url))]);
    config(
        "http://127.0.0.1:9",
        &[
            ("SLUICE_MAPPINGS_DIR", dir.to_str().unwrap()),
            ("ORDERS_API_TOKEN", API_TOKEN),
            ("PULL_LEASE_SECS", lease_secs),
        ],
    )
}

fn puller(pool: &PgPool, cfg: &Config, owner: &str) -> Puller {
    Puller::new(
        pool.clone(),
        cfg.mappings.clone(),
        Describes::default(),
        cfg.pulls.clone(),
        owner.to_owned(),
    )
}

async fn run_now(p: &Puller) -> RunReport {
    match p
        .run("orders-api", true, &CancellationToken::new())
        .await
        .expect("runs")
    {
        RunOutcome::Ran(report) => report,
        other => panic!("expected a run, got {other:?}"),
    }
}

async fn amount(pool: &PgPool, number: &str) -> Value {
    sqlx::query_scalar::<_, Value>(
        "SELECT fields->'Amount__c' FROM staging_records WHERE object = 'Invoice__c' AND external_id = $1",
    )
    .bind(number)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_paged_api_is_pulled_through_the_mapping_and_the_next_run_sends_its_watermark(
    pool: PgPool,
) {
    let api = PagedApi::start(five_invoices()).await;
    let cfg = pull_config(&api, "60");
    let p = puller(&pool, &cfg, "web.1");
    p.register().await.unwrap();
    let first = run_now(&p).await;
    assert_eq!(first.status, RunStatus::Succeeded, "{first:?}");
    assert_eq!((first.pages, first.records_read, first.rejected), (3, 5, 0));
    assert_eq!(first.watermark.as_deref(), Some("2026-12-04T08:00:00Z"));
    assert_eq!(count_rows(&pool, "object = 'Invoice__c'").await, 5);
    assert_eq!(count_rows(&pool, "object = 'Account'").await, 3);
    assert_eq!(amount(&pool, "F-3").await, serde_json::json!(1234.5));
    assert_eq!(
        api.requests(),
        [
            "page=1&per_page=2",
            "page=2&per_page=2",
            "page=3&per_page=2"
        ],
        "the first run sends no watermark"
    );

    // Since then: F-3 changed, F-6 is new. The next run asks only for what changed.
    api.put(invoice("F-3", "C-2", "99", "2026-12-05T09:00:00Z"));
    api.put(invoice("F-6", "C-4", "6", "2026-12-05T10:00:00Z"));
    let second = run_now(&p).await;
    assert_eq!(second.status, RunStatus::Succeeded);
    let asked = &api.requests()[3];
    assert!(
        asked.contains("updated_since=2026-12-04T08:00:00Z"),
        "{asked}"
    );
    assert_eq!(second.records_read, 3, "F-5 at the boundary, F-3 and F-6");
    assert_eq!(second.watermark.as_deref(), Some("2026-12-05T10:00:00Z"));
    assert_eq!(amount(&pool, "F-3").await, serde_json::json!(99));
    assert_eq!(count_rows(&pool, "object = 'Invoice__c'").await, 6);
    let stored: Option<String> =
        sqlx::query_scalar("SELECT watermark FROM source_pulls WHERE source = 'orders-api'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        stored.as_deref(),
        Some("2026-12-05T10:00:00Z"),
        "kept in Postgres"
    );
}

#[sqlx::test]
async fn a_page_that_fails_is_retried_with_backoff_and_the_run_completes(pool: PgPool) {
    let api = PagedApi::start(five_invoices()).await;
    api.fail_page(2, 2);
    let cfg = pull_config(&api, "60");
    let p = puller(&pool, &cfg, "web.1");
    p.register().await.unwrap();
    let started = std::time::Instant::now();
    let report = run_now(&p).await;
    assert_eq!(report.status, RunStatus::Succeeded, "{report:?}");
    assert_eq!((report.page_retries, report.records_read), (2, 5));
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "it waited between tries"
    );
    assert_eq!(count_rows(&pool, "object = 'Invoice__c'").await, 5);
}

#[sqlx::test]
async fn a_page_that_keeps_failing_fails_the_run_and_the_next_run_resumes_from_it(pool: PgPool) {
    let api = PagedApi::start(five_invoices()).await;
    api.fail_page(2, 100);
    let cfg = pull_config(&api, "60");
    let p = puller(&pool, &cfg, "web.1");
    p.register().await.unwrap();
    let failed = run_now(&p).await;
    assert_eq!(failed.status, RunStatus::Failed);
    assert_eq!(
        (failed.pages, failed.page_retries),
        (1, 3),
        "four tries of page 2"
    );
    assert!(
        failed.error.as_deref().unwrap().contains("500"),
        "{failed:?}"
    );
    assert_eq!(
        count_rows(&pool, "object = 'Invoice__c'").await,
        2,
        "page 1 is kept"
    );
    let next_run_in: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM next_run_at - now())::float8 FROM source_pulls",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        (20.0..=31.0).contains(&next_run_in),
        "retried in 30 s, not the hour: {next_run_in}"
    );

    api.fail_page(2, 0);
    let before = api.requests().len();
    let resumed = run_now(&p).await;
    assert_eq!(resumed.status, RunStatus::Succeeded, "{resumed:?}");
    assert_eq!(
        api.requests()[before],
        "page=2&per_page=2",
        "resumed at page 2"
    );
    assert_eq!(resumed.records_read, 3);
    assert_eq!(count_rows(&pool, "object = 'Invoice__c'").await, 5);
}

#[sqlx::test]
async fn a_dyno_killed_mid_pull_is_taken_over_after_its_lease_and_resumed(pool: PgPool) {
    let api = PagedApi::start(five_invoices()).await;
    api.hang_page(Some(2));
    let cfg = pull_config(&api, "2");
    let (a, b) = (puller(&pool, &cfg, "web.1"), puller(&pool, &cfg, "web.2"));
    a.register().await.unwrap();
    let dying = {
        let a = a.clone();
        tokio::spawn(async move { a.run("orders-api", false, &CancellationToken::new()).await })
    };
    let watched = pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = watched.clone();
        async move {
            sqlx::query_scalar::<_, i32>("SELECT pages FROM source_pull_runs")
                .fetch_optional(&pool)
                .await
                .unwrap()
                == Some(1)
        }
    })
    .await;
    // The dyno dies while page 2 hangs: nothing it does runs any more, its lease stays.
    dying.abort();
    let _ = dying.await;
    let busy = b
        .run("orders-api", false, &CancellationToken::new())
        .await
        .unwrap();
    assert!(
        matches!(busy, RunOutcome::Busy { ref owner, .. } if owner == "web.1"),
        "{busy:?}"
    );

    api.hang_page(None);
    let before = api.requests().len();
    let mut taken = None;
    for _ in 0..40 {
        if let RunOutcome::Ran(report) = b
            .run("orders-api", false, &CancellationToken::new())
            .await
            .unwrap()
        {
            taken = Some(report);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let report = taken.expect("taken over within 4 s of a 2 s lease");
    assert_eq!(report.status, RunStatus::Succeeded, "{report:?}");
    assert_eq!(
        api.requests()[before],
        "page=2&per_page=2",
        "resumed where web.1 stopped"
    );
    assert_eq!(count_rows(&pool, "object = 'Invoice__c'").await, 5);
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT owner, status FROM source_pull_runs ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        [
            ("web.1".into(), "interrupted".into()),
            ("web.2".into(), "succeeded".into())
        ]
    );
}

#[sqlx::test]
async fn a_run_asked_for_is_run_by_the_scheduler_and_shutdown_stops_it(pool: PgPool) {
    let api = PagedApi::start(five_invoices()).await;
    let cfg = pull_config(&api, "60");
    let p = puller(&pool, &cfg, "web.1");
    let shutdown = CancellationToken::new();
    let scheduler = tokio::spawn(sluice::sources::pulls::run(p.clone(), shutdown.clone()));
    let watched = pool.clone();
    // A new pull is due at once.
    eventually(Duration::from_secs(10), || {
        let pool = watched.clone();
        async move { count_rows(&pool, "object = 'Invoice__c'").await == 5 }
    })
    .await;
    api.put(invoice("F-7", "C-1", "1", "2026-12-09T00:00:00Z"));
    assert!(
        sluice::sources::pulls::store::request_run(&pool, "orders-api")
            .await
            .unwrap()
    );
    let watched = pool.clone();
    eventually(Duration::from_secs(10), || {
        let pool = watched.clone();
        async move { count_rows(&pool, "object = 'Invoice__c'").await == 6 }
    })
    .await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), scheduler)
        .await
        .expect("stops on the token")
        .unwrap();
}

#[sqlx::test]
async fn sluice_pull_runs_one_now_and_then_lists_it(
    _opts: sqlx::postgres::PgPoolOptions,
    conn: sqlx::postgres::PgConnectOptions,
) {
    let api = PagedApi::start(five_invoices()).await;
    let dir = mappings_dir(&[("orders-api.toml", orders_mapping(&api.url))]);
    let url = format!(
        "postgres://{}@{}:{}/{}",
        conn.get_username(),
        conn.get_host(),
        conn.get_port(),
        conn.get_database().expect("a test database")
    );
    let env = sluice::config::Env::from_pairs([
        ("DATABASE_URL", url.as_str()),
        ("DATABASE_SSL_MODE", "disable"),
        ("SLUICE_MAPPINGS_DIR", dir.to_str().unwrap()),
        ("ORDERS_API_TOKEN", API_TOKEN),
    ]);
    let (text, ok) = sluice::ops::pull::run(&env, Some("orders-api"))
        .await
        .unwrap();
    assert!(ok, "{text}");
    assert!(
        text.contains("succeeded: 3 page(s), 5 record(s) read"),
        "{text}"
    );
    let (list, _) = sluice::ops::pull::run(&env, None).await.unwrap();
    assert!(
        list.contains("orders-api") && list.contains("succeeded"),
        "{list}"
    );
    let unknown = sluice::ops::pull::run(&env, Some("nope"))
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("no pull is declared"),
        "{unknown}"
    );
}
