//! The calls arriving in any one second: measured for tests (the most seen in a sliding
//! one-second window, not per calendar second, which would hide a burst across a boundary), and
//! optionally capped.
//!
//! Salesforce documents no per-second cap for REST (docs/salesforce.md §6.3), but its
//! `REQUEST_LIMIT_EXCEEDED` covers "the concurrent request limit or the request rate limit for
//! your org" (Core Data Types, StatusCode), answered 403 with Salesforce's error body. An org
//! behind a gateway or with other integrations may well cap Sluice per second: the cap makes the
//! simulator refuse what Sluice's `SALESFORCE_MAX_CALLS_PER_SECOND` promises never to send. The
//! message is [UNVERIFIED]: the documented code with the wording of the concurrency variant.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use axum::http::StatusCode;

use super::error::ApiError;

const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct CallRate {
    /// When each REST call of the last second arrived.
    arrivals: VecDeque<Instant>,
    /// The most REST calls seen in any one-second window.
    pub max_in_window: u64,
    /// Calls refused for going over the cap.
    pub refused: u64,
    /// Refuse calls past this many in any one second (`None`: no cap).
    pub cap: Option<u32>,
}

impl CallRate {
    pub fn new(cap: Option<u32>) -> Self {
        Self {
            cap,
            ..Self::default()
        }
    }

    /// Counts a REST call arriving now; `Err` when it goes over the cap.
    pub fn arrive(&mut self, now: Instant) -> Result<(), ApiError> {
        while self
            .arrivals
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            self.arrivals.pop_front();
        }
        self.arrivals.push_back(now);
        let in_window = self.arrivals.len() as u64;
        self.max_in_window = self.max_in_window.max(in_window);
        match self.cap {
            Some(cap) if in_window > u64::from(cap) => {
                self.refused += 1;
                Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "REQUEST_LIMIT_EXCEEDED",
                    "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                ))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_slides_and_the_cap_refuses_the_extra_call() {
        let start = Instant::now();
        let mut rate = CallRate::new(Some(2));
        let at = |ms| start + Duration::from_millis(ms);
        assert!(rate.arrive(at(0)).is_ok());
        assert!(rate.arrive(at(900)).is_ok());
        // Two calls in a second across a calendar second's edge still count together.
        assert!(rate.arrive(at(950)).is_err());
        assert_eq!(rate.max_in_window, 3);
        // A second after the first call, it no longer counts.
        assert!(
            rate.arrive(at(1_000)).is_err(),
            "900, 950 and 1000 share a second"
        );
        assert!(rate.arrive(at(1_960)).is_ok());
        assert_eq!(rate.refused, 2);
    }
}
