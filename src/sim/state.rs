//! The simulator's shared state and its inspection and control methods.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use jsonwebtoken::DecodingKey;
use serde::Serialize;
use serde_json::{Map, Value};

use super::SimConfig;
use super::bulk::Job;
use super::bulk_query_job::QueryJob;
use super::cometd_sessions::Sessions;
use super::events::EventBus;
use super::faults::FaultConfig;
use super::query_cursor::Cursors;
use super::rate::CallRate;
use super::schema;
use super::store::Store;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Stats {
    pub total: u64,
    pub by_kind: BTreeMap<String, u64>,
    /// Counted calls per UTC second (unix seconds).
    pub per_second: BTreeMap<i64, u64>,
    pub max_concurrency: usize,
    /// Streaming API (CometD) messages by kind: not counted against the API allocation.
    pub streaming_by_kind: BTreeMap<String, u64>,
    /// Change events delivered to CometD clients (one per event per subscribed client).
    pub events_delivered: u64,
    /// Every request that reached the simulator (tokens, REST, CometD), refused or not.
    pub requests_received: u64,
}

impl Stats {
    /// Calls and messages by family, as `/__sim/stats` reports them: the first four are API
    /// calls (counted in `total`), streaming messages and event deliveries are not.
    pub fn families(&self) -> BTreeMap<&'static str, u64> {
        let sum = |pred: &dyn Fn(&str) -> bool| -> u64 {
            self.by_kind
                .iter()
                .filter(|(k, _)| pred(k))
                .map(|(_, n)| *n)
                .sum()
        };
        BTreeMap::from([
            ("queries", sum(&|k| k == "query" || k == "query_all")),
            ("query_more_pages", sum(&|k| k == "query_more")),
            ("bulk_query_calls", sum(&|k| k.starts_with("bulk_query_"))),
            (
                "replication_calls",
                sum(&|k| k.starts_with("sobject_updated") || k.starts_with("sobject_deleted")),
            ),
            ("streaming_messages", self.streaming_by_kind.values().sum()),
            ("event_deliveries", self.events_delivered),
        ])
    }
}

pub struct State {
    pub store: Store,
    pub tokens: HashMap<String, Instant>,
    pub used: u64,
    pub max: u64,
    pub stats: Stats,
    pub faults: FaultConfig,
    pub calls_seen: u64,
    pub jobs: BTreeMap<String, Job>,
    pub jobs_created: u64,
    /// Internal 10,000-record batches consumed from `DailyBulkApiBatches` (docs/salesforce.md §5.4).
    pub bulk_batches: u64,
    /// External ids received by collection upserts, per object, in arrival order (for tests that
    /// prove no record is sent twice).
    pub received: HashMap<String, Vec<String>>,
    /// Change events retained for replay, and the event-delivery usage.
    pub events: EventBus,
    /// The daily event-delivery allocation (separate from `max`).
    pub event_max: u64,
    /// Open REST query cursors (`nextRecordsUrl`).
    pub cursors: Cursors,
    /// Bulk API 2.0 query jobs.
    pub query_jobs: BTreeMap<String, QueryJob>,
    /// Query jobs created (`DailyBulkV2QueryJobs`).
    pub query_jobs_created: u64,
    /// CometD clients (Streaming API sessions).
    pub sessions: Sessions,
    /// When the org came to be: getDeleted's `earliestDateAvailable` before any purge.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// REST calls per sliding second, and the optional per-second cap.
    pub rate: CallRate,
}

impl State {
    fn new(cfg: &SimConfig) -> Self {
        Self {
            store: Store::default(),
            tokens: HashMap::new(),
            used: 0,
            max: cfg.daily_api_limit,
            stats: Stats::default(),
            faults: FaultConfig::default(),
            calls_seen: 0,
            jobs: BTreeMap::new(),
            jobs_created: 0,
            bulk_batches: 0,
            received: HashMap::new(),
            events: EventBus::default(),
            event_max: cfg.daily_event_delivery_limit,
            cursors: Cursors::default(),
            query_jobs: BTreeMap::new(),
            query_jobs_created: 0,
            sessions: Sessions::default(),
            created_at: chrono::Utc::now(),
            rate: CallRate::new(cfg.max_calls_per_second),
        }
    }

    /// Counts a Streaming API message; these don't count against the API allocation (see
    /// `cometd.rs` for the sources).
    pub fn count_streaming(&mut self, kind: &str) {
        *self
            .stats
            .streaming_by_kind
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// Counts one API call (docs/salesforce.md §6).
    pub fn count(&mut self, kind: &str) {
        self.used += 1;
        self.stats.total += 1;
        *self.stats.by_kind.entry(kind.to_string()).or_default() += 1;
        *self
            .stats
            .per_second
            .entry(chrono::Utc::now().timestamp())
            .or_default() += 1;
    }
}

pub(crate) struct Inner {
    pub cfg: SimConfig,
    pub key: Option<DecodingKey>,
    pub base_url: RwLock<String>,
    pub state: Mutex<State>,
    pub in_flight: AtomicUsize,
    /// Wakes CometD connects held open when change events are published.
    pub published: tokio::sync::Notify,
    /// Cancelled when the simulator stops, so held connects return at once.
    pub closing: tokio_util::sync::CancellationToken,
}

/// A simulated Salesforce org; clones share state.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) inner: Arc<Inner>,
}

