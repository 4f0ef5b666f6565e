//! `SLUICE_AUTH_KEYS`: the accepted keys, issuers, audience and clock leeway.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;

use super::keys::{KeyProblem, RawKey, VerifyingKey};

/// The environment variable holding the JSON described on [`AuthConfig`].
pub const AUTH_KEYS_VAR: &str = "SLUICE_AUTH_KEYS";
/// The shortest HMAC secret accepted (RFC 7518 §3.2: at least the hash size).
pub const MIN_HMAC_SECRET_BYTES: usize = 32;
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;
/// Salesforce Named Credential JWTs live two minutes; more skew than this hides broken clocks.
pub const MAX_LEEWAY_SECONDS: u64 = 60;

/// Who may call the hub: verification keys, accepted issuers, the audience and clock leeway.
///
/// Read from [`AUTH_KEYS_VAR`] (`SLUICE_AUTH_KEYS`), a JSON document:
///
/// ```json
/// {
///   "keys": [
///     {"kid": "internal-2026", "alg": "HS256", "secret": "at least 32 bytes of random text......"},
///     {"kid": "sf-nc", "alg": "RS256", "public_key_pem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"},
///     {"alg": "ES256", "public_key_pem": "-----BEGIN PUBLIC KEY-----\n...\n-----END PUBLIC KEY-----\n"},
///     {"jwks": {"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "n": "...", "e": "AQAB"}]}}
///   ],
///   "issuers": ["https://my-org.my.salesforce.com", "erp"],
///   "audience": "sluice",
///   "leeway_seconds": 30
/// }
/// ```
///
/// - Each key gives exactly one of `secret` (HS256/HS384/HS512, the UTF-8 bytes, at least 32),
///   `public_key_pem` (RS*, PS*, ES256, ES384, EdDSA; a `PUBLIC KEY`, `RSA PUBLIC KEY` or
///   `CERTIFICATE` PEM, so the certificate Salesforce hands out can be pasted as is) or `jwks`.
/// - `alg` is required for `secret` and `public_key_pem` and pins the key: a token whose header
///   names another algorithm is refused. `none` is never accepted.
/// - JWKS keys carry their own `kid` and `alg`; without `alg`, RSA keys mean RS256 and EC keys
///   follow their curve. Encryption keys (`"use": "enc"`) are skipped; `oct` keys are refused.
/// - Several keys may be valid at once (rotation); a `kid` names at most one key.
/// - `leeway_seconds` defaults to 30 and may not exceed 60.
#[derive(Clone)]
pub struct AuthConfig {
    pub(super) keys: Vec<VerifyingKey>,
    pub(super) issuers: Vec<String>,
    pub(super) audience: String,
    pub(super) leeway_seconds: u64,
}

impl AuthConfig {
    pub fn from_json(json: &str) -> Result<Self, AuthConfigError> {
        let raw: RawConfig = serde_json::from_str(json).map_err(AuthConfigError::json)?;
        if raw.issuers.is_empty() || raw.issuers.iter().any(|i| i.is_empty()) {
            return Err(AuthConfigError::NoIssuers);
        }
        if raw.audience.is_empty() {
            return Err(AuthConfigError::NoAudience);
        }
        if raw.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(AuthConfigError::LeewayTooLarge(raw.leeway_seconds));
        }
        let mut keys = Vec::new();
        for (index, entry) in raw.keys.into_iter().enumerate() {
            entry.build(index, &mut keys)?;
        }
        if keys.is_empty() {
            return Err(AuthConfigError::NoKeys);
        }
        let mut kids = HashSet::new();
        if let Some(kid) = keys
            .iter()
            .filter_map(|k| k.kid.as_deref())
            .find(|kid| !kids.insert(*kid))
        {
            return Err(AuthConfigError::DuplicateKid(kid.to_owned()));
        }
        Ok(Self {
            keys,
            issuers: raw.issuers,
            audience: raw.audience,
            leeway_seconds: raw.leeway_seconds,
        })
    }

    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn leeway_seconds(&self) -> u64 {
        self.leeway_seconds
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthConfig")
            .field("keys", &self.keys)
            .field("issuers", &self.issuers)
            .field("audience", &self.audience)
            .field("leeway_seconds", &self.leeway_seconds)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthConfigError {
    /// Only serde's reason for missing or unknown fields is kept: others may quote a secret.
    #[error("{AUTH_KEYS_VAR} is not valid: {reason} at line {line}, column {column}")]
    Json {
        line: usize,
        column: usize,
        reason: String,
    },
    #[error("{AUTH_KEYS_VAR} has no usable keys")]
    NoKeys,
    #[error("{AUTH_KEYS_VAR} needs a non-empty list of issuers")]
    NoIssuers,
    #[error("{AUTH_KEYS_VAR} needs a non-empty audience")]
    NoAudience,
    #[error("{AUTH_KEYS_VAR}: leeway_seconds is {0}, at most {MAX_LEEWAY_SECONDS} is allowed")]
    LeewayTooLarge(u64),
    #[error("{AUTH_KEYS_VAR}: kid {0:?} names more than one key")]
    DuplicateKid(String),
    #[error("{AUTH_KEYS_VAR}: {at}{}: {problem}", .kid.as_deref().map(|k| format!(" (kid {k:?})")).unwrap_or_default())]
    Key {
        at: String,
        kid: Option<String>,
        problem: KeyProblem,
    },
}

impl AuthConfigError {
    fn json(e: serde_json::Error) -> Self {
        let message = e.to_string();
        let safe = ["missing field", "unknown field", "duplicate field"];
        let reason = match safe.iter().any(|p| message.starts_with(p)) {
            true => message
                .split(" at line")
                .next()
                .unwrap_or_default()
                .to_owned(),
            false => format!("{:?} error", e.classify()).to_lowercase(),
        };
        Self::Json {
            line: e.line(),
            column: e.column(),
            reason,
        }
    }
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECONDS
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    keys: Vec<RawKey>,
    issuers: Vec<String>,
    audience: String,
    #[serde(default = "default_leeway")]
    leeway_seconds: u64,
}
