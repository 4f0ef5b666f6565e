//! The org's clock: real time plus an offset tests can advance, so retention windows (72 h of
//! change events, 15 days of recycle bin, 2 days of query cursors) can be crossed in a test.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};

/// Salesforce's datetime rendering in API answers, e.g. `2026-12-05T10:00:00.000+0000`.
const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f+0000";

#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset: Duration,
    /// The time of the transaction under way, if one is: its records share one timestamp.
    pinned: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        self.pinned.unwrap_or_else(|| Utc::now() + self.offset)
    }

    /// Starts a transaction: until [`Clock::unpin`], `now` is this moment, so that the records
    /// one call writes get the same `LastModifiedDate` and `SystemModstamp`, as in Salesforce.
    pub fn pin(&mut self) {
        self.pinned = Some(Utc::now() + self.offset);
    }

    /// Ends the transaction [`Clock::pin`] started.
    pub fn unpin(&mut self) {
        self.pinned = None;
    }

    /// Moves the org's time forward; stored timestamps stay where they were, so they age.
    pub fn advance(&mut self, by: Duration) {
        self.offset += by;
    }
}

/// `2026-12-05T10:00:00.000+0000`.
pub fn format(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

/// Reads a timestamp this simulator wrote (see [`format`]).
pub fn parse_stored(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Parses an ISO 8601 dateTime as the REST API accepts it in parameters: `Z` or `±hh:mm`
/// (`±hhmm` too), optional fractional seconds.
/// <https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/intro_valid_date_formats.htm>
pub fn parse_param(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.fZ")
        .ok()
        .map(|t| t.and_utc())
}

/// Drops the seconds, as getUpdated and getDeleted do with `start` and `end`.
pub fn truncate_to_minute(t: DateTime<Utc>) -> DateTime<Utc> {
    let secs = t.timestamp();
    DateTime::from_timestamp(secs - secs.rem_euclid(60), 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_format_round_trips_and_parameters_accept_the_documented_forms() {
        let t = parse_param("2026-12-05T10:00:00.123Z").expect("Z form");
        assert_eq!(format(t), "2026-12-05T10:00:00.123+0000");
        assert_eq!(parse_stored(&format(t)), Some(t));
        assert_eq!(
            parse_param("2026-12-05T11:00:00+01:00"),
            parse_param("2026-12-05T10:00:00Z")
        );
        assert!(parse_param("2026-12-05T10:00:00.000+0000").is_some());
        assert!(parse_param("2026-12-05").is_none());
        assert!(parse_param("yesterday").is_none());
    }

    #[test]
    fn a_transaction_has_one_time_and_time_moves_on_after_it() {
        let mut clock = Clock::default();
        clock.pin();
        let at = clock.now();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert_eq!(clock.now(), at);
        clock.unpin();
        assert!(clock.now() > at);
    }

    #[test]
    fn advancing_moves_now_and_truncation_drops_seconds() {
        let mut clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::hours(73));
        assert!(clock.now() - before >= Duration::hours(73));
        let t = parse_param("2026-12-05T10:30:15.500Z").expect("parses");
        assert_eq!(
            format(truncate_to_minute(t)),
            "2026-12-05T10:30:00.000+0000"
        );
    }
}
