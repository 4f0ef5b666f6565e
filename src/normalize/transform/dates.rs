//! Dates and date-times in named formats, to the ISO forms Salesforce takes (`2026-11-28`,
//! `2026-11-28T13:45:00Z`).
//!
//! A format is a pattern of `dd`, `mm`, `yyyy`, `hh` (00-23), `mi`, `ss` and literal characters,
//! e.g. `dd/mm/yyyy hh:mi`. Day, month, hour, minute and second take one or two digits (exports
//! often drop the leading zero); the year takes exactly four, so "28/11/26" is refused, not read as
//! year 26. The datetime format `iso` takes RFC 3339 with an offset ("2026-11-28T13:45:00+01:00").

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::text::as_text;
use crate::normalize::error::TransformError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Day,
    Month,
    Year,
    Hour,
    Minute,
    Second,
    Literal(char),
}

/// A parsed format pattern, or RFC 3339.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    name: String,
    tokens: Option<Vec<Token>>,
}

impl DateFormat {
    /// Refuses patterns without a day, month and year, so a typo cannot silently accept anything.
    pub fn parse(name: &str) -> Result<Self, String> {
        if name == "iso" {
            return Ok(Self {
                name: name.into(),
                tokens: None,
            });
        }
        let mut tokens = Vec::new();
        let mut rest = name;
        while let Some(c) = rest.chars().next() {
            let (token, len) = [
                ("yyyy", Token::Year),
                ("dd", Token::Day),
                ("mm", Token::Month),
                ("hh", Token::Hour),
                ("mi", Token::Minute),
                ("ss", Token::Second),
            ]
            .into_iter()
            .find(|(p, _)| rest.starts_with(p))
            .map_or((Token::Literal(c), c.len_utf8()), |(p, t)| (t, p.len()));
            if matches!(token, Token::Literal(l) if l.is_ascii_alphabetic()) {
                return Err(format!("unknown letter '{c}' in date format \"{name}\""));
            }
            tokens.push(token);
            rest = &rest[len..];
        }
        for needed in [Token::Day, Token::Month, Token::Year] {
            if !tokens.contains(&needed) {
                return Err(format!("date format \"{name}\" needs dd, mm and yyyy"));
            }
        }
        Ok(Self {
            name: name.into(),
            tokens: Some(tokens),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `None` when the text does not have the format's shape; `Some(None)` when it has the shape
    /// but names no real date or time (31/02, 25:00).
    fn read(&self, text: &str) -> Option<Option<NaiveDateTime>> {
        let tokens = self.tokens.as_ref()?;
        let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (0, 0, 0, 0, 0, 0);
        let mut rest = text;
        for token in tokens {
            if let Token::Literal(c) = token {
                rest = rest.strip_prefix(*c)?;
                continue;
            }
            let (min, max) = if *token == Token::Year {
                (4, 4)
            } else {
                (1, 2)
            };
            let len = rest
                .chars()
                .take(max)
                .take_while(char::is_ascii_digit)
                .count();
            if len < min {
                return None;
            }
            let n: u32 = rest[..len].parse().ok()?;
            rest = &rest[len..];
            match token {
                Token::Year => y = n,
                Token::Month => mo = n,
                Token::Day => d = n,
                Token::Hour => h = n,
                Token::Minute => mi = n,
                Token::Second => s = n,
                Token::Literal(_) => {}
            }
        }
        if !rest.is_empty() {
            return None;
        }
        let date = i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, mo, d));
        let time = NaiveTime::from_hms_opt(h, mi, s);
        Some(date.zip(time).map(|(d, t)| d.and_time(t)))
    }
}

fn names(formats: &[DateFormat]) -> String {
    formats
        .iter()
        .map(DateFormat::name)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn read_any(text: &str, formats: &[DateFormat]) -> Result<NaiveDateTime, TransformError> {
    for format in formats {
        match format.read(text) {
            Some(Some(dt)) => return Ok(dt),
            Some(None) => return Err(TransformError::ImpossibleDate(text.to_owned())),
            None => {}
        }
    }
    Err(TransformError::DateFormat {
        value: text.to_owned(),
        formats: names(formats),
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
    let utc = if formats.iter().any(|f| f.tokens.is_none())
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
            .map(|n| DateFormat::parse(n).unwrap())
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
        assert_eq!(
            DateFormat::parse("dd/mm/yy").unwrap_err(),
            "unknown letter 'y' in date format \"dd/mm/yy\""
        );
        assert_eq!(
            DateFormat::parse("mm/yyyy").unwrap_err(),
            "date format \"mm/yyyy\" needs dd, mm and yyyy"
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
