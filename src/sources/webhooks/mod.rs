//! Signed webhooks: `POST /v1/webhooks/{source}`. External services authenticate by signing the
//! raw body (Stripe, GitHub, Shopify, or a generic HMAC scheme), not with a bearer token.
//!
//! An event is accepted in one transaction: its id is claimed in `webhook_events` (the dedupe),
//! the records its type makes are staged through the source's mappings, and the raw body is kept
//! beside what it made. So an event answered 2xx is never lost and never half-staged, a replayed
//! event is answered 200 and stored once, and a crash before the commit answers nothing, which
//! every one of these senders retries. Records the mapping refuses do not fail the event: the
//! sender cannot fix a mapping, and a 4xx would only make it retry for days and then disable
//! the endpoint; they are counted, logged and kept on the event for operators.

mod event;
pub mod events;
pub mod receive;
pub mod verify;

pub use receive::{WebhookAnswer, WebhookStatus, receive_webhook};

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};

/// The OpenAPI security schemes of webhook senders, by name: any one of them authenticates.
pub fn security_schemes() -> Vec<(&'static str, SecurityScheme)> {
    let scheme = |header: &str, what: &str| {
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(header, what)))
    };
    vec![
        (
            "stripe_signature",
            scheme(
                "Stripe-Signature",
                "Stripe's scheme: `t=<unix time>,v1=<hex HMAC-SHA256 of \"{t}.{raw body}\">` with one of the source's secrets; `t` within the source's tolerance (default 300 s).",
            ),
        ),
        (
            "github_signature",
            scheme(
                "X-Hub-Signature-256",
                "GitHub's scheme: `sha256=<hex HMAC-SHA256 of the raw body>`; the event id is `X-GitHub-Delivery`, its type `X-GitHub-Event`.",
            ),
        ),
        (
            "shopify_signature",
            scheme(
                "X-Shopify-Hmac-Sha256",
                "Shopify's scheme: the base64 HMAC-SHA256 of the raw body with the app's client secret; the event id is `X-Shopify-Event-Id`, its type `X-Shopify-Topic`.",
            ),
        ),
        (
            "hmac_signature",
            scheme(
                "X-Signature",
                "A generic HMAC scheme whose header, algorithm (SHA-256 or SHA-512), encoding, prefix and signed content the source's mapping file declares.",
            ),
        ),
    ]
}
