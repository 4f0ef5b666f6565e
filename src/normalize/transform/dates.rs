//! Dates and date-times in named formats (see `date_format.rs`), to the ISO forms
//! Salesforce takes (`2026-11-28`, `2026-11-28T13:45:00Z`). The datetime format `iso` takes
//! RFC 3339 with an offset ("2026-11-28T13:45:00+01:00").

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

pub use super::date_format::DateFormat;
use super::date_format::Reading;
use super::text::as_text;
use crate::normalize::error::TransformError;

fn names(formats: &[DateFormat]) -> String {
    formats
        .iter()
        .map(DateFormat::name)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The first format whose shape the text has decides; a month name no format knows is named in
/// the error, since that is what the sender has to fix.
fn read_any(text: &str, formats: &[DateFormat]) -> Result<NaiveDateTime, TransformError> {
    let mut unknown_month = None;
    for format in formats {
        match format.read(text) {
            Reading::Found(dt) => return Ok(dt),
            Reading::Impossible => return Err(TransformError::ImpossibleDate(text.to_owned())),
            Reading::UnknownMonth(word) => {
                unknown_month = unknown_month.or(format.locale().map(|l| (word, l.name())));
            }
            Reading::NoMatch => {}
        }
    }
    Err(match unknown_month {
        Some((word, locale)) => TransformError::MonthName {
            value: text.to_owned(),
            word,
            locale,
        },
        None => TransformError::DateFormat {
            value: text.to_owned(),
            formats: names(formats),
        },
    })
}

/// To `YYYY-MM-DD`. A time part in the format is read and dropped.
pub fn date(v: Value, formats: &[DateFormat]) -> Result<Value, TransformError> {
    let text = as_text(&v)?;
    let dt = read_any(text.trim(), formats)?;
    Ok(Value::String(dt.date().format("%Y-%m-%d").to_string()))
}

/// To `YYYY-MM-DDThh:mm:ssZ`. Local times are read in `zone`. A local time that occurs twice
/// (the hour clocks go back) is taken as the earlier one, as PostgreSQL does; one that never
/// occurs (the hour clocks skip) is refused.
pub fn datetime(v: Value, formats: &[DateFormat], zone: Tz) -> Result<Value, TransformError> {
    let text = as_text(&v)?;
    let text = text.trim();
    let utc = if formats.iter().any(DateFormat::is_iso)
        && let Ok(dt) = DateTime::parse_from_rfc3339(text)
    {
        dt.with_timezone(&Utc)
    } else {
        let local = read_any(text, formats)?;
        match zone.from_local_datetime(&local) {
            LocalResult::Single(dt) | LocalResult::Ambiguous(dt, _) => dt.with_timezone(&Utc),
            LocalResult::None => {
                return Err(TransformError::LocalTimeGap {
                    value: text.to_owned(),
                    zone: zone.name().to_owned(),
                });
            }
        }
    };
    Ok(Value::String(utc.format("%Y-%m-%dT%H:%M:%SZ").to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fmts(names: &[&str]) -> Vec<DateFormat> {
        names
            .iter()
            .map(|n| DateFormat::parse(n, None, super::super::date_format::DEFAULT_PIVOT).unwrap())
            .collect()
    }

    #[test]
    fn named_formats_become_iso_dates() {
        let cases = [
            ("dd/mm/yyyy", "28/11/2026"),
            ("dd/mm/yyyy", "28/11/2026 "),
            ("yyyy-mm-dd", "2026-11-28"),
            ("mm/dd/yyyy", "11/28/2026"),
            ("dd.mm.yyyy", "28.11.2026"),
        ];
        for (f, raw) in cases {
            assert_eq!(
                date(json!(raw), &fmts(&[f])).unwrap(),
                json!("2026-11-28"),
                "{f}"
            );
        }
        assert_eq!(
            date(json!("1/2/2026"), &fmts(&["dd/mm/yyyy"])).unwrap(),
            json!("2026-02-01")
        );
    }

    #[test]
    fn impossible_and_misshapen_dates_are_refused() {
        let f = fmts(&["dd/mm/yyyy"]);
        assert_eq!(
            date(json!("31/02/2026"), &f).unwrap_err().to_string(),
            "\"31/02/2026\" is not a real calendar date"
        );
        assert_eq!(
            date(json!("29/02/2025"), &f).unwrap_err().to_string(),
            "\"29/02/2025\" is not a real calendar date"
        );
        assert_eq!(
            date(json!("28/11/26"), &fmts(&["dd/mm/yyyy", "yyyy-mm-dd"]))
                .unwrap_err()
                .to_string(),
            "\"28/11/26\" does not match dd/mm/yyyy or yyyy-mm-dd"
        );
    }

    #[test]
    fn datetimes_are_converted_to_utc() {
        let paris: Tz = "Europe/Paris".parse().unwrap();
        let f = fmts(&["dd/mm/yyyy hh:mi", "iso"]);
        // Winter: UTC+1. Summer: UTC+2.
        assert_eq!(
            datetime(json!("28/11/2026 14:45"), &f, paris).unwrap(),
            json!("2026-11-28T13:45:00Z")
        );
        assert_eq!(
            datetime(json!("01/07/2026 14:45"), &f, paris).unwrap(),
            json!("2026-07-01T12:45:00Z")
        );
        assert_eq!(
            datetime(json!("2026-11-28T14:45:00-05:00"), &f, paris).unwrap(),
            json!("2026-11-28T19:45:00Z")
        );
        // Clocks went forward at 02:00 on 29 March 2026; back at 03:00 on 25 October 2026.
        assert_eq!(
            datetime(json!("29/03/2026 02:30"), &f, paris)
                .unwrap_err()
                .to_string(),
            "\"29/03/2026 02:30\" does not exist in Europe/Paris (clocks skip it)"
        );
        assert_eq!(
            datetime(json!("25/10/2026 02:30"), &f, paris).unwrap(),
            json!("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            datetime(json!("28/11/2026 24:10"), &f, paris)
                .unwrap_err()
                .to_string(),
            "\"28/11/2026 24:10\" is not a real calendar date"
        );
    }
}
