//! Token minting for integration tests, the dev run script and the `sluice token` dev command.
//!
//! Everything here signs with HS256 and a shared secret; never use it for a production caller.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::AuthConfig;

pub const TEST_ISSUER: &str = "sluice-tests";
pub const TEST_AUDIENCE: &str = "sluice";
pub const TEST_SUBJECT: &str = "test-client";

/// A config with one HS256 key (no `kid`), issuer [`TEST_ISSUER`] and audience [`TEST_AUDIENCE`].
///
/// # Panics
/// If `secret` is shorter than [`super::MIN_HMAC_SECRET_BYTES`].
pub fn hs256_config(secret: &str) -> AuthConfig {
    let json = json!({
        "keys": [{"alg": "HS256", "secret": secret}],
        "issuers": [TEST_ISSUER],
        "audience": TEST_AUDIENCE,
    });
    AuthConfig::from_json(&json.to_string()).expect("a test HS256 secret of at least 32 bytes")
}

/// Signs `claims` as they are, so tests can also mint wrong tokens.
pub fn mint_hs256(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing does not fail")
}

/// Claims [`hs256_config`] accepts: valid five minutes, every source and object allowed.
pub fn default_claims(scopes: &str) -> Value {
    json!({
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "sub": TEST_SUBJECT,
        "iat": now(),
        "exp": now() + 300,
        "scope": scopes,
        "sluice_sources": ["*"],
        "sluice_objects": ["*"],
    })
}

/// A token for a dev config whose HS256 key is `cfg_secret` and which lists [`TEST_ISSUER`].
pub fn mint_token(cfg_secret: &str, sub: &str, scopes: &str, ttl: Duration) -> String {
    let mut claims = default_claims(scopes);
    claims["sub"] = json!(sub);
    claims["exp"] = json!(now().saturating_add(ttl.as_secs()));
    mint_hs256(cfg_secret, claims)
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// What `sluice token` puts in a dev token.
pub struct MintRequest<'a> {
    pub secret: &'a str,
    pub kid: Option<&'a str>,
    pub issuer: &'a str,
    pub audience: &'a str,
    pub subject: &'a str,
    pub scopes: &'a str,
    pub ttl: Duration,
}

/// An HS256 token for a caller allowed every source and object.
pub fn mint(req: &MintRequest<'_>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = req.kid.map(str::to_owned);
    let claims = json!({
        "iss": req.issuer,
        "aud": req.audience,
        "sub": req.subject,
        "iat": now(),
        "exp": now().saturating_add(req.ttl.as_secs()),
        "scope": req.scopes,
        "sluice_sources": ["*"],
        "sluice_objects": ["*"],
    });
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(req.secret.as_bytes()),
    )
    .expect("HS256 signing does not fail")
}
