//! What the Salesforce client counts, with the `metrics` facade; `/metrics` renders it
//! ([`crate::observe::metrics`]).

use metrics::describe_counter;

use super::FailureClass;

pub fn describe() {
    describe_counter!(
        "sluice_salesforce_calls_total",
        "Salesforce API calls by kind and outcome."
    );
    describe_counter!(
        "sluice_salesforce_token_requests_total",
        "OAuth token requests (first mint and refreshes)."
    );
}

/// One Salesforce API call: `kind` is the resource (`collections`, `bulk`, `limits`, ...).
pub fn call(kind: &'static str, outcome: Result<(), FailureClass>) {
    let outcome = match outcome {
        Ok(()) => "success",
        Err(FailureClass::Transient) => "transient",
        Err(FailureClass::LimitExceeded) => "limit_exceeded",
        Err(FailureClass::Fatal) => "fatal",
    };
    metrics::counter!("sluice_salesforce_calls_total", "kind" => kind, "outcome" => outcome)
        .increment(1);
}

/// One OAuth token request (the first mint or a refresh).
pub fn token_request() {
    metrics::counter!("sluice_salesforce_token_requests_total").increment(1);
}
