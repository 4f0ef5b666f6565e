//! What webhooks and pulls count, with the `metrics` facade; `/metrics` renders it
//! ([`crate::observe::metrics`]).

use metrics::describe_counter;

pub fn describe() {
    describe_counter!(
        "sluice_webhook_events_total",
        "Webhook events by source and outcome: processed, ignored (a type no object takes), duplicate, refused (bad signature or body)."
    );
    describe_counter!(
        "sluice_source_records_total",
        "Records from webhooks and pulls, by source, object and outcome: staged, unchanged, rejected."
    );
    describe_counter!(
        "sluice_pull_runs_total",
        "Pull runs by source and outcome: succeeded, failed, interrupted."
    );
    describe_counter!("sluice_pull_pages_total", "Pages read by pulls, by source.");
    describe_counter!(
        "sluice_pull_page_retries_total",
        "Page requests of pulls retried after a failure, by source."
    );
}

pub fn webhook_event(source: &str, outcome: &'static str) {
    metrics::counter!("sluice_webhook_events_total", "source" => source.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn records(source: &str, object: &str, staged: usize, unchanged: usize, rejected: usize) {
    for (outcome, n) in [
        ("staged", staged),
        ("unchanged", unchanged),
        ("rejected", rejected),
    ] {
        if n > 0 {
            metrics::counter!("sluice_source_records_total", "source" => source.to_owned(),
                "object" => object.to_owned(), "outcome" => outcome)
            .increment(n as u64);
        }
    }
}

pub fn pull_run(source: &str, outcome: &'static str) {
    metrics::counter!("sluice_pull_runs_total", "source" => source.to_owned(), "outcome" => outcome)
        .increment(1);
}

pub fn pull_page(source: &str) {
    metrics::counter!("sluice_pull_pages_total", "source" => source.to_owned()).increment(1);
}

pub fn pull_retry(source: &str) {
    metrics::counter!("sluice_pull_page_retries_total", "source" => source.to_owned()).increment(1);
}
