//! The error shapes Salesforce answers with: REST arrays, per-record errors and OAuth errors.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

/// A request-level REST error, rendered as `[{"message","errorCode","fields"?}]` (docs/salesforce.md §2.2, §7.1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: None,
        }
    }

    pub fn with_fields(mut self, fields: Vec<String>) -> Self {
        self.fields = Some(fields);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
    }

    /// Doc §3: more than 200 records or ids in one collections call.
    pub fn exceeded_id_limit() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "EXCEEDED_ID_LIMIT",
            "record limit reached. cannot submit more than 200 records into this call",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.fields {
            Some(fields) => {
                json!([{"message": self.message, "errorCode": self.code, "fields": fields}])
            }
            None => json!([{"message": self.message, "errorCode": self.code}]),
        };
        (self.status, axum::Json(body)).into_response()
    }
}

/// A per-record error inside a 200 collections result or a Bulk `sf__Error` cell (docs/salesforce.md §3, §5.3).
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[error("{status_code}: {message}")]
pub struct RecordError {
    #[serde(rename = "statusCode")]
    pub status_code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl RecordError {
    pub fn new(status_code: &'static str, message: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            status_code,
            message: message.into(),
            fields,
        }
    }

    pub fn on(status_code: &'static str, message: impl Into<String>, field: &str) -> Self {
        Self::new(status_code, message, vec![field.to_string()])
    }

    /// Doc §3: the collateral error for rows of a failed allOrNone request.
    pub fn rolled_back() -> Self {
        Self::new(
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "Record rolled back because not all records were valid and the request was using AllOrNone header",
            vec![],
        )
    }

    /// Doc §5.3: `STATUS_CODE:message:fields --`.
    pub fn bulk_cell(&self) -> String {
        format!(
            "{}:{}:{} --",
            self.status_code,
            self.message,
            self.fields.join(",")
        )
    }
}

/// An OAuth token endpoint error: 400, `{"error","error_description"}`, `Cache-Control: no-store` (docs/salesforce.md §1.1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}: {description}")]
pub struct OAuthError {
    pub error: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    pub fn grant(description: &'static str) -> Self {
        Self {
            error: "invalid_grant",
            description,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut res = (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}
