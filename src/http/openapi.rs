//! The OpenAPI document, built from the same route table as the router.

use utoipa::Modify;
use utoipa::OpenApi;
use utoipa::openapi::security::SecurityScheme;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sluice",
        description = "A data hub for Salesforce: records posted here are validated, normalized, \
            staged in Postgres and pushed to Salesforce in rate-limited batches.",
        license(name = "MIT"),
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "records", description = "Ingest and read records"),
        (name = "failures", description = "Records Salesforce refused: list, retry, discard"),
        (name = "salesforce", description = "For Apex callouts: look up by Salesforce Id, push now, receive records Salesforce changed"),
        (name = "operations", description = "Metrics for Prometheus (sync:admin)"),
        (name = "health", description = "Liveness and readiness, without authentication"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme: SecurityScheme = crate::auth::security_scheme();
        components.add_security_scheme("bearer", scheme);
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = super::routes().split_for_parts().1;
    super::limits::document_rate_limit(&mut doc);
    super::rejections::document_boundary_errors(&mut doc);
    doc
}

pub fn document_json() -> String {
    let mut json = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    json.push('\n');
    json
}