/// Decrements the in-flight count when a call ends.
pub(crate) struct InFlight(Arc<Inner>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Simulator {
    pub fn new(cfg: SimConfig) -> Self {
        let key = DecodingKey::from_rsa_pem(cfg.public_key_pem.as_bytes())
            .inspect_err(|e| tracing::error!(error = %e, "simulator public key is not an RSA PEM; every JWT grant will fail"))
            .ok();
        let base = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1".into());
        let state = Mutex::new(State::new(&cfg));
        Self {
            inner: Arc::new(Inner {
                cfg,
                key,
                base_url: RwLock::new(base.trim_end_matches('/').to_string()),
                state,
                in_flight: AtomicUsize::new(0),
                published: tokio::sync::Notify::new(),
                closing: tokio_util::sync::CancellationToken::new(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn cfg(&self) -> &SimConfig {
        &self.inner.cfg
    }

    /// The URL it advertises as `instance_url` and accepts as JWT `aud`.
    pub fn base_url(&self) -> String {
        self.inner
            .base_url
            .read()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    pub(crate) fn set_base_url(&self, url: String) {
        if let Ok(mut slot) = self.inner.base_url.write() {
            *slot = url.trim_end_matches('/').to_string();
        }
    }

    pub(crate) fn enter(&self) -> InFlight {
        let now = self.inner.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        let mut state = self.lock();
        state.stats.max_concurrency = state.stats.max_concurrency.max(now);
        InFlight(self.inner.clone())
    }

    /// All live records of an object (each with `Id`), in creation order; empty for unknown objects.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        let Some(obj) = schema::object(object) else {
            return vec![];
        };
        self.lock().store.table(obj).records().cloned().collect()
    }

    pub fn record_by_external_id(
        &self,
        object: &str,
        field: &str,
        value: &str,
    ) -> Option<Map<String, Value>> {
        let obj = schema::object(object)?;
        let field = obj.field(field)?;
        let state = self.lock();
        let table = state.store.table(obj);
        let id = table.find(field, value).into_iter().next()?;
        table.get(&id).cloned()
    }

    /// Inserts and updates Salesforce applied to the record whose `field` is `value`, by any API:
    /// each would run the org's triggers and flows once.
    pub fn writes_of(&self, object: &str, field: &str, value: &str) -> u64 {
        let Some(obj) = schema::object(object) else {
            return 0;
        };
        let Some(field) = obj.field(field) else {
            return 0;
        };
        let state = self.lock();
        let ids = state.store.table(obj).find(field, value);
        ids.iter().map(|id| state.store.writes(id)).sum()
    }

    /// Calls counted toward the daily allocation since the last reset (docs/salesforce.md §2.1, §6).
    /// Every external id a collection upsert of `object` carried, in arrival order, repeats kept.
    pub fn upserted_external_ids(&self, object: &str) -> Vec<String> {
        self.lock()
            .received
            .get(object)
            .cloned()
            .unwrap_or_default()
    }

    pub fn api_calls(&self) -> u64 {
        self.lock().stats.total
    }

    pub fn calls_by_kind(&self) -> BTreeMap<String, u64> {
        self.lock().stats.by_kind.clone()
    }

    pub fn max_concurrent_calls_seen(&self) -> usize {
        self.lock().stats.max_concurrency
    }

    /// The most REST calls that arrived within any one second (a sliding window), refused
    /// ones included.
    pub fn max_calls_in_any_second(&self) -> u64 {
        self.lock().rate.max_in_window
    }

    /// Refuses REST calls past `cap` in any one second (`None`: no cap).
    pub fn set_max_calls_per_second(&self, cap: Option<u32>) {
        self.lock().rate.cap = cap;
    }

    /// REST calls refused for going over the per-second cap.
    pub fn calls_refused_per_second(&self) -> u64 {
        self.lock().rate.refused
    }

    /// Every request that reached the simulator (tokens, REST, CometD), refused or not.
    pub fn requests_received(&self) -> u64 {
        self.lock().stats.requests_received
    }

    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Invalidates every issued access token, as a session timeout would.
    pub fn expire_all_tokens(&self) {
        self.lock().tokens.clear();
    }

    /// Sets the org's usage as `Sforce-Limit-Info` and `/limits` report it.
    pub fn set_api_usage(&self, used: u64, max: u64) {
        let mut state = self.lock();
        state.used = used;
        state.max = max;
    }

    /// `(used, max)` of the daily allocation.
    pub fn api_usage(&self) -> (u64, u64) {
        let state = self.lock();
        (state.used, state.max)
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        self.lock().faults = faults;
    }

    pub fn faults(&self) -> FaultConfig {
        self.lock().faults.clone()
    }

    pub fn clear_faults(&self) {
        self.set_faults(FaultConfig::default());
    }

    /// Every REST call answers 503 for this long.
    pub fn outage_for(&self, duration: std::time::Duration) {
        let until = chrono::Utc::now()
            + chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
        self.lock().faults.outage_until = Some(until);
    }

    /// Clears records, jobs, stats, usage and faults; issued tokens stay valid.
    pub fn reset(&self) {
        let mut state = self.lock();
        let tokens = std::mem::take(&mut state.tokens);
        let cap = state.rate.cap;
        *state = State::new(&self.inner.cfg);
        state.tokens = tokens;
        state.rate.cap = cap;
    }
}
