//! Posting Contacts: as fast as possible (`ingest`) or at a steady rate (`steady`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{contact, percentile};

pub struct Hub {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Json,
    Ndjson,
}

#[derive(clap::Args)]
pub struct IngestArgs {
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    /// Records per request.
    #[arg(long, default_value_t = 500)]
    batch: u64,
    #[arg(long, default_value_t = 4)]
    concurrency: u64,
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
    /// External ids are `{prefix}-{i}`.
    #[arg(long, default_value = "B")]
    prefix: String,
    /// Where to append the external ids the hub accepted (one a line).
    #[arg(long)]
    accepted: Option<PathBuf>,
    /// Retries of a request that got no answer, a 5xx or a 429, with the same Idempotency-Key.
    #[arg(long, default_value_t = 0)]
    retries: u32,
}

#[derive(clap::Args)]
pub struct SteadyArgs {
    #[arg(long, default_value_t = 100)]
    rate: u64,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    #[arg(long, default_value = "S")]
    prefix: String,
    /// Each record's external id and send time (unix ms), tab-separated.
    #[arg(long)]
    sent: PathBuf,
    #[arg(long, default_value_t = 5)]
    retries: u32,
}

/// The parts of an ingest answer the tally reads; read into types, not a `serde_json::Value`, so
/// that the load generator spends little of the machine it shares with the hub.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct Answer {
    staged: u64,
    unchanged: u64,
    rejected: u64,
    results: Vec<RecordAnswer>,
}

#[derive(serde::Deserialize)]
struct RecordAnswer {
    status: String,
    #[serde(default)]
    external_id: Option<String>,
}

#[derive(Default)]
struct Tally {
    latencies_ms: Vec<f64>,
    statuses: BTreeMap<String, u64>,
    outcomes: BTreeMap<String, u64>,
    accepted: Vec<String>,
    gave_up: u64,
}

impl Tally {
    /// Counts one answer; true when the request is over (answered, or out of retries).
    fn record(&mut self, answer: Result<(u16, Answer), &str>, elapsed_ms: f64, last: bool) -> bool {
        let label = answer
            .as_ref()
            .map_or_else(|e| e.to_string(), |(s, _)| s.to_string());
        *self.statuses.entry(label).or_default() += 1;
        match answer {
            Ok((status, answer)) if status < 500 && status != 429 => {
                self.latencies_ms.push(elapsed_ms);
                for r in answer.results {
                    if r.status == "staged" || r.status == "unchanged" {
                        self.accepted.push(r.external_id.unwrap_or_default());
                    }
                }
                // The counts, since an NDJSON answer lists only the records it rejected.
                for (outcome, n) in [
                    ("staged", answer.staged),
                    ("unchanged", answer.unchanged),
                    ("rejected", answer.rejected),
                ] {
                    *self.outcomes.entry(outcome.to_string()).or_default() += n;
                }
                true
            }
            _ if last => {
                self.gave_up += 1;
                true
            }
            _ => false,
        }
    }

    fn report(mut self, records: u64, elapsed: Duration) -> Value {
        self.latencies_ms.sort_by(f64::total_cmp);
        let accepted = self.outcomes.get("staged").copied().unwrap_or(0)
            + self.outcomes.get("unchanged").copied().unwrap_or(0);
        json!({
            "records_sent": records,
            "records_accepted": accepted,
            "seconds": elapsed.as_secs_f64(),
            "accepted_per_second": accepted as f64 / elapsed.as_secs_f64(),
            "requests": self.latencies_ms.len(),
            "latency_ms": {
                "p50": percentile(&self.latencies_ms, 50.0),
                "p99": percentile(&self.latencies_ms, 99.0),
                "max": self.latencies_ms.last(),
            },
            "http_statuses": self.statuses,
            "record_outcomes": self.outcomes,
            "requests_given_up": self.gave_up,
        })
    }
}

fn body(format: Format, prefix: &str, range: std::ops::Range<u64>) -> (Vec<u8>, &'static str) {
    match format {
        Format::Json => {
            let records: Vec<Value> = range.map(|i| contact(prefix, i)).collect();
            (
                serde_json::to_vec(&records).unwrap_or_default(),
                "application/json",
            )
        }
        Format::Ndjson => {
            let mut out = Vec::new();
            for i in range {
                let _ = serde_json::to_writer(&mut out, &contact(prefix, i));
                out.push(b'\n');
            }
            (out, "application/x-ndjson")
        }
    }
}

