//! The one error type at the HTTP boundary, rendered as `application/problem+json` (RFC 9457).
//!
//! Internal causes are logged once, here, inside the request's span; clients get a short,
//! stable description that names the field at fault and never internals.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One thing wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// Index of the record in the request's array, when the problem is in one record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The record's external id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The field at fault as the sender named it (`body` for the request as a whole).
    pub field: String,
    /// The Salesforce field concerned, when the problem is with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_field: Option<String>,
    /// A machine-readable rule name, e.g. `required`, `type`, `too_long`.
    pub rule: String,
    /// What is wrong, for a person.
    pub message: String,
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The problems with individual fields or records.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}

/// Everything a handler can answer with besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldProblem>,
    },
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("request body larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    NotFound(String),
    #[error("this route does not take this method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error("every record was rejected")]
    AllRejected { errors: Vec<FieldProblem> },
    #[error("too many requests from this caller; retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(field: &str, rule: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldProblem {
                index: None,
                external_id: None,
                field: field.into(),
                salesforce_field: None,
                rule: rule.into(),
                message,
            }],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Auth(e) => e.status(),
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::AllRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Auth(_) => "unauthorized",
            Self::BadRequest { .. } => "invalid-request",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::AllRejected { .. } => "records-rejected",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Auth(e) => e.detail().to_owned(),
            Self::Unavailable(_) => "the hub cannot reach its database; retry later".into(),
            Self::Internal(_) => "the hub failed to handle this request; retry later".into(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::BadRequest { errors, .. } | Self::AllRejected { errors } => errors.clone(),
            Self::PayloadTooLarge { .. } => vec![FieldProblem {
                index: None,
                external_id: None,
                field: "body".into(),
                salesforce_field: None,
                rule: "too_large".into(),
                message: detail.clone(),
            }],
            _ => Vec::new(),
        };
        Problem {
            kind: format!("https://sluice.dev/problems/{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable(e)
            }
            // PostgreSQL cannot store U+0000 in `text` or `jsonb` (22P05 untranslatable_character,
            // 22021 character_not_in_repertoire): the input is at fault, not the hub.
            // https://www.postgresql.org/docs/current/datatype-json.html
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("22P05" | "22021")) =>
            {
                Self::bad_request(
                    "input",
                    "nul_character",
                    "text may not contain the NUL character (U+0000)",
                )
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.problem())).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        match &self {
            Self::Auth(e) => {
                headers.insert(header::WWW_AUTHENTICATE, e.www_authenticate());
            }
            Self::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        // Logged once by the `log_failures` middleware, inside the request's span.
        match self {
            Self::Internal(e) => {
                response
                    .extensions_mut()
                    .insert(FailureCause(format!("{e:#}")));
            }
            Self::Unavailable(e) => {
                response
                    .extensions_mut()
                    .insert(FailureCause(e.to_string()));
            }
            _ => {}
        }
        response
    }
}

/// The internal cause of a 5xx answer, carried to the logging middleware; never sent to clients.
#[derive(Debug, Clone)]
pub struct FailureCause(pub String);
