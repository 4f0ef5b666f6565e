//! The reads as text, for `sluice status`.

use std::fmt::Write as _;

use crate::observe::format::{duration, number};
use crate::read::store::ReadStatus;

/// Per object: the last read, the lag, rows read and calls spent.
pub fn text(out: &mut String, reads: &[ReadStatus]) {
    if reads.is_empty() {
        return;
    }
    out.push_str("\nReads from Salesforce\n");
    let _ = writeln!(
        out,
        "  {:<20} {:<19} {:>8} {:>11} {:>9} {:>11}  ERROR",
        "OBJECT", "LAST READ (UTC)", "LAG", "ROWS READ", "CALLS", "CALLS TODAY"
    );
    for r in reads {
        let _ = writeln!(
            out,
            "  {:<20} {:<19} {:>8} {:>11} {:>9} {:>11}  {}",
            r.object,
            r.last_read_at.map_or("-".to_owned(), |t| t
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()),
            r.lag_seconds.map_or("-".to_owned(), duration),
            number(r.rows_read),
            number(r.calls),
            number(r.calls_today),
            r.last_error.as_deref().unwrap_or("")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_read_is_a_line_with_its_figures() {
        let status = ReadStatus {
            object: "Contact".into(),
            last_read_at: None,
            last_started_at: None,
            lag_seconds: Some(75.0),
            watermark: None,
            first_load_done: true,
            reads: 3,
            rows_read: 100_000,
            calls: 7,
            calls_today: 7,
            lease_owner: None,
            last_error: Some("INVALID_FIELD".into()),
        };
        let mut out = String::new();
        text(&mut out, &[status]);
        let line = out.lines().last().unwrap_or_default();
        assert!(
            line.contains("Contact") && line.contains("100,000") && line.contains("1 min"),
            "{out}"
        );
        assert!(line.ends_with("INVALID_FIELD"));
        let mut none = String::new();
        text(&mut none, &[]);
        assert!(none.is_empty());
    }
}
