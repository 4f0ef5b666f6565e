//! Salesforce's two datetime spellings: what it returns (`2026-12-05T10:00:00.000+0000`) and what
//! SOQL accepts unquoted (`Z` or `±hh:mm`, never `+0000`:
//! <https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-dateformats.html>).

use chrono::{DateTime, SecondsFormat, Utc};

/// A datetime literal for a SOQL `WHERE` clause, e.g. `2026-12-05T10:00:00.000Z`.
pub fn soql_datetime(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a datetime as Salesforce returns it (`…+0000`) or as ISO 8601 (`Z`, `+00:00`).
pub fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// serde: a Salesforce datetime string.
pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<DateTime<Utc>, D::Error> {
    let s: String = serde::Deserialize::deserialize(d)?;
    parse_datetime(&s)
        .ok_or_else(|| serde::de::Error::custom(format!("not a Salesforce datetime: {s}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returned_stamps_read_back_as_soql_literals() {
        let t = parse_datetime("2026-12-05T10:00:00.120+0000").expect("parses");
        assert_eq!(soql_datetime(t), "2026-12-05T10:00:00.120Z");
        assert_eq!(parse_datetime("2026-12-05T10:00:00.120Z"), Some(t));
        assert_eq!(parse_datetime("2026-12-05T11:00:00.120+01:00"), Some(t));
        assert!(parse_datetime("yesterday").is_none());
    }
}
