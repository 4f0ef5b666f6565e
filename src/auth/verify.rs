//! Bearer token verification against the configured key set.

use std::fmt;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::AuthConfig;
use super::caller::Claims;
use super::keys::VerifyingKey;
use super::{AuthError, Caller};

/// Far above any real JWT; refusing early keeps base64 and JSON work bounded.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
const REQUIRED_CLAIMS: [&str; 4] = ["exp", "iss", "aud", "sub"];

/// Verifies bearer JWTs and turns them into a [`Caller`]. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<[Entry]>,
}

struct Entry {
    key: VerifyingKey,
    validation: Validation,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// No JWS extension is understood, so any `crit` header is refused (RFC 7515 §4.1.11).
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

impl Authenticator {
    pub fn new(config: AuthConfig) -> Self {
        let inner = config
            .keys
            .into_iter()
            .map(|key| {
                let mut validation = Validation::new(key.alg);
                validation.set_required_spec_claims(&REQUIRED_CLAIMS);
                validation.validate_nbf = true;
                validation.leeway = config.leeway_seconds;
                validation.set_issuer(&config.issuers);
                validation.set_audience(&[&config.audience]);
                Entry { key, validation }
            })
            .collect();
        Self { inner }
    }

    /// Checks the signature with the key the token names (or, without `kid`, every key of the
    /// token's algorithm), then `exp`, `nbf`, `iss`, `aud` and `sub`.
    ///
    /// A token whose `kid` is unknown is tried against the keys configured without a `kid`, so a
    /// client that starts sending a `kid` keeps working.
    pub fn verify(&self, bearer_token: &str) -> Result<Caller, AuthError> {
        if bearer_token.is_empty() || bearer_token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let header = read_header(bearer_token)?;
        let alg: Algorithm = header
            .alg
            .parse()
            .map_err(|_| AuthError::AlgorithmNotAllowed)?;
        let named = header.kid.as_deref().and_then(|kid| {
            self.inner
                .iter()
                .find(|e| e.key.kid.as_deref() == Some(kid))
        });
        let candidates: Vec<&Entry> = match (&header.kid, named) {
            (_, Some(entry)) if entry.key.alg != alg => return Err(AuthError::AlgorithmNotAllowed),
            (_, Some(entry)) => vec![entry],
            (Some(_), None) => self.of_alg(alg).filter(|e| e.key.kid.is_none()).collect(),
            (None, None) => self.of_alg(alg).collect(),
        };
        if candidates.is_empty() && header.kid.is_some() {
            return Err(AuthError::UnknownKey);
        }
        if candidates.is_empty() {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let mut refusal = AuthError::BadSignature;
        for entry in candidates {
            match jsonwebtoken::decode::<Claims>(bearer_token, &entry.key.key, &entry.validation) {
                Ok(data) => return Caller::from_claims(data.claims),
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => continue,
                Err(e) => {
                    tracing::debug!(reason = %e, "bearer token refused");
                    refusal = refusal_for(e.kind());
                    break;
                }
            }
        }
        Err(refusal)
    }

    fn of_alg(&self, alg: Algorithm) -> impl Iterator<Item = &Entry> {
        self.inner.iter().filter(move |e| e.key.alg == alg)
    }
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.inner.iter().map(|e| &e.key))
            .finish()
    }
}

fn read_header(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    match serde_json::from_slice(&json) {
        Ok(RawHeader { crit: Some(_), .. }) | Err(_) => Err(AuthError::Malformed),
        Ok(header) => Ok(header),
    }
}

fn refusal_for(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(
            REQUIRED_CLAIMS
                .into_iter()
                .find(|c| c == claim)
                .unwrap_or("exp"),
        ),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::AlgorithmNotAllowed,
        ErrorKind::InvalidToken
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_) => AuthError::Malformed,
        _ => AuthError::BadSignature,
    }
}
