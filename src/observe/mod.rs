//! Seeing the hub: [`metrics`] at `/metrics`, the [`figures`] that the metrics, the status page
//! and `sluice status` share, and the helpers of the record-level trace in the logs.
//!
//! The trace: the ingest request logs (debug) the external ids it staged inside its request span
//! (`request_id`); each push batch logs (debug) its `batch_id` and external ids inside the
//! `push_batch` span that also holds the Salesforce call. `grep <external id>` finds both lines;
//! their `request_id` and `batch_id` find the rest. Field values never reach a log line unless
//! `SLUICE_LOG_PAYLOADS=true`.

pub mod figures;
pub mod metrics;

use std::sync::atomic::{AtomicBool, Ordering};

static LOG_PAYLOADS: AtomicBool = AtomicBool::new(false);

/// Set once at start-up from `SLUICE_LOG_PAYLOADS` (a debugging aid, off by default).
pub fn set_log_payloads(on: bool) {
    LOG_PAYLOADS.store(on, Ordering::Relaxed);
}

pub fn log_payloads() -> bool {
    LOG_PAYLOADS.load(Ordering::Relaxed)
}

/// External ids as one comma-separated log field, bounded so that a 10,000-record request makes
/// one readable line (the count is logged beside it).
pub fn external_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    const MAX: usize = 1000;
    let mut out = String::new();
    for (i, id) in ids.into_iter().enumerate() {
        if i == MAX {
            out.push_str(",…");
            break;
        }
        if i > 0 {
            out.push(',');
        }
        out.push_str(id);
    }
    out
}

/// The record payloads for a debug line when `SLUICE_LOG_PAYLOADS=true`, else `None`.
pub fn payloads<'a, T: serde::Serialize + 'a>(
    records: impl IntoIterator<Item = &'a T>,
) -> Option<String> {
    log_payloads().then(|| {
        let all: Vec<&T> = records.into_iter().collect();
        serde_json::to_string(&all).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_are_joined_and_bounded() {
        assert_eq!(external_ids(["C-1", "C-2"]), "C-1,C-2");
        let many: Vec<String> = (0..1500).map(|i| i.to_string()).collect();
        let line = external_ids(many.iter().map(String::as_str));
        assert!(line.ends_with(",…"));
        assert_eq!(line.split(',').count(), 1001);
    }

    #[test]
    fn payloads_stay_out_unless_asked_for() {
        let record = serde_json::json!({"LastName": "x"});
        set_log_payloads(true);
        assert_eq!(
            payloads([&record]).as_deref(),
            Some(r#"[{"LastName":"x"}]"#)
        );
        set_log_payloads(false);
        assert_eq!(payloads([&record]), None);
    }
}