/// Posts one body, retrying what a careful client retries; records the answer in `tally`.
async fn post(
    hub: &Hub,
    body: &[u8],
    content_type: &str,
    key: &str,
    retries: u32,
    tally: &Mutex<Tally>,
) {
    let mut backoff = Duration::from_millis(250);
    for attempt in 0..=retries {
        let start = Instant::now();
        let mut request = hub
            .http
            .post(format!("{}/v1/objects/Contact/records", hub.url))
            .bearer_auth(&hub.token)
            .header("content-type", content_type)
            .body(body.to_vec());
        if retries > 0 {
            request = request.header("idempotency-key", key);
        }
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let answer: Answer = response.json().await.unwrap_or_default();
                Ok((status, answer))
            }
            Err(e) => Err(if e.is_timeout() {
                "timeout"
            } else {
                "transport"
            }),
        };
        let elapsed_ms = start.elapsed().as_secs_f64() * 1000.0;
        let done = {
            let mut t = tally
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            t.record(answer, elapsed_ms, attempt == retries)
        };
        if done {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

pub async fn ingest(hub: &Hub, args: IngestArgs) -> anyhow::Result<Value> {
    let hub = Arc::new(Hub {
        http: hub.http.clone(),
        url: hub.url.clone(),
        token: hub.token.clone(),
    });
    // Every body is built before the clock starts: the load generator's own work must not count
    // against the hub it measures (on one machine they share the CPUs).
    let bodies: Arc<Vec<(Vec<u8>, &'static str)>> = Arc::new(
        (0..args.records.div_ceil(args.batch))
            .map(|n| {
                let first = n * args.batch;
                body(
                    args.format,
                    &args.prefix,
                    first..(first + args.batch).min(args.records),
                )
            })
            .collect(),
    );
    let args = Arc::new(args);
    let next = Arc::new(AtomicU64::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (hub, args, next, tally) = (hub.clone(), args.clone(), next.clone(), tally.clone());
        let bodies = bodies.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some((bytes, ct)) = usize::try_from(n).ok().and_then(|n| bodies.get(n)) else {
                    break;
                };
                let key = format!("{}-{n}", args.prefix);
                post(&hub, bytes, ct, &key, args.retries, &tally).await;
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let elapsed = start.elapsed();
    let tally = std::mem::take(
        &mut *tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    if let Some(path) = &args.accepted {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        for id in &tally.accepted {
            writeln!(file, "{id}")?;
        }
    }
    Ok(tally.report(args.records, elapsed))
}

/// Sends `rate` records a second in ten batches a second, so that each record's send time is
/// known to within the request's own latency.
pub async fn steady(hub: &Hub, args: SteadyArgs) -> anyhow::Result<Value> {
    let hub = Arc::new(Hub {
        http: hub.http.clone(),
        url: hub.url.clone(),
        token: hub.token.clone(),
    });
    let per_tick = (args.rate / 10).max(1);
    let ticks = args.seconds * 10;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut sent = std::io::BufWriter::new(std::fs::File::create(&args.sent)?);
    let start = Instant::now();
    let mut interval = tokio::time::interval(Duration::from_millis(100));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut requests = Vec::new();
    for tick in 0..ticks {
        interval.tick().await;
        let range = tick * per_tick..(tick + 1) * per_tick;
        let now_ms = chrono::Utc::now().timestamp_millis();
        for i in range.clone() {
            writeln!(sent, "{}-{i}\t{now_ms}", args.prefix)?;
        }
        let (bytes, ct) = body(Format::Json, &args.prefix, range);
        let key = format!("{}-t{tick}", args.prefix);
        let (hub, tally, retries) = (hub.clone(), tally.clone(), args.retries);
        requests.push(tokio::spawn(async move {
            post(&hub, &bytes, ct, &key, retries, &tally).await
        }));
    }
    for r in requests {
        r.await?;
    }
    sent.flush()?;
    let tally = std::mem::take(
        &mut *tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    Ok(tally.report(ticks * per_tick, start.elapsed()))
}
