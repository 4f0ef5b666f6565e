//! The authenticated caller of a request, and the axum extractor that produces it.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::Deserialize;

use super::{Allowed, AuthError, Authenticator, Scope, Scopes};

/// Who is calling and what the token allows. Extract it in a handler to require a valid token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `sub`: for Salesforce Named Credentials, what the credential was set up with.
    pub subject: String,
    pub issuer: String,
    pub scopes: Scopes,
    /// From `sluice_sources`: absent allows no source, `["*"]` every source.
    pub sources: Allowed,
    /// From `sluice_objects`: absent allows no object, `["*"]` every object.
    pub objects: Allowed,
}

impl Caller {
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        match self.scopes.contains(scope) {
            true => Ok(()),
            false => Err(AuthError::InsufficientScope(scope)),
        }
    }

    /// Whether the token lists this Salesforce object (API name, any case). Scopes are checked
    /// separately with [`Caller::require`].
    pub fn may_write_object(&self, object: &str) -> Result<(), AuthError> {
        match self.objects.allows(object) {
            true => Ok(()),
            false => Err(AuthError::ObjectNotAllowed(object.to_owned())),
        }
    }

    pub fn may_write_source(&self, source: &str) -> Result<(), AuthError> {
        match self.sources.allows(source) {
            true => Ok(()),
            false => Err(AuthError::SourceNotAllowed(source.to_owned())),
        }
    }

    pub(super) fn from_claims(claims: Claims) -> Result<Self, AuthError> {
        let subject = claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(AuthError::MissingClaim("sub"))?;
        let issuer = claims.iss.ok_or(AuthError::MissingClaim("iss"))?;
        let scopes = [claims.scope.map(Names::Text), claims.scp]
            .into_iter()
            .flatten()
            .flat_map(Names::into_vec)
            .filter_map(|name| name.parse().ok())
            .collect();
        Ok(Caller {
            subject,
            issuer,
            scopes,
            sources: Allowed::from_claim(claims.sluice_sources.map(Names::into_vec)),
            objects: Allowed::from_claim(claims.sluice_objects.map(Names::into_vec)),
        })
    }
}

/// The claims read after `jsonwebtoken` has checked the registered ones; a claim of the wrong
/// JSON type makes the token malformed.
#[derive(Deserialize)]
pub(super) struct Claims {
    sub: Option<String>,
    iss: Option<String>,
    scope: Option<String>,
    scp: Option<Names>,
    sluice_sources: Option<Names>,
    sluice_objects: Option<Names>,
}

/// A list claim, as a JSON array or as one space-separated string: OAuth servers send `scp`
/// both ways, and issuers such as Salesforce's External Credentials may only set string claims.
#[derive(Deserialize)]
#[serde(untagged)]
enum Names {
    List(Vec<String>),
    Text(String),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Names::List(names) => names,
            Names::Text(text) => text.split_ascii_whitespace().map(str::to_owned).collect(),
        }
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme in any case, RFC 6750 §2.1).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(match headers.contains_key(AUTHORIZATION) {
            true => AuthError::Malformed,
            false => AuthError::Missing,
        });
    };
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim())
        }
        _ => Err(AuthError::Malformed),
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Authenticator: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)?;
        Authenticator::from_ref(state).verify(token)
    }
}
