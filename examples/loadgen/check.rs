//! What reached the simulator: lag per record, and every accepted record accounted for.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::{contact, percentile};

#[derive(clap::Args)]
pub struct LagArgs {
    /// `steady`'s file of external ids and send times.
    #[arg(long)]
    sent: PathBuf,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// External ids the hub accepted, one a line (the `ingest --accepted` file).
    #[arg(long)]
    accepted: PathBuf,
    /// External ids the hub holds as failed, with Salesforce's code, tab-separated.
    #[arg(long)]
    failed: Option<PathBuf>,
    /// Records the senders sent, for the report.
    #[arg(long, default_value_t = 0)]
    sent: u64,
}

async fn get_json(http: &reqwest::Client, url: String) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

pub async fn lag(http: &reqwest::Client, sim: &str, args: LagArgs) -> anyhow::Result<Value> {
    let arrivals = get_json(http, format!("{sim}/__sim/arrivals/Contact")).await?;
    let mut lags = Vec::new();
    let mut missing = 0u64;
    for line in std::fs::read_to_string(&args.sent)?.lines() {
        let Some((id, sent_ms)) = line.split_once('\t') else {
            continue;
        };
        let sent_ms: i64 = sent_ms.parse()?;
        match arrivals[id]["created_ms"].as_i64() {
            Some(created) => lags.push((created - sent_ms) as f64),
            None => missing += 1,
        }
    }
    lags.sort_by(f64::total_cmp);
    Ok(json!({
        "records": lags.len() as u64 + missing,
        "arrived": lags.len(),
        "missing": missing,
        "lag_ms": {"p50": percentile(&lags, 50.0), "p99": percentile(&lags, 99.0), "max": lags.last()},
    }))
}

/// The fields Sluice must have sent for `external_id`, as the default mapping normalizes them.
fn expected(external_id: &str) -> Option<Value> {
    let (prefix, i) = external_id.rsplit_once('-')?;
    Some(contact(prefix, i.parse().ok()?))
}

pub async fn verify(http: &reqwest::Client, sim: &str, args: VerifyArgs) -> anyhow::Result<Value> {
    let records = get_json(http, format!("{sim}/__sim/records/Contact")).await?;
    let mut in_sf: HashMap<String, Vec<&Value>> = HashMap::new();
    for r in records.as_array().into_iter().flatten() {
        if let Some(id) = r["External_Id__c"].as_str() {
            in_sf.entry(id.to_lowercase()).or_default().push(r);
        }
    }
    let failed: HashMap<String, String> = match &args.failed {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(id, code)| (id.to_lowercase(), code.to_string()))
            .collect(),
        None => HashMap::new(),
    };
    let mut accepted: Vec<String> = std::fs::read_to_string(&args.accepted)?
        .lines()
        .map(str::to_lowercase)
        .collect();
    accepted.sort();
    accepted.dedup();
    let (mut once, mut wrong_fields, mut duplicated, mut lost) = (0u64, 0u64, 0u64, 0u64);
    let mut failed_codes: BTreeMap<String, u64> = BTreeMap::new();
    let mut examples = Vec::new();
    for id in &accepted {
        match in_sf.get(id).map(Vec::as_slice) {
            Some([record]) => {
                let want = expected(id).unwrap_or(Value::Null);
                let same = want.as_object().into_iter().flatten().all(|(k, v)| {
                    let v = if k == "Email" {
                        json!(v.as_str().map(str::to_lowercase))
                    } else {
                        v.clone()
                    };
                    k == "External_Id__c" || record[k] == v
                });
                if same { once += 1 } else { wrong_fields += 1 }
            }
            Some(_) => duplicated += 1,
            None => match failed.get(id) {
                Some(code) => *failed_codes.entry(code.clone()).or_default() += 1,
                None => {
                    lost += 1;
                    if examples.len() < 5 {
                        examples.push(id.clone());
                    }
                }
            },
        }
    }
    let accepted_ids: std::collections::HashSet<&String> = accepted.iter().collect();
    let unexpected = in_sf.keys().filter(|k| !accepted_ids.contains(k)).count();
    Ok(json!({
        "sent": args.sent,
        "accepted": accepted.len(),
        "in_salesforce_once_with_right_fields": once,
        "in_salesforce_with_wrong_fields": wrong_fields,
        "in_salesforce_more_than_once": duplicated,
        "failed_with_reason": failed_codes.values().sum::<u64>(),
        "failed_codes": failed_codes,
        "lost": lost,
        "lost_examples": examples,
        "in_salesforce_but_never_accepted": unexpected,
    }))
}
