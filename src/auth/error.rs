//! Why a caller was refused, and the RFC 6750 §3 challenge that says so. The answer itself is
//! rendered with every other error, by [`crate::error::ApiError`].

use axum::http::{HeaderValue, StatusCode};

use super::Scope;

/// The `realm` of every `WWW-Authenticate` challenge.
pub const REALM: &str = "sluice";

/// Variants up to `MissingClaim` mean "who are you?" (401); the rest "not allowed" (403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no Authorization header")]
    Missing,
    #[error("malformed bearer token")]
    Malformed,
    #[error("bad token signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token issuer not accepted")]
    WrongIssuer,
    #[error("token audience is not this hub")]
    WrongAudience,
    #[error("token signed by an unknown key")]
    UnknownKey,
    #[error("token algorithm not allowed")]
    AlgorithmNotAllowed,
    #[error("token lacks the {0} claim")]
    MissingClaim(&'static str),
    #[error("token lacks the {0} scope")]
    InsufficientScope(Scope),
    #[error("token may not write object {0}")]
    ObjectNotAllowed(String),
    #[error("token may not write source {0}")]
    SourceNotAllowed(String),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::InsufficientScope(_)
            | AuthError::ObjectNotAllowed(_)
            | AuthError::SourceNotAllowed(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// A stable, machine-readable name, sent as the problem's `code` member.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing_token",
            AuthError::Malformed => "malformed_token",
            AuthError::BadSignature => "bad_signature",
            AuthError::Expired => "token_expired",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::UnknownKey => "unknown_key",
            AuthError::AlgorithmNotAllowed => "algorithm_not_allowed",
            AuthError::MissingClaim(_) => "missing_claim",
            AuthError::InsufficientScope(_) => "insufficient_scope",
            AuthError::ObjectNotAllowed(_) => "object_not_allowed",
            AuthError::SourceNotAllowed(_) => "source_not_allowed",
        }
    }

    /// Fixed text, safe inside a quoted header parameter (no `"` or `\`, RFC 6750 §3).
    fn description(&self) -> &'static str {
        match self {
            AuthError::Missing => "The request has no bearer token.",
            AuthError::Malformed => "The bearer token is malformed.",
            AuthError::BadSignature => "The token signature does not verify.",
            AuthError::Expired => "The token has expired.",
            AuthError::NotYetValid => "The token is not valid yet.",
            AuthError::WrongIssuer => "The token issuer is not accepted.",
            AuthError::WrongAudience => "The token audience is not this service.",
            AuthError::UnknownKey => "The token names an unknown signing key.",
            AuthError::AlgorithmNotAllowed => "The token signing algorithm is not allowed.",
            AuthError::MissingClaim(_) => "The token lacks a required claim.",
            AuthError::InsufficientScope(_) => "The token lacks the scope this operation requires.",
            AuthError::ObjectNotAllowed(_) => "The token may not write this object.",
            AuthError::SourceNotAllowed(_) => "The token may not write for this source.",
        }
    }

    /// What the client is told: never key ids, configured issuers or library messages.
    pub fn detail(&self) -> String {
        match self {
            AuthError::MissingClaim(claim) => {
                format!("The token lacks the required {claim} claim.")
            }
            AuthError::InsufficientScope(scope) => {
                format!("This operation requires the {scope} scope.")
            }
            AuthError::ObjectNotAllowed(object) => {
                format!("The token may not write object {object:?}.")
            }
            AuthError::SourceNotAllowed(source) => {
                format!("The token may not write for source {source:?}.")
            }
            other => other.description().to_owned(),
        }
    }

    /// The challenge: no error code when no token was sent (RFC 6750 §3.1).
    pub fn www_authenticate(&self) -> HeaderValue {
        let challenge = match self {
            AuthError::Missing => format!("Bearer realm=\"{REALM}\""),
            AuthError::InsufficientScope(scope) => format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{}\", scope=\"{scope}\"",
                self.description()
            ),
            _ if self.status() == StatusCode::FORBIDDEN => format!(
                "Bearer realm=\"{REALM}\", error=\"insufficient_scope\", error_description=\"{}\"",
                self.description()
            ),
            _ => format!(
                "Bearer realm=\"{REALM}\", error=\"invalid_token\", error_description=\"{}\"",
                self.description()
            ),
        };
        HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
    }
}
