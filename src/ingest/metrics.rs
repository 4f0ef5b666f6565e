//! What ingest counts, with the `metrics` facade; `/metrics` renders it
//! ([`crate::observe::metrics`]).

use metrics::describe_counter;

pub fn describe() {
    describe_counter!(
        "sluice_records_received_total",
        "Records received by the ingest API."
    );
    describe_counter!(
        "sluice_records_rejected_total",
        "Records refused by validation at ingest."
    );
    describe_counter!(
        "sluice_records_staged_total",
        "Records staged as new or changed."
    );
}

/// One request's records: received in all, rejected by validation, staged as new or changed.
pub fn records(object: &str, received: usize, rejected: usize, staged: usize) {
    let object = object.to_owned();
    metrics::counter!("sluice_records_received_total", "object" => object.clone())
        .increment(received as u64);
    metrics::counter!("sluice_records_rejected_total", "object" => object.clone())
        .increment(rejected as u64);
    metrics::counter!("sluice_records_staged_total", "object" => object).increment(staged as u64);
}
