//! The dashboard's HTML, from figures already read: a pure function, tested without a server.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::html::{esc, page, query_value};
use crate::observe::format::{duration, number};
use crate::push::jobs::BulkJob;
use crate::salesforce::gate::{Usage, UsageSample};
use crate::sources::pulls::PullStatus;
use crate::sources::webhooks::events::SourceEvents;
use crate::staging::{FailedRecord, FailureGroup, ObjectCounts};

pub struct Dashboard {
    pub now: DateTime<Utc>,
    pub subject: String,
    pub csrf: String,
    pub notice: Option<String>,
    pub objects: Vec<ObjectCounts>,
    pub usage: Usage,
    pub history: Vec<UsageSample>,
    pub groups: Vec<FailureGroup>,
    pub filter_object: Option<String>,
    pub filter_code: Option<String>,
    pub failures: Vec<FailedRecord>,
    pub jobs: Vec<BulkJob>,
    pub pulls: Vec<PullStatus>,
    pub reads: Vec<crate::read::store::ReadStatus>,
    pub webhooks: Vec<SourceEvents>,
}

pub fn render(d: &Dashboard) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<header><h1>Sluice status</h1><span class=\"when\">{} UTC · signed in as {} · \
         <a href=\"/admin\" style=\"color:#fff\">refresh</a></span>\
         <form method=\"post\" action=\"/admin/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button>Sign out</button></form></header><main>",
        d.now.format("%Y-%m-%d %H:%M:%S"),
        esc(&d.subject),
        esc(&d.csrf)
    );
    if let Some(notice) = &d.notice {
        let _ = write!(b, "<p class=\"notice\" id=\"notice\">{}</p>", esc(notice));
    }
    objects(&mut b, &d.objects);
    budget(&mut b, d);
    super::failures_view::render(&mut b, d);
    jobs(&mut b, &d.jobs);
    super::sources_view::render(&mut b, d);
    super::reads_view::render(&mut b, &d.reads);
    b.push_str("</main>");
    page("Sluice status", &b)
}

fn objects(b: &mut String, objects: &[ObjectCounts]) {
    b.push_str(
        "<section id=\"objects\"><h2>Records by object</h2><p class=\"hint\">Lag is the age of \
         the oldest change not yet in Salesforce.</p><table><tr><th>Object</th>\
         <th class=\"num\">Pending</th><th class=\"num\">In flight</th><th class=\"num\">Synced</th>\
         <th class=\"num\">Failed</th><th class=\"num\">Discarded</th><th class=\"num\">Lag</th></tr>",
    );
    for o in objects {
        let _ = write!(b, "<tr><td><strong>{}</strong></td>", esc(&o.object));
        for (status, count) in o.by_status() {
            let class = if status == "failed" && count > 0 {
                "num bad"
            } else {
                "num"
            };
            let _ = write!(
                b,
                "<td class=\"{class}\" data-object=\"{}\" data-status=\"{status}\">{}</td>",
                esc(&o.object),
                number(count)
            );
        }
        let lag = o.lag_seconds.map_or("—".to_owned(), duration);
        let class = if o.lag_seconds.unwrap_or(0.0) > 300.0 {
            "num warn"
        } else {
            "num"
        };
        let _ = write!(
            b,
            "<td class=\"{class}\" data-object=\"{}\" data-lag>{lag}</td></tr>",
            esc(&o.object)
        );
    }
    b.push_str("</table></section>");
}

fn budget(b: &mut String, d: &Dashboard) {
    let u = &d.usage;
    b.push_str("<section id=\"budget\"><h2>Daily API budget</h2>");
    let Some(percent) = u.percent_used() else {
        b.push_str("<p class=\"empty\">Salesforce has not reported the org's usage yet (it does on the first API call).</p></section>");
        return;
    };
    let class = if percent >= 95.0 {
        "full"
    } else if percent >= 80.0 {
        "high"
    } else {
        ""
    };
    let _ = write!(
        b,
        "<div class=\"gauge\" title=\"{percent:.1}% used\"><div class=\"{class}\" style=\"width:{:.1}%\"></div></div>\
         <p><strong id=\"api-used\">{}</strong> of {} requests used in the last 24 h ({percent:.1}%), \
         <strong id=\"api-left\">{}</strong> left.",
        percent.min(100.0),
        number(u.used),
        number(u.max),
        number(u.left())
    );
    if let Some(at) = u.observed_at {
        let _ = write!(
            b,
            " Reported by Salesforce at {} UTC.",
            at.format("%H:%M:%S")
        );
    }
    b.push_str("</p>");
    if let Some(hold) = u.hold_at(d.now) {
        let _ = write!(
            b,
            "<p class=\"error\" id=\"push-paused\" data-reason=\"{}\">The push is paused until {} UTC: {}.</p>",
            hold.reason,
            hold.until.format("%Y-%m-%d %H:%M:%S"),
            esc(hold.reason.describe())
        );
    }
    chart(b, d.now, &d.history);
    b.push_str("</section>");
}

