//! The failures section: filters, the failed records with Salesforce's code and message, and
//! the retry and discard forms (each with the session's CSRF token).

use std::fmt::Write as _;

use super::html::esc;
use super::view::Dashboard;
use crate::observe::format::number;

pub fn render(b: &mut String, d: &Dashboard) {
    let total: i64 = d.groups.iter().map(|g| g.count).sum();
    let _ = write!(
        b,
        "<section id=\"failures\"><h2>Failures ({})</h2><p class=\"hint\">Records Salesforce refused, \
         with its error code and message. Fix the data at the source (a new version is pushed by itself), \
         or retry after fixing Salesforce, or discard.</p><form class=\"filters\" method=\"get\" action=\"/admin\">",
        number(total)
    );
    let mut objects: Vec<&str> = d.groups.iter().map(|g| g.object.as_str()).collect();
    objects.dedup();
    objects.sort_unstable();
    objects.dedup();
    let mut codes: Vec<&str> = d.groups.iter().filter_map(|g| g.code.as_deref()).collect();
    codes.sort_unstable();
    codes.dedup();
    select(b, "object", "Object", &objects, d.filter_object.as_deref());
    select(b, "code", "Error code", &codes, d.filter_code.as_deref());
    b.push_str("<button class=\"primary\">Filter</button></form>");
    if d.failures.is_empty() {
        b.push_str("<p class=\"empty\">No failed records match.</p></section>");
        return;
    }
    let _ = write!(
        b,
        "<div class=\"bulk\">{}{}</div>",
        action_form(
            &d.csrf,
            "retry",
            "Retry all shown",
            d.filter_object.as_deref(),
            d.filter_code.as_deref(),
            None
        ),
        action_form(
            &d.csrf,
            "discard",
            "Discard all shown",
            d.filter_object.as_deref(),
            d.filter_code.as_deref(),
            None
        )
    );
    b.push_str(
        "<table><tr><th>Object</th><th>External id</th><th>Code</th><th>Message</th>\
         <th>Fields</th><th class=\"num\">Attempts</th><th>Failed at (UTC)</th><th></th></tr>",
    );
    for f in &d.failures {
        let code = f.error_code.as_deref().unwrap_or("");
        let _ = write!(
            b,
            "<tr data-external-id=\"{}\"><td>{}</td><td><code>{}</code></td><td><code>{}</code></td>\
             <td class=\"msg\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"actions\">{}{}</td></tr>",
            esc(&f.external_id),
            esc(&f.object),
            esc(&f.external_id),
            esc(code),
            esc(f.error_message.as_deref().unwrap_or("")),
            esc(f.error_fields.clone().unwrap_or_default().join(", ")),
            f.attempts,
            f.failed_at.format("%Y-%m-%d %H:%M:%S"),
            action_form(
                &d.csrf,
                "retry",
                "Retry",
                Some(f.object.as_str()),
                None,
                Some(f.external_id.as_str())
            ),
            action_form(
                &d.csrf,
                "discard",
                "Discard",
                Some(f.object.as_str()),
                None,
                Some(f.external_id.as_str())
            ),
        );
    }
    b.push_str("</table></section>");
}

fn select(b: &mut String, name: &str, label: &str, options: &[&str], chosen: Option<&str>) {
    let _ = write!(
        b,
        "<label>{label}<select name=\"{name}\"><option value=\"\">All</option>"
    );
    for o in options {
        let selected = if Some(*o) == chosen { " selected" } else { "" };
        let _ = write!(b, "<option value=\"{0}\"{selected}>{0}</option>", esc(o));
    }
    b.push_str("</select></label>");
}

fn action_form(
    csrf: &str,
    action: &str,
    label: &str,
    object: Option<&str>,
    code: Option<&str>,
    external_id: Option<&str>,
) -> String {
    let mut f = format!(
        "<form method=\"post\" action=\"/admin/failures/{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    );
    for (name, value) in [
        ("object", object),
        ("code", code),
        ("external_id", external_id),
    ] {
        if let Some(v) = value {
            let _ = write!(
                f,
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                esc(v)
            );
        }
    }
    let class = if action == "discard" {
        "danger"
    } else {
        "primary"
    };
    let _ = write!(
        f,
        "<button class=\"{class}\" data-action=\"{action}\"{}>{label}</button></form>",
        external_id.map_or(String::new(), |id| format!(
            " data-external-id=\"{}\"",
            esc(id)
        ))
    );
    f
}
