//! Exponential backoff with jitter for transient failures.

use std::time::Duration;

use rand::Rng;

const BASE: Duration = Duration::from_secs(1);
const CAP: Duration = Duration::from_secs(300);

/// Delay before attempt `attempts + 1`: 1 s, 2 s, 4 s … capped at 5 min, each drawn uniformly
/// from its upper half so that dynos that failed together do not retry together.
pub fn delay(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let ceiling = BASE.saturating_mul(1u32 << exp.min(16)).min(CAP);
    let fraction = rand::rng().random_range(0.5..=1.0);
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jittered_bounds_and_caps() {
        for (attempts, ceiling_secs) in [(1, 1.0), (2, 2.0), (3, 4.0), (9, 256.0), (12, 300.0)] {
            for _ in 0..50 {
                let d = delay(attempts).as_secs_f64();
                assert!(
                    d >= ceiling_secs / 2.0 && d <= ceiling_secs,
                    "{attempts}: {d}"
                );
            }
        }
    }
}
