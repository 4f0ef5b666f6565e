//! The dashboard's section for the reads from Salesforce: per object the last read, how far
//! behind Salesforce the hub may be, rows read and calls spent.

use std::fmt::Write as _;

use super::html::esc;
use crate::observe::format::{duration, number};
use crate::read::store::ReadStatus;

pub fn render(b: &mut String, reads: &[ReadStatus]) {
    if reads.is_empty() {
        return;
    }
    b.push_str(
        "<section id=\"reads\"><h2>Reads from Salesforce</h2><p class=\"hint\">Lag: time since \
         the last finished read began; everything Salesforce committed before it is here.</p>\
         <table><tr><th>Object</th><th>Last read (UTC)</th><th class=\"num\">Lag</th>\
         <th class=\"num\">Rows read</th><th class=\"num\">Calls</th><th class=\"num\">Calls today</th>\
         <th>Watermark (SystemModstamp)</th><th>Reading now</th><th>Error</th></tr>",
    );
    for r in reads {
        let class = if r.last_error.is_some() { "bad" } else { "" };
        let _ = write!(
            b,
            "<tr data-read=\"{obj}\"><td><strong>{obj}</strong>{}</td><td>{}</td>\
             <td class=\"num\" data-lag>{}</td><td class=\"num\" data-rows-read>{}</td>\
             <td class=\"num\" data-calls>{}</td><td class=\"num\">{}</td><td><code>{}</code></td>\
             <td>{}</td><td class=\"msg {class}\">{}</td></tr>",
            if r.first_load_done {
                ""
            } else {
                " (first load)"
            },
            r.last_read_at.map_or("—".to_owned(), |t| t
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()),
            r.lag_seconds.map_or("—".to_owned(), duration),
            number(r.rows_read),
            number(r.calls),
            number(r.calls_today),
            r.watermark.map_or("—".to_owned(), |t| t.to_rfc3339()),
            esc(r.lease_owner.as_deref().unwrap_or("")),
            esc(r.last_error.as_deref().unwrap_or("")),
            obj = esc(&r.object),
        );
    }
    b.push_str("</table></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> ReadStatus {
        ReadStatus {
            object: "Contact".into(),
            last_read_at: Some(chrono::Utc::now()),
            last_started_at: None,
            lag_seconds: Some(75.0),
            watermark: None,
            first_load_done: true,
            reads: 3,
            rows_read: 100_000,
            calls: 7,
            calls_today: 7,
            lease_owner: None,
            last_error: Some("<b>INVALID_FIELD</b>".into()),
        }
    }

    #[test]
    fn reads_show_lag_rows_and_calls_and_escape_errors() {
        let mut html = String::new();
        render(&mut html, &[status()]);
        assert!(html.contains("data-rows-read>100,000<"));
        assert!(html.contains("data-lag>1 min"), "{html}");
        assert!(html.contains("&lt;b&gt;INVALID_FIELD"));
        let mut text = String::new();
        crate::ops::reads_text(&mut text, &[status()]);
        assert!(
            text.contains("Contact") && text.contains("100,000"),
            "{text}"
        );
    }
}
