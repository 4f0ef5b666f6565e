//! The receiving route: verify, read, deduplicate and stage one event in one transaction.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::event::identify;
use super::events;
use super::verify::verify;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, RawBody};
use crate::sources::metrics;
use crate::sources::{Intake, stage_payloads};
use crate::state::AppState;

/// What became of the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Its records went through the source's mappings (see the counts).
    Processed,
    /// No object of the source takes this event type: nothing to do.
    Ignored,
    /// This event was accepted before: nothing was done again.
    Duplicate,
}

/// The answer to a webhook delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookAnswer {
    pub source: String,
    pub event_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    pub status: WebhookStatus,
    /// What its records became (absent for an ignored or duplicate event).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub intake: Option<Intake>,
}

/// Receive a signed event.
///
/// The signature is checked over the raw body with the source's secrets (any of them, during a
/// rotation) before anything is read; a missing or bad signature, or a signed timestamp outside
/// the tolerance, is answered 401 without saying which, and nothing is stored. The event is
/// stored once per id: a replayed event is answered 200 with status `duplicate`. Its type picks
/// the objects it makes (`on` in the mapping); an event of a type no object takes is answered 200
/// with status `ignored`. Records the mapping refuses are listed in `errors` and kept with the
/// event for operators; the delivery is still answered 200 since a retry could not change them.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{source}",
    tag = "webhooks",
    params(("source" = String, Path, description = "The sending source, as its mapping file names it, e.g. `stripe`")),
    request_body(
        content = Object, content_type = "application/json",
        description = "The event exactly as the service sends it (the signature covers these bytes)",
        example = json!({"id": "evt_1Q", "type": "invoice.paid", "created": 1765000000, "data": {"object": {"id": "in_1", "number": "F-2026-001", "amount_paid": 12350, "currency": "eur", "customer": "cus_9", "customer_name": "Dupont SA"}}}),
    ),
    responses(
        (status = 200, description = "Accepted (processed, ignored or duplicate)", body = WebhookAnswer),
        (status = 400, description = "Signed, but not a JSON object, or without an event id", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "The signature is missing, matches no secret of the source, or is too old; nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Signed, but not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Database unavailable; the sender retries", body = Problem, content_type = "application/problem+json"),
    ),
    security(("stripe_signature" = []), ("github_signature" = []), ("shopify_signature" = []), ("hmac_signature" = []))
)]
pub async fn receive_webhook(
    State(state): State<AppState>,
    ApiPath(source): ApiPath<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let refused = |reason: String| {
        tracing::warn!(source = %source, reason, "webhook refused: bad signature");
        metrics::webhook_event(&source, "refused");
        ApiError::BadSignature
    };
    let Some(hook) = state.webhooks.get(&source) else {
        return Err(refused("no webhook source of this name".into()));
    };
    let now = chrono::Utc::now().timestamp();
    verify(hook, &headers, &body, now).map_err(|e| refused(e.to_string()))?;
    // From here on the sender is who it says: its mistakes are named.
    json_content_type(&headers)?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("body", "json", format!("not valid JSON: {e}")))?;
    if !event.is_object() {
        return Err(ApiError::bad_request(
            "body",
            "type",
            "expected a JSON object (one event)",
        ));
    }
    let meta = identify(hook, &headers, &event)?;
    let mut tx = state.pool.begin().await?;
    let answer = |status, intake| WebhookAnswer {
        source: source.clone(),
        event_id: meta.id.clone(),
        event_type: meta.event_type.clone(),
        status,
        intake,
    };
    if !events::claim(&mut tx, &source, &meta.id, meta.event_type.as_deref()).await? {
        tx.rollback().await?;
        tracing::info!(source = %source, event_id = %meta.id, "webhook event already accepted");
        metrics::webhook_event(&source, "duplicate");
        return Ok(Json(answer(WebhookStatus::Duplicate, None)));
    }
    let intake = stage_payloads(
        &mut tx,
        &state.mappings,
        &state.describes,
        &source,
        meta.event_type.as_deref(),
        std::slice::from_ref(&event),
    )
    .await?;
    events::finish(&mut tx, &source, &meta.id, &body, intake.as_ref()).await?;
    tx.commit().await?;
    let status = match &intake {
        Some(_) => WebhookStatus::Processed,
        None => WebhookStatus::Ignored,
    };
    let (staged, rejected) = intake.as_ref().map_or((0, 0), |i| (i.staged, i.rejected));
    tracing::info!(source = %source, event_id = %meta.id, event_type = meta.event_type.as_deref().unwrap_or(""),
        status = ?status, staged, rejected, "webhook event accepted");
    metrics::webhook_event(
        &source,
        match status {
            WebhookStatus::Ignored => "ignored",
            _ => "processed",
        },
    );
    Ok(Json(answer(status, intake)))
}

fn json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return Ok(());
    }
    Err(ApiError::UnsupportedMediaType(format!(
        "Content-Type must be application/json (choose JSON in the sender's webhook settings), got {content_type:?}"
    )))
}
