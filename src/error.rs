//! The one error type at the HTTP boundary and its one renderer, `application/problem+json`
//! (RFC 9457).
//!
//! Every refusal the API gives goes through [`ApiError`]: handlers return it, the extractors in
//! [`crate::extract`] wrap axum's rejections in it, the middleware answers timeouts with it, and
//! a refused token ([`AuthError`]) is one of its variants. Internal causes are carried to the
//! logging middleware ([`FailureCause`]) and logged once inside the request's span; clients get a
//! short, stable description that names the field at fault and never internals.

mod problem;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub use problem::{FieldProblem, PROBLEM_JSON, Problem};

use crate::auth::AuthError;

/// Everything a handler can answer with besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A webhook whose signature does not verify; which part failed is logged, never answered.
    #[error("the request's signature could not be verified")]
    BadSignature,
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
    #[error("the request took longer than {secs} s; retry")]
    Timeout { secs: u64 },
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// The ingest inbox holds more records than `SLUICE_INBOX_MAX_RECORDS`: the merge into
    /// staging is behind the senders.
    #[error(
        "the ingest inbox holds about {depth} records not staged yet, more than its limit of {max} \
         (SLUICE_INBOX_MAX_RECORDS); nothing of this request was stored; retry later"
    )]
    InboxFull { depth: i64, max: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(field: &str, rule: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            detail: format!("{field}: {message}"),
            errors: vec![FieldProblem::new(field, rule, message)],
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Auth(e) => e.status(),
            Self::BadSignature => StatusCode::UNAUTHORIZED,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::AllRejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Timeout { .. } | Self::Unavailable(_) | Self::InboxFull { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Auth(e) if e.status() == StatusCode::FORBIDDEN => "forbidden",
            Self::Auth(_) => "unauthorized",
            Self::BadSignature => "invalid-signature",
            Self::BadRequest { .. } => "invalid-request",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::PayloadTooLarge { .. } => "payload-too-large",
            Self::NotFound(_) => "not-found",
            Self::MethodNotAllowed => "method-not-allowed",
            Self::Conflict(_) => "conflict",
            Self::AllRejected { .. } => "records-rejected",
            Self::TooManyRequests { .. } => "rate-limited",
            Self::Timeout { .. } => "timeout",
            Self::Unavailable(_) => "unavailable",
            Self::InboxFull { .. } => "inbox-full",
            Self::Internal(_) => "internal",
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        let detail = match self {
            Self::Auth(e) => e.detail(),
            Self::Unavailable(_) => "the hub cannot reach its database; retry later".into(),
            Self::Internal(_) => "the hub failed to handle this request; retry later".into(),
            other => other.to_string(),
        };
        let errors = match self {
            Self::BadRequest { errors, .. } | Self::AllRejected { errors } => errors.clone(),
            Self::PayloadTooLarge { .. } => vec![FieldProblem::new("body", "too_large", &detail)],
            _ => Vec::new(),
        };
        Problem {
            kind: format!("https://sluice.dev/problems/{}", self.kind()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: match self {
                Self::Auth(e) => Some(e.code()),
                _ => None,
            },
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
            // The server is going away or not up yet (a restart, a failover: class 57P, "operator
            // intervention"), or the connection broke (class 08): nothing the request did wrong.
            // https://www.postgresql.org/docs/current/errcodes-appendix.html
            sqlx::Error::Database(ref db)
                if db
                    .code()
                    .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
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
            // A 401 names how to authenticate (RFC 9110 §11.6.1): here, by signing the body.
            Self::BadSignature => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Signature realm=\"sluice-webhooks\""),
                );
            }
            Self::Unavailable(_) | Self::Timeout { .. } | Self::InboxFull { .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            Self::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        // Logged once by the `log_failures` middleware, inside the request's span.
        let cause = match self {
            Self::Internal(e) => Some(format!("{e:#}")),
            Self::Unavailable(e) => Some(e.to_string()),
            Self::Timeout { secs } => Some(format!("handler did not answer within {secs} s")),
            _ => None,
        };
        if let Some(cause) = cause {
            response.extensions_mut().insert(FailureCause(cause));
        }
        response
    }
}

/// A refused token is answered like every other error (401 or 403 with its challenge).
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::Auth(self).into_response()
    }
}

/// The internal cause of a 5xx answer, carried to the logging middleware; never sent to clients.
#[derive(Debug, Clone)]
pub struct FailureCause(pub String);
