//! Comparing watermark values as the API writes them: RFC 3339 times as instants, numbers as
//! numbers, anything else as text.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

/// The value of an item's watermark field, as text to send back.
pub fn value_of(item: &Value, field: &str) -> Option<String> {
    match crate::normalize::path::get(item, field)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn compare(a: &str, b: &str) -> Ordering {
    let time = |s: &str| DateTime::<FixedOffset>::parse_from_rfc3339(s).ok();
    if let (Some(x), Some(y)) = (time(a), time(b)) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.cmp(b)
}

/// The larger of two watermarks.
pub fn max(current: Option<String>, seen: Option<String>) -> Option<String> {
    match (current, seen) {
        (Some(a), Some(b)) => Some(if compare(&b, &a) == Ordering::Greater {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_compare_as_instants_and_numbers_as_numbers() {
        let m = |a: &str, b: &str| max(Some(a.into()), Some(b.into())).unwrap();
        assert_eq!(
            m("2026-12-07T10:00:00+02:00", "2026-12-07T09:30:00Z"),
            "2026-12-07T09:30:00Z"
        );
        assert_eq!(m("9", "10"), "10");
        assert_eq!(max(None, Some("a".into())).as_deref(), Some("a"));
        assert_eq!(
            value_of(&serde_json::json!({"u": 5}), "u").as_deref(),
            Some("5")
        );
    }
}
