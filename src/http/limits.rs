//! Abuse limits: a request rate per caller, and CORS for the browser origins that are configured.
//!
//! The rate is counted per `issuer|subject` of a verified token, with GCRA from the `governor`
//! crate, in this process only: with N dynos a caller gets up to N times the rate. Requests without
//! a valid token are not counted here; the route's `Caller` extractor refuses them with 401.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{Authenticator, bearer_token};
use crate::config::RateLimitConfig;
use crate::error::ApiError;

/// Past this many tracked callers, callers whose allowance is full again are forgotten.
const MAX_TRACKED_CALLERS: usize = 10_000;

/// The per-caller limiter and what it needs to know who is calling.
#[derive(Clone)]
pub struct CallerLimits {
    authenticator: Authenticator,
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl CallerLimits {
    pub fn new(authenticator: Authenticator, cfg: RateLimitConfig) -> Self {
        let per_second = NonZeroU32::new(cfg.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(cfg.burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            authenticator,
            limiter: Arc::new(RateLimiter::keyed(quota)),
        }
    }

    /// `Some(wait)` when `key` has spent its allowance.
    fn check(&self, key: &String) -> Option<Duration> {
        if self.limiter.len() > MAX_TRACKED_CALLERS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .err()
            .map(|not_until| not_until.wait_time_from(self.limiter.clock().now()))
    }
}

/// Answers 429 with `Retry-After` when the verified caller is over its rate.
///
/// The token is verified here and again by the handler's extractor: one more signature check per
/// request, so that a forged token can never spend another caller's allowance.
pub async fn limit_callers(
    State(limits): State<CallerLimits>,
    req: Request,
    next: Next,
) -> Response {
    let caller = bearer_token(req.headers())
        .ok()
        .and_then(|token| limits.authenticator.verify(token).ok());
    if let Some(caller) = caller {
        let key = format!("{}|{}", caller.issuer, caller.subject);
        if let Some(wait) = limits.check(&key) {
            // Whole seconds, rounded up (RFC 9110 §10.2.3): never "retry after 0".
            let retry_after_secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            return ApiError::TooManyRequests {
                retry_after_secs: retry_after_secs.max(1),
            }
            .into_response();
        }
    }
    next.run(req).await
}

/// Every method the API's routes use (the OpenAPI document is checked against this in tests).
pub const API_METHODS: [Method; 3] = [Method::GET, Method::POST, Method::DELETE];

/// CORS for the configured origins only; `None` (no CORS headers at all) when none are.
pub fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods(API_METHODS)
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_caller_over_its_burst_waits_and_others_do_not() {
        let cfg = crate::auth::testing::hs256_config("0123456789abcdef0123456789abcdef");
        let limits = CallerLimits::new(
            Authenticator::new(cfg),
            RateLimitConfig {
                per_second: 1,
                burst: 2,
            },
        );
        let (a, b) = ("iss|a".to_owned(), "iss|b".to_owned());
        assert_eq!(limits.check(&a), None);
        assert_eq!(limits.check(&a), None);
        let wait = limits.check(&a).expect("over the burst");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert_eq!(limits.check(&b), None);
    }
}
