use std::time::{Duration, Instant};

use serde_json::Value;
use sluice::config::{Config, Env};
use sluice::objects::Catalog;
use sluice::push::{Outcome, Pusher};
use sluice::salesforce::SalesforceClient;
use sluice::sim::{SimConfig, SimHandle, Simulator};
use sqlx::PgPool;
use tokio_util::sync::{CancellationToken, DropGuard};

pub const SECRET: &str = "test-secret-0123456789abcdef-0123456789";
const DEV_KEY: &str = include_str!("../../dev/salesforce-dev-key.pem");

/// A hub on port 0 against a test database and its own simulator.
pub struct TestHub {
    pub url: String,
    pub http: reqwest::Client,
    pub token: String,
    pub sim: SimHandle,
    pub pool: PgPool,
    pub config: Config,
    shutdown: CancellationToken,
    /// Stops the hub when the test drops it.
    _stop_on_drop: DropGuard,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

pub fn auth_keys_json() -> String {
    serde_json::json!({
        "keys": [{"kid": "tests", "alg": "HS256", "secret": SECRET}],
        "issuers": ["sluice-tests"],
        "audience": "sluice",
    })
    .to_string()
}

/// A token with the given space-separated scopes, allowed every source and object.
pub fn token(scopes: &str) -> String {
    sluice::auth::testing::mint_hs256(SECRET, sluice::auth::testing::default_claims(scopes))
}

/// The hub's configuration pointing at `sim_url`, with `overrides` applied.
pub fn config(sim_url: &str, overrides: &[(&str, &str)]) -> Config {
    let auth = auth_keys_json();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("PORT", "0"),
        ("DATABASE_URL", "postgres://unused-the-test-passes-a-pool"),
        ("SALESFORCE_LOGIN_URL", sim_url),
        ("SALESFORCE_CLIENT_ID", "sluice-dev-client"),
        ("SALESFORCE_USERNAME", "integration@sluice.dev"),
        ("SALESFORCE_PRIVATE_KEY", DEV_KEY),
        ("SALESFORCE_TIMEOUT_SECS", "10"),
        ("SLUICE_AUTH_KEYS", &auth),
        ("PUSH_BATCH_WINDOW_MS", "20"),
        ("PUSH_SWEEP_INTERVAL_MS", "200"),
        ("PUSH_LIMIT_PAUSE_SECS", "1"),
        ("PUSH_UNANSWERED_HOLD_SECS", "2"),
        ("SALESFORCE_MAX_CALLS_PER_SECOND", "100"),
        ("SLUICE_SHUTDOWN_GRACE_SECS", "5"),
    ];
    pairs.retain(|(k, _)| !overrides.iter().any(|(o, _)| o == k));
    pairs.extend_from_slice(overrides);
    Config::from_env(&Env::from_pairs(pairs)).expect("test configuration is valid")
}

pub async fn spawn_sim() -> SimHandle {
    Simulator::spawn(SimConfig::dev())
        .await
        .expect("simulator starts")
}

impl TestHub {
    /// A hub whose scheduler runs by itself.
    pub async fn start(pool: PgPool) -> Self {
        Self::start_with(pool, &[]).await
    }

    /// A hub without its scheduler: tests drive pushes with [`TestHub::pusher`] and [`drain`].
    pub async fn start_api_only(pool: PgPool) -> Self {
        Self::start_with(pool, &[("PUSH_ENABLED", "false")]).await
    }

    pub async fn start_with(pool: PgPool, overrides: &[(&str, &str)]) -> Self {
        Self::start_against(spawn_sim().await, pool, overrides).await
    }

    /// A hub against a simulator the test already has (an org set up, or shared by two starts).
    pub async fn start_against(sim: SimHandle, pool: PgPool, overrides: &[(&str, &str)]) -> Self {
        let config = config(&sim.url, overrides);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(sluice::serve::run(
            config.clone(),
            pool.clone(),
            listener,
            shutdown.clone(),
        ));
        // Start-up reads describes and checks mappings before it serves: wait for it (or for
        // start-up to fail, which some tests expect).
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if task.is_finished() {
                break;
            }
            if let Ok(r) = http.get(format!("{url}/health")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Self {
            url,
            http,
            token: token("records:write records:read sync:admin"),
            sim,
            pool,
            config,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            task,
        }
    }

    /// A pusher over this hub's database and simulator, as another scheduler would be.
    pub fn pusher(&self, owner: &str) -> Pusher {
        pusher_for(&self.pool, &self.config, owner)
    }

    pub async fn post_records(&self, object: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/objects/{object}/records", self.url))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Posts `body` as an NDJSON stream ([`ndjson`] makes one).
    pub async fn post_ndjson(&self, object: &str, body: String) -> reqwest::Response {
        self.http
            .post(format!("{}/v1/objects/{object}/records", self.url))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent")
    }

    /// Stops the hub as SIGTERM would and returns what `serve::run` returned.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.stop_keeping_sim().await.0
    }

    /// [`TestHub::stop`], handing back the simulator for the next start.
    pub async fn stop_keeping_sim(self) -> (anyhow::Result<()>, SimHandle) {
        let Self {
            sim,
            shutdown,
            task,
            ..
        } = self;
        shutdown.cancel();
        let result = task.await.expect("serve task");
        (result, sim)
    }
}

pub fn pusher_for(pool: &PgPool, config: &Config, owner: &str) -> Pusher {
    let client = SalesforceClient::new(config.salesforce.clone()).expect("client");
    Pusher::new(
        pool.clone(),
        client,
        std::sync::Arc::new(Catalog::default_set()),
        config.push.clone(),
        owner.to_owned(),
    )
}

/// Drives `pusher` until nothing is due, and returns the batches it pushed. Bounded.
pub async fn drain(pusher: &Pusher) -> Vec<Outcome> {
    let mut pushed = Vec::new();
    for _ in 0..1000 {
        match pusher.push_next_batch().await.expect("push works") {
            Outcome::Idle => return pushed,
            Outcome::Wait(d) => tokio::time::sleep(d.min(Duration::from_millis(200))).await,
            outcome => pushed.push(outcome),
        }
    }
    panic!("the push did not become idle within 1000 steps");
}

/// Polls `check` every 50 ms until it returns true, for at most `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within {timeout:?}");
}

/// Records as an NDJSON body, a line each.
pub fn ndjson(records: &[Value]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// Merges the ingest inbox now, as the hub's merger does within moments of a large request.
pub async fn settle(pool: &PgPool) {
    sluice::staging::inbox::merge_all(pool, 100)
        .await
        .expect("inbox merged");
}

/// Counts staging rows matching `where_sql`, once the inbox is merged ([`settle`]).
pub async fn count_rows(pool: &PgPool, where_sql: &str) -> i64 {
    settle(pool).await;
    sqlx::query_scalar(&format!(
        "SELECT count(*) FROM staging_records WHERE {where_sql}"
    ))
    .fetch_one(pool)
    .await
    .expect("count")
}

/// `n` valid Contacts with external ids `{prefix}-{i}`.
pub fn contacts(prefix: &str, n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                serde_json::json!({
                    "External_Id__c": format!("{prefix}-{i}"),
                    "LastName": format!("Name{i}"),
                    "Email": format!("person{i}@example.com"),
                })
            })
            .collect(),
    )
}