/// Share of the allowance used over the last 24 h, as an inline SVG line.
fn chart(b: &mut String, now: DateTime<Utc>, history: &[UsageSample]) {
    if history.is_empty() {
        b.push_str("<p class=\"empty\">No usage history in the last 24 hours.</p>");
        return;
    }
    let (w, h, left) = (720.0, 120.0, 40.0);
    let start = now - chrono::Duration::hours(24);
    let points: Vec<String> = history
        .iter()
        .filter(|s| s.max > 0)
        .map(|s| {
            let x = left + (s.minute - start).num_seconds() as f64 / 86_400.0 * (w - left);
            let y = h - 20.0 - (s.used as f64 / s.max as f64).min(1.0) * (h - 30.0);
            format!("{:.1},{:.1}", x.clamp(left, w), y)
        })
        .collect();
    let _ = write!(
        b,
        "<svg id=\"usage-chart\" viewBox=\"0 0 {w} {h}\" width=\"100%\" style=\"max-width:{w}px\" role=\"img\" \
         aria-label=\"API usage over the last 24 hours\">\
         <line x1=\"{left}\" y1=\"10\" x2=\"{w}\" y2=\"10\" stroke=\"#e4e9ee\"/>\
         <line x1=\"{left}\" y1=\"{y0}\" x2=\"{w}\" y2=\"{y0}\" stroke=\"#9aa5b1\"/>\
         <text x=\"0\" y=\"14\">100%</text><text x=\"0\" y=\"{y0}\">0%</text>\
         <text x=\"{left}\" y=\"{h}\">24 h ago</text><text x=\"{xm}\" y=\"{h}\">12 h ago</text>\
         <text x=\"{xn}\" y=\"{h}\">now</text>\
         <polyline fill=\"none\" stroke=\"#2e90fa\" stroke-width=\"2\" points=\"{}\"/></svg>",
        points.join(" "),
        y0 = h - 20.0,
        xm = left + (w - left) / 2.0 - 20.0,
        xn = w - 24.0,
    );
}

fn jobs(b: &mut String, jobs: &[BulkJob]) {
    b.push_str("<section id=\"jobs\"><h2>Recent Bulk API jobs</h2>");
    if jobs.is_empty() {
        b.push_str("<p class=\"empty\">No Bulk API jobs in the last 30 days: every push fitted sObject Collections calls.</p></section>");
        return;
    }
    b.push_str(
        "<table><tr><th>Job</th><th>Object</th><th>Operation</th><th>State</th>\
         <th class=\"num\">Records</th><th class=\"num\">Succeeded</th><th class=\"num\">Failed</th>\
         <th class=\"num\">Unprocessed</th><th>Started (UTC)</th><th>Finished</th><th>Error</th></tr>",
    );
    let count = |n: Option<i32>| n.map_or("—".to_owned(), |n| number(i64::from(n)));
    for j in jobs {
        let failed_class = if j.failed.unwrap_or(0) > 0 {
            "num bad"
        } else {
            "num"
        };
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"{failed_class}\">{}</td><td class=\"num\">{}</td>\
             <td>{}</td><td>{}</td><td class=\"msg\">{}</td></tr>",
            esc(&j.job_id),
            esc(&j.object),
            esc(&j.operation),
            esc(&j.state),
            number(i64::from(j.records)),
            count(j.succeeded),
            count(j.failed),
            count(j.unprocessed),
            j.created_at.format("%Y-%m-%d %H:%M:%S"),
            j.finished_at
                .map_or("—".to_owned(), |t| t.format("%H:%M:%S").to_string()),
            esc(j.error_message.as_deref().unwrap_or("")),
        );
    }
    b.push_str("</table></section>");
}

/// The link back to the dashboard with the same filters and a notice.
pub fn back_to(object: Option<&str>, code: Option<&str>, notice: &str) -> String {
    let mut url = format!("/admin?notice={}", query_value(notice));
    for (name, value) in [("object", object), ("code", code)] {
        if let Some(v) = value {
            let _ = write!(url, "&{name}={}", query_value(v));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::{ExternalId, ObjectName};

    fn contact() -> ObjectName {
        ObjectName::parse("Contact").unwrap()
    }

    fn dashboard() -> Dashboard {
        Dashboard {
            now: Utc::now(),
            subject: "ops<team>".into(),
            csrf: "c0ffee".into(),
            notice: None,
            objects: vec![ObjectCounts {
                synced: 1200,
                failed: 1,
                lag_seconds: Some(75.0),
                ..ObjectCounts::empty(contact())
            }],
            usage: Usage {
                used: 1500,
                max: 15000,
                ..Default::default()
            },
            history: Vec::new(),
            groups: vec![FailureGroup {
                object: contact(),
                code: Some("FIELD_CUSTOM_VALIDATION_EXCEPTION".into()),
                count: 1,
            }],
            filter_object: None,
            filter_code: None,
            failures: vec![FailedRecord {
                object: contact(),
                external_id: ExternalId::parse("<img src=x onerror=alert(1)>").unwrap(),
                salesforce_id: None,
                error_code: Some("FIELD_CUSTOM_VALIDATION_EXCEPTION".into()),
                error_message: Some("<b>Phone</b> is required".into()),
                error_fields: Some(vec!["Phone".into()]),
                attempts: 1,
                version: 1,
                failed_at: Utc::now(),
            }],
            jobs: Vec::new(),
            pulls: Vec::new(),
            reads: Vec::new(),
            webhooks: Vec::new(),
        }
    }

    #[test]
    fn the_page_shows_the_figures_and_escapes_what_it_did_not_write() {
        let html = render(&dashboard());
        assert!(html.contains(r#"data-object="Contact" data-status="synced">1,200<"#));
        assert!(html.contains(r#"data-status="failed">1<"#));
        assert!(html.contains("1 min"), "lag");
        assert!(html.contains("10.0%"), "budget");
        assert!(!html.contains("<img src=x"));
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("&lt;b&gt;Phone&lt;/b&gt; is required"));
        assert!(html.contains("ops&lt;team&gt;"));
        assert!(!html.contains("<script"));
        assert_eq!(html.matches(r#"name="csrf" value="c0ffee""#).count(), 5);
        assert!(html.contains("No Bulk API jobs in the last 30 days"));
    }
}
