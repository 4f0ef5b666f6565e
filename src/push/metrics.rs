//! What the push engine counts, with the `metrics` facade; `/metrics` renders it
//! ([`crate::observe::metrics`]).

use std::time::Duration;

use metrics::{describe_counter, describe_histogram};

use super::Outcome;
use crate::salesforce::FailureClass;

/// Records per call and call durations are histograms with these bounds.
pub const BATCH_SIZE_METRIC: &str = "sluice_push_batch_size";
pub const BATCH_SIZE_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 150.0, 200.0];

pub fn describe() {
    describe_counter!(
        "sluice_records_pushed_total",
        "Records Salesforce accepted."
    );
    describe_counter!(
        "sluice_records_failed_total",
        "Records Salesforce refused (final)."
    );
    describe_counter!(
        "sluice_records_retried_total",
        "Records queued again after a transient failure."
    );
    describe_histogram!(BATCH_SIZE_METRIC, "Records per sObject Collections call.");
    describe_histogram!(
        "sluice_push_duration_seconds",
        "Duration of one push call to Salesforce."
    );
}

/// A push call of `records` records to Salesforce took `elapsed`.
pub fn call(object: &str, records: usize, elapsed: Duration) {
    let object = object.to_owned();
    metrics::histogram!(BATCH_SIZE_METRIC, "object" => object.clone()).record(records as f64);
    metrics::histogram!("sluice_push_duration_seconds", "object" => object).record(elapsed);
}

/// The per-record outcome of a batch whose call succeeded.
pub fn outcome(outcome: &Outcome) {
    if let Outcome::Pushed {
        object,
        synced,
        failed,
        retrying,
        ..
    } = outcome
    {
        count(object, *synced, *failed, *retrying);
    }
}

/// A push call failed as a whole: its records are retried later, or failed when the error is final.
pub fn request_failed(object: &str, records: usize, class: FailureClass) {
    match class {
        FailureClass::Fatal => count(object, 0, records, 0),
        FailureClass::Transient | FailureClass::LimitExceeded => count(object, 0, 0, records),
    }
}

fn count(object: &str, pushed: usize, failed: usize, retried: usize) {
    let object = object.to_owned();
    metrics::counter!("sluice_records_pushed_total", "object" => object.clone())
        .increment(pushed as u64);
    metrics::counter!("sluice_records_failed_total", "object" => object.clone())
        .increment(failed as u64);
    metrics::counter!("sluice_records_retried_total", "object" => object).increment(retried as u64);
}
