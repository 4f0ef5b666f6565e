//! The dashboard's sections for the other ways in: each pull with its last run and a "Run now"
//! button, and each webhook source's events over the last day.

use std::fmt::Write as _;

use super::html::esc;
use super::view::Dashboard;
use crate::observe::format::number;

pub fn render(b: &mut String, d: &Dashboard) {
    pulls(b, d);
    webhooks(b, d);
}

fn pulls(b: &mut String, d: &Dashboard) {
    if d.pulls.is_empty() {
        return;
    }
    b.push_str(
        "<section id=\"pulls\"><h2>Scheduled pulls</h2><table><tr><th>Source</th><th>Last run</th>\
         <th>Started (UTC)</th><th class=\"num\">Pages</th><th class=\"num\">Records read</th>\
         <th class=\"num\">Staged</th><th class=\"num\">Rejected</th><th>Watermark</th>\
         <th>Next run (UTC)</th><th>Error</th><th></th></tr>",
    );
    for p in &d.pulls {
        let state = match (&p.running_on, p.last_status) {
            (Some(owner), _) => format!("running on {}", esc(owner)),
            (None, Some(s)) => format!("{s:?}").to_lowercase(),
            (None, None) => "never run".into(),
        };
        let class = if p.last_error.is_some() && p.running_on.is_none() {
            "bad"
        } else {
            ""
        };
        let next = if p.run_requested {
            "asked for".to_owned()
        } else {
            p.next_run_at.format("%Y-%m-%d %H:%M:%S").to_string()
        };
        let count = |n: Option<i32>| n.map_or("—".to_owned(), |n| number(i64::from(n)));
        let _ = write!(
            b,
            "<tr data-pull=\"{src}\"><td><strong>{src}</strong></td><td class=\"{class}\" data-last-run>{state}</td>\
             <td>{}</td><td class=\"num\">{}</td><td class=\"num\" data-records-read>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><code>{}</code></td><td>{next}</td><td class=\"msg\">{}</td>\
             <td class=\"actions\"><form method=\"post\" action=\"/admin/pulls/run\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"source\" value=\"{src}\">\
             <button class=\"primary\">Run now</button></form></td></tr>",
            p.last_started_at.map_or("—".to_owned(), |t| t
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()),
            count(p.last_pages),
            count(p.last_records_read),
            count(p.last_staged),
            count(p.last_rejected),
            esc(p.watermark.as_deref().unwrap_or("—")),
            esc(p.last_error.as_deref().unwrap_or("")),
            esc(&d.csrf),
            src = esc(&p.source),
        );
    }
    b.push_str("</table></section>");
}

fn webhooks(b: &mut String, d: &Dashboard) {
    if d.webhooks.is_empty() {
        return;
    }
    b.push_str(
        "<section id=\"webhooks\"><h2>Webhooks, last 24 h</h2><table><tr><th>Source</th>\
         <th class=\"num\">Events processed</th><th class=\"num\">Ignored</th>\
         <th class=\"num\">Records rejected</th><th>Last event (UTC)</th></tr>",
    );
    for w in &d.webhooks {
        let class = if w.records_rejected > 0 {
            "num bad"
        } else {
            "num"
        };
        let _ = write!(
            b,
            "<tr><td><strong>{}</strong></td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"{class}\">{}</td><td>{}</td></tr>",
            esc(&w.source),
            number(w.processed),
            number(w.ignored),
            number(w.records_rejected),
            w.last_received_at.map_or("—".to_owned(), |t| t
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()),
        );
    }
    b.push_str("</table></section>");
}
