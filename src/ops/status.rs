//! `sluice status`: the status page's figures as plain text for a terminal.

use std::fmt::Write as _;

use sqlx::PgPool;

use crate::observe::format::{duration, number};
use crate::salesforce::gate;
use crate::staging::{self, FailureFilter};

pub async fn render(pool: &PgPool, failures_shown: i64) -> Result<String, sqlx::Error> {
    let objects = staging::counts_per_object(pool).await?;
    let usage = gate::usage(pool).await?;
    let groups = staging::failure_groups(pool).await?;
    let recent = staging::list_failed(pool, &FailureFilter::default(), failures_shown).await?;
    let reads = crate::read::store::statuses(pool).await?;

    let mut out = String::from("Records by object\n");
    let _ = writeln!(
        out,
        "  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  LAG",
        "OBJECT", "PENDING", "IN FLIGHT", "SYNCED", "FAILED", "DISCARDED", "DELETED"
    );
    if objects.is_empty() {
        out.push_str("  (no records staged yet)\n");
    }
    for o in &objects {
        let _ = writeln!(
            out,
            "  {:<20} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}  {}",
            o.object,
            number(o.pending),
            number(o.in_flight),
            number(o.synced),
            number(o.failed),
            number(o.discarded),
            number(o.deleted),
            o.lag_seconds.map_or("-".to_owned(), duration)
        );
    }
    out.push_str("\nDaily API budget\n");
    match usage.percent_used() {
        None => out.push_str("  not reported by Salesforce yet\n"),
        Some(percent) => {
            let _ = write!(
                out,
                "  {} of {} used ({percent:.1}%), {} left",
                number(usage.used),
                number(usage.max),
                number(usage.left())
            );
            if let Some(at) = usage.observed_at {
                let _ = write!(out, ", reported {} UTC", at.format("%Y-%m-%d %H:%M:%S"));
            }
            out.push('\n');
        }
    }
    if let Some(hold) = usage.hold_at(chrono::Utc::now()) {
        let _ = writeln!(
            out,
            "  push paused ({}): {}, until {} UTC",
            hold.reason,
            hold.reason.describe(),
            hold.until.format("%Y-%m-%d %H:%M:%S")
        );
    }
    super::reads::text(&mut out, &reads);
    let total: i64 = groups.iter().map(|g| g.count).sum();
    let _ = writeln!(out, "\nFailures: {}", number(total));
    for g in &groups {
        let _ = writeln!(
            out,
            "  {:<20} {:<36} {:>9}",
            g.object,
            g.code.as_deref().unwrap_or("-"),
            number(g.count)
        );
    }
    if !recent.is_empty() {
        out.push_str("\nMost recent failures\n");
        for f in &recent {
            let _ = writeln!(
                out,
                "  {} {:<12} {:<24} {:<28} {}",
                f.failed_at.format("%Y-%m-%d %H:%M:%S"),
                f.object,
                f.external_id,
                f.error_code.as_deref().unwrap_or("-"),
                f.error_message.as_deref().unwrap_or("")
            );
        }
    }
    Ok(out)
}
