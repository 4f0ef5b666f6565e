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
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};

use super::{ApiError, PROBLEM_JSON};
use crate::auth::{Authenticator, bearer_token};
use crate::config::RateLimitConfig;

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
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
            ])
            .expose_headers([header::RETRY_AFTER, HeaderName::from_static("x-request-id")])
            .max_age(Duration::from_secs(600)),
    )
}

/// Parses `SLUICE_CORS_ORIGINS`: comma-separated `scheme://host[:port]` origins, no paths.
pub fn parse_cors_origins(list: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if raw == "*" {
            return Err("\"*\" is not allowed: list the origins".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not an origin: {e}"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
            return Err(format!(
                "{raw:?} is not an origin (scheme://host[:port], no path)"
            ));
        }
        origins.push(url.origin().ascii_serialization());
    }
    Ok(origins)
}

/// Lists 429 under every operation that needs a token: the limit applies to all of them.
pub fn document_rate_limit(doc: &mut OpenApi) {
    let response = ResponseBuilder::new()
        .description("Too many requests from this caller; retry after `Retry-After` seconds")
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "Problem",
                ))))
                .build(),
        )
        .header(
            "Retry-After",
            utoipa::openapi::HeaderBuilder::new()
                .schema(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::Integer),
                )
                .description(Some("Seconds to wait"))
                .build(),
        )
        .build();
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                operation
                    .responses
                    .responses
                    .entry("429".into())
                    .or_insert_with(|| RefOr::T(response.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_are_bare_origins() {
        assert_eq!(
            parse_cors_origins(" https://app.example.com, http://localhost:3000 ,").unwrap(),
            ["https://app.example.com", "http://localhost:3000"]
        );
        for bad in [
            "*",
            "https://app.example.com/path",
            "ftp://x.example",
            "app.example.com",
        ] {
            assert!(parse_cors_origins(bad).is_err(), "{bad}");
        }
    }

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
