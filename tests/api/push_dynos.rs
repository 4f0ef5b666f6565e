//! Several schedulers on one database, a crash mid-push and a stop: every record lands once.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sluice::sim::FaultConfig;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::helpers::{
    TestHub, auth_keys_json, config, contacts, count_rows, eventually, pusher_for, spawn_sim,
};
use crate::push_support::{assert_sent_once, separate_pool, settle};

async fn schedulers_share_the_queue(conn: PgConnectOptions, dynos: usize) {
    let hub = TestHub::start_api_only(separate_pool(&conn).await).await;
    for batch in 0..10 {
        hub.post_records("Contact", &contacts(&format!("B{batch}"), 200))
            .await;
    }
    hub.sim.sim.set_faults(FaultConfig {
        latency_ms: 50,
        ..FaultConfig::default()
    });
    let cfg = config(
        &hub.sim.url,
        &[
            ("PUSH_BATCH_WINDOW_MS", "0"),
            ("PUSH_BULK_THRESHOLD", "100000"),
        ],
    );
    let mut pushers = Vec::new();
    for dyno in 0..dynos {
        pushers.push(pusher_for(
            &separate_pool(&conn).await,
            &cfg,
            &format!("web.{dyno}"),
        ));
    }
    settle(&pushers, &hub.pool, Duration::from_secs(30)).await;
    assert_eq!(count_rows(&hub.pool, "sync_status = 'synced'").await, 2000);
    assert_sent_once(&hub.sim.sim.upserted_external_ids("Contact"), 2000);
    assert!(
        hub.sim.sim.max_concurrent_calls_seen() > 1,
        "the schedulers did overlap"
    );
}

#[sqlx::test]
async fn two_schedulers_with_their_own_pools_send_each_record_once(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    schedulers_share_the_queue(conn, 2).await;
}

#[sqlx::test]
async fn three_schedulers_with_their_own_pools_send_each_record_once(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    schedulers_share_the_queue(conn, 3).await;
}

/// `sluice serve` as Heroku runs it, against the test database and `sim_url`.
fn spawn_sluice(conn: &PgConnectOptions, sim_url: &str) -> Child {
    let database_url = format!(
        "postgres://{}@{}:{}/{}",
        conn.get_username(),
        conn.get_host(),
        conn.get_port(),
        conn.get_database().expect("a test database")
    );
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .arg("serve")
        .env_clear()
        .env("PORT", "0")
        .env("DATABASE_URL", database_url)
        .env("DATABASE_SSL_MODE", "disable")
        .env("SALESFORCE_LOGIN_URL", sim_url)
        .env("SALESFORCE_CLIENT_ID", "sluice-dev-client")
        .env("SALESFORCE_USERNAME", "integration@sluice.dev")
        .env(
            "SALESFORCE_PRIVATE_KEY",
            include_str!("../../dev/salesforce-dev-key.pem"),
        )
        .env("SLUICE_AUTH_KEYS", auth_keys_json())
        .env("SALESFORCE_MAX_CALLS_PER_SECOND", "100")
        .env("PUSH_LEASE_SECS", "3")
        .env("PUSH_UNANSWERED_HOLD_SECS", "4")
        .env("PUSH_BATCH_WINDOW_MS", "20")
        .env("PUSH_SWEEP_INTERVAL_MS", "200")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the sluice binary starts")
}

async fn stage_contacts(pool: &PgPool, n: usize) {
    sqlx::query(
        "INSERT INTO staging_records (object, external_id, fields) \
         SELECT 'Contact', 'K-' || i, jsonb_build_object('External_Id__c', 'K-' || i, 'LastName', 'N' || i) \
         FROM generate_series(1, $1) AS i",
    )
    .bind(n as i32)
    .execute(pool)
    .await
    .unwrap();
}

#[sqlx::test]
async fn kill_9_in_the_middle_of_a_push_loses_nothing(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let pool = separate_pool(&conn).await;
    let sim = spawn_sim().await;
    sim.sim.set_faults(FaultConfig {
        latency_ms: 1500,
        ..FaultConfig::default()
    });
    let mut sluice = spawn_sluice(&conn, &sim.url);
    stage_contacts(&pool, 1000).await;
    let leased = pool.clone();
    eventually(Duration::from_secs(20), || {
        let pool = leased.clone();
        async move { count_rows(&pool, "sync_status = 'in_flight'").await > 0 }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sluice.kill().expect("SIGKILL");
    sluice.wait().unwrap();
    assert!(
        count_rows(&pool, "sync_status = 'in_flight'").await > 0,
        "killed mid-push"
    );

    sim.sim.clear_faults();
    let mut again = spawn_sluice(&conn, &sim.url);
    let watched = pool.clone();
    eventually(Duration::from_secs(40), || {
        let pool = watched.clone();
        async move { count_rows(&pool, "sync_status = 'synced'").await == 1000 }
    })
    .await;
    again.kill().unwrap();
    again.wait().unwrap();
    let in_salesforce = sim.sim.records("Contact");
    assert_eq!(in_salesforce.len(), 1000, "each record once in Salesforce");
    let sent = sim.sim.upserted_external_ids("Contact");
    let distinct: std::collections::HashSet<_> = sent.iter().collect();
    assert_eq!(distinct.len(), 1000);
    assert!(
        sent.len() <= 1200,
        "only the batch cut short went twice: {}",
        sent.len()
    );
}

#[sqlx::test]
async fn sigterm_exits_0_in_time_with_nothing_left_in_flight(
    _opts: PgPoolOptions,
    conn: PgConnectOptions,
) {
    let pool = separate_pool(&conn).await;
    let sim = spawn_sim().await;
    sim.sim.set_faults(FaultConfig {
        latency_ms: 1000,
        ..FaultConfig::default()
    });
    let mut sluice = spawn_sluice(&conn, &sim.url);
    stage_contacts(&pool, 1000).await;
    let leased = pool.clone();
    eventually(Duration::from_secs(20), || {
        let pool = leased.clone();
        async move { count_rows(&pool, "sync_status = 'in_flight'").await > 0 }
    })
    .await;
    let term = Command::new("kill")
        .args(["-TERM", &sluice.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = sluice.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "still running 30 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(status.success(), "{status:?}");
    assert_eq!(count_rows(&pool, "sync_status = 'in_flight'").await, 0);
    assert!(
        count_rows(&pool, "sync_status = 'synced'").await >= 200,
        "the batch in flight finished"
    );
}
