//! What a verified event is: its id (the dedupe key) and its type (which objects take it), read
//! where its scheme puts them.

use axum::http::HeaderMap;
use serde_json::Value;

use crate::config::webhooks::{Locator, Scheme, WebhookSource};
use crate::error::ApiError;
use crate::staging::MAX_EXTERNAL_ID_LEN;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    pub id: String,
    pub event_type: Option<String>,
}

/// Reads the event's id and type; a missing id is the sender's error, named.
pub fn identify(
    hook: &WebhookSource,
    headers: &HeaderMap,
    body: &Value,
) -> Result<EventMeta, ApiError> {
    let (id_at, type_at) = match &hook.scheme {
        Scheme::Stripe => (
            Locator::Body("id".into()),
            Some(Locator::Body("type".into())),
        ),
        Scheme::GitHub => (
            Locator::Header("x-github-delivery".into()),
            Some(Locator::Header("x-github-event".into())),
        ),
        // The event id is the same on every delivery of one event, whatever the subscription;
        // older deliveries carry only the webhook id, which is the same on every retry.
        Scheme::Shopify => match headers.contains_key("x-shopify-event-id") {
            true => (
                Locator::Header("x-shopify-event-id".into()),
                Some(Locator::Header("x-shopify-topic".into())),
            ),
            false => (
                Locator::Header("x-shopify-webhook-id".into()),
                Some(Locator::Header("x-shopify-topic".into())),
            ),
        },
        Scheme::Hmac(h) => (h.id.clone(), h.event_type.clone()),
    };
    let id = read(&id_at, headers, body).ok_or_else(|| missing(&id_at, "the event's id"))?;
    if id.chars().count() > MAX_EXTERNAL_ID_LEN {
        return Err(ApiError::bad_request(
            &place(&id_at),
            "too_long",
            format!("an event id is at most {MAX_EXTERNAL_ID_LEN} characters"),
        ));
    }
    let mut event_type = type_at.as_ref().and_then(|at| read(at, headers, body));
    // GitHub names the event in a header and what happened in the body: `issues` + `opened`.
    if let (Scheme::GitHub, Some(t)) = (&hook.scheme, &event_type)
        && let Some(action) = body.get("action").and_then(Value::as_str)
    {
        event_type = Some(format!("{t}.{action}"));
    }
    Ok(EventMeta { id, event_type })
}

fn read(at: &Locator, headers: &HeaderMap, body: &Value) -> Option<String> {
    let text = match at {
        Locator::Header(name) => headers.get(name.as_str())?.to_str().ok()?.to_owned(),
        Locator::Body(path) => match crate::normalize::path::get(body, path)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        },
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

fn place(at: &Locator) -> String {
    match at {
        Locator::Header(name) => format!("header {name}"),
        Locator::Body(path) => format!("body.{path}"),
    }
}

fn missing(at: &Locator, what: &str) -> ApiError {
    ApiError::bad_request(&place(at), "required", format!("{what} is required"))
}
