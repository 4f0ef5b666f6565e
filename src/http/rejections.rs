//! The API's boundary, made whole: rejections written by axum's own extractors (a query string or
//! path segment that does not parse) become problem+json like every other error, and the OpenAPI
//! document lists the errors the boundary can give on every operation.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use super::{FieldProblem, PROBLEM_JSON, Problem};

/// A `text/plain` 4xx under `/v1/` can only come from an axum extractor's rejection: it is
/// answered as problem+json naming the part of the request at fault.
pub async fn plain_rejections_as_problems(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/v1/");
    let response = next.run(req).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    if !api || !plain || !status.is_client_error() {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let field = if text.starts_with("Failed to deserialize query string") {
        "query"
    } else if text.starts_with("Invalid URL") || text.contains("path") {
        "path"
    } else {
        "request"
    };
    let problem = Problem {
        kind: "https://sluice.dev/problems/invalid-request".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: format!("{field}: {text}"),
        errors: vec![FieldProblem {
            index: None,
            external_id: None,
            field: field.into(),
            salesforce_field: None,
            rule: "format".into(),
            message: text,
        }],
    };
    let mut response = (status, Json(problem)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

/// Adds to each operation the answers the boundary gives whatever the handler: 400 for a path,
/// query or body that does not parse, 413 and 415 for a body too large or of another type, 503
/// when the request outlives `SLUICE_REQUEST_TIMEOUT_SECS` or the database is unreachable.
pub fn document_boundary_errors(doc: &mut OpenApi) {
    let problem = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    PROBLEM_JSON,
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                        .build(),
                )
                .build(),
        )
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            if operation.security.as_ref().is_none_or(|s| s.is_empty()) {
                continue;
            }
            let add = |op: &mut Operation, status: &str, description: &str| {
                op.responses
                    .responses
                    .entry(status.into())
                    .or_insert_with(|| problem(description));
            };
            let has_params = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
            if has_params || operation.request_body.is_some() {
                add(operation, "400", "The path, query or body does not parse");
            }
            if operation.request_body.is_some() {
                add(operation, "413", "Body too large");
                add(
                    operation,
                    "415",
                    "Content-Type is not one the operation takes",
                );
            }
            add(
                operation,
                "503",
                "Timed out, or the database is unavailable; retry",
            );
        }
    }
}
