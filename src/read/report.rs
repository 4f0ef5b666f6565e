//! The reads as text, for `sluice status`.

use std::fmt::Write as _;

use super::store::ReadStatus;
use crate::observe::format::{duration, number};

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
