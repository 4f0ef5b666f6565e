//! Authentication of callers of the hub API (bearer JWTs).
//!
//! Internal systems and Salesforce Apex (Named Credential with the JWT protocol, RS256, two
//! minute tokens) send `Authorization: Bearer <jwt>`. [`AuthConfig`] reads the accepted keys,
//! issuers and audience from `SLUICE_AUTH_KEYS`; [`Authenticator::verify`] turns a token into a
//! [`Caller`], which handlers also get by extracting it (the state must provide an
//! [`Authenticator`] through `FromRef`). Refusals are [`AuthError`]s: 401 or 403 with a
//! `WWW-Authenticate` challenge and an `application/problem+json` body.

mod caller;
mod config;
mod error;
mod keys;
mod scopes;
pub mod testing;
mod verify;

#[cfg(test)]
mod tests;

pub use caller::{Caller, bearer_token};
pub use config::{
    AUTH_KEYS_VAR, AuthConfig, AuthConfigError, DEFAULT_LEEWAY_SECONDS, MAX_LEEWAY_SECONDS,
    MIN_HMAC_SECRET_BYTES,
};
pub use error::{AuthError, REALM};
pub use keys::KeyProblem;
pub use scopes::{Allowed, Scope, Scopes, UnknownScope};
pub use verify::Authenticator;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The name under which [`security_scheme`] is registered in the OpenAPI document.
pub const SECURITY_SCHEME_NAME: &str = "bearer";

/// HTTP bearer authentication with a JWT, for the OpenAPI document's components.
pub fn security_scheme() -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some("A JWT signed with a key listed in SLUICE_AUTH_KEYS."))
            .build(),
    )
}
