//! The reads' share of the daily API budget: how often the safety poll may run, and whether
//! change events may still wake reads today.

use std::time::Duration;

use crate::config::reads::ReadObject;

/// Half the reads' share goes to the safety polls (one call each when nothing changed); the other
/// half is left to reads woken by change events.
const SAFETY_SHARE: u64 = 2;

/// The reads' calls per day: `percent` of the org's daily allowance.
pub fn daily_calls(allowance: u64, percent: u8) -> u64 {
    allowance * u64::from(percent) / 100
}

/// The safety poll's interval for `read`: the objects' safety polls together spend at most half
/// the reads' daily share, and never run more often than the object's `every`.
pub fn safety_interval(allowance: u64, percent: u8, objects: usize, read: &ReadObject) -> Duration {
    let per_object = daily_calls(allowance, percent) / SAFETY_SHARE / objects.max(1) as u64;
    let secs = match per_object {
        0 => 86_400,
        n => 86_400_u64.div_ceil(n),
    };
    Duration::from_secs(secs).max(read.every)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staging::ObjectName;

    fn read(every: u64) -> ReadObject {
        ReadObject {
            object: ObjectName::parse("Contact").expect("name"),
            external_id_field: "External_Id__c".into(),
            fields: vec![],
            every: Duration::from_secs(every),
        }
    }

    #[test]
    fn the_safety_poll_keeps_within_half_the_share() {
        // Developer Edition: 15,000 a day, 10 % = 1,500 for reads, 750 for safety polls; two
        // objects get 375 polls a day each: one every 231 s.
        let interval = safety_interval(15_000, 10, 2, &read(5));
        assert_eq!(interval, Duration::from_secs(231));
        assert!(86_400 / interval.as_secs() * 2 <= 750);
        // A large org polls as often as the object allows.
        assert_eq!(
            safety_interval(5_000_000, 10, 1, &read(30)),
            Duration::from_secs(30)
        );
        assert_eq!(
            safety_interval(0, 10, 1, &read(5)),
            Duration::from_secs(86_400)
        );
    }
}
