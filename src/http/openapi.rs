//! The OpenAPI document, built from the same route table as the router.

use utoipa::openapi::path::Operation;
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, ObjectBuilder, OpenApi as Document, Ref, RefOr, Response,
    ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

use crate::auth::{SECURITY_SCHEME_NAME, security_scheme};
use crate::error::PROBLEM_JSON;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sluice",
        description = "A data hub for Salesforce: records posted here are validated, normalized, \
            staged in Postgres and pushed to Salesforce in rate-limited batches.",
        license(name = "MIT"),
    ),
    modifiers(&BearerAuth, &WebhookSignatures),
    tags(
        (name = "records", description = "Ingest and read records"),
        (name = "failures", description = "Records Salesforce refused: list, retry, discard"),
        (name = "salesforce", description = "For Apex callouts: look up by Salesforce Id, push now, receive records Salesforce changed"),
        (name = "webhooks", description = "Events signed by external services (Stripe, GitHub, Shopify, generic HMAC): no bearer token, a signature over the raw body"),
        (name = "operations", description = "Metrics for Prometheus (sync:admin)"),
        (name = "health", description = "Liveness and readiness, without authentication"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(SECURITY_SCHEME_NAME, security_scheme());
    }
}

/// The schemes webhook senders sign with; a webhook operation names these, not the bearer one.
struct WebhookSignatures;

impl Modify for WebhookSignatures {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, scheme) in crate::sources::webhooks::security_schemes() {
            components.add_security_scheme(name, scheme);
        }
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document() -> Document {
    let mut doc = super::routes().split_for_parts().1;
    document_rate_limit(&mut doc);
    document_boundary_errors(&mut doc);
    doc
}

pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}

/// The operations that need a bearer token (`bearer_only`), or any credential (a signature too).
fn protected_operations(
    doc: &mut Document,
    bearer_only: bool,
) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(move |item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        .filter(move |op| match bearer_only {
            true => needs_bearer(op),
            false => op.security.as_ref().is_some_and(|s| !s.is_empty()),
        })
    })
}

/// Whether one of the operation's security requirements is the bearer token (utoipa keeps the
/// requirement's scheme names private; its JSON form shows them).
fn needs_bearer(op: &Operation) -> bool {
    serde_json::to_value(&op.security)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .is_some_and(|requirements| {
            requirements
                .iter()
                .any(|r| r.get(SECURITY_SCHEME_NAME).is_some())
        })
}

/// A problem+json answer.
fn problem(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
            .build(),
    )
}

/// Lists 429 under every operation that needs a token: the per-caller limit applies to all
/// (webhook senders have no token, so none applies to them).
fn document_rate_limit(doc: &mut Document) {
    let retry_after = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some("Seconds to wait"))
        .build();
    let response: Response =
        problem("Too many requests from this caller; retry after `Retry-After` seconds")
            .header("Retry-After", retry_after)
            .build();
    for operation in protected_operations(doc, true) {
        operation
            .responses
            .responses
            .entry("429".into())
            .or_insert_with(|| RefOr::T(response.clone()));
    }
}

/// Adds to each protected operation the answers the boundary gives whatever the handler: 400
/// for a path, query or body that does not parse, 413 and 415 for a body too large or of another
/// type, 503 when the request outlives `SLUICE_REQUEST_TIMEOUT_SECS` or the database is
/// unreachable.
fn document_boundary_errors(doc: &mut Document) {
    for operation in protected_operations(doc, false) {
        let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
        let has_body = operation.request_body.is_some();
        let mut answers = Vec::new();
        if has_params || has_body {
            answers.push(("400", "The path, query or body does not parse"));
        }
        if has_body {
            answers.push(("413", "Body too large"));
            answers.push(("415", "Content-Type is not one the operation takes"));
        }
        answers.push(("503", "Timed out, or the database is unavailable; retry"));
        for (status, description) in answers {
            operation
                .responses
                .responses
                .entry(status.into())
                .or_insert_with(|| RefOr::T(problem(description).build()));
        }
    }
}
