//! `POST /services/oauth2/token`: the JWT bearer grant (docs/salesforce.md §1.1).

use std::collections::HashMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};

use super::Simulator;
use super::error::OAuthError;

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// [UNVERIFIED] How far ahead `exp` may be. The docs say "within 3 minutes", a third-party card
/// says 5; we allow 5 minutes so a client using now + 3 min with some clock skew passes (docs/salesforce.md §1.1).
const MAX_EXP_AHEAD_SECS: i64 = 300;
const ORG_ID: &str = "00D5g000004SiMuEAK";
pub(crate) const USER_ID: &str = "0055g00000SiMuLAAV";

pub async fn post_token(State(sim): State<Simulator>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match grant(&sim, &form) {
        Ok(body) => (
            [(axum::http::header::CACHE_CONTROL, "no-store")],
            axum::Json(body),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

fn grant(sim: &Simulator, form: &HashMap<String, String>) -> Result<Value, OAuthError> {
    match form.get("grant_type").map(String::as_str) {
        Some(JWT_BEARER) => {}
        _ => {
            return Err(OAuthError {
                error: "unsupported_grant_type",
                description: "grant type not supported",
            });
        }
    }
    let assertion = form
        .get("assertion")
        .ok_or(OAuthError::grant("invalid assertion"))?;
    verify(sim, assertion)?;
    let token = format!("{ORG_ID}!{}", random_token());
    sim.lock()
        .tokens
        .insert(token.clone(), Instant::now() + sim.cfg().token_ttl);
    let base = sim.base_url();
    Ok(json!({
        "access_token": token,
        "scope": "api",
        "instance_url": base,
        "id": format!("{base}/id/{ORG_ID}/{USER_ID}"),
        "token_type": "Bearer",
    }))
}

fn verify(sim: &Simulator, assertion: &str) -> Result<(), OAuthError> {
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| OAuthError::grant("invalid assertion"))?;
    // Doc §1.1: RS256 is the only supported algorithm.
    if header.alg != Algorithm::RS256 {
        return Err(OAuthError::grant("invalid assertion"));
    }
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Value>(assertion)
        .map_err(|_| OAuthError::grant("invalid assertion"))?
        .claims;
    if unverified.get("iss").and_then(Value::as_str) != Some(sim.cfg().client_id.as_str()) {
        return Err(OAuthError {
            error: "invalid_client_id",
            description: "client identifier invalid",
        });
    }
    let key = sim
        .inner
        .key
        .as_ref()
        .ok_or(OAuthError::grant("invalid assertion"))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Value>(assertion, key, &validation)
        .map_err(|_| OAuthError::grant("invalid assertion"))?
        .claims;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => audience_ok(sim, a),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .any(|a| audience_ok(sim, a)),
        _ => false,
    };
    if !aud_ok {
        return Err(OAuthError::grant("audience is invalid"));
    }
    // Doc §1.1, §12.5: exp is integer seconds; past, fractional, or far-future (ms) exp is rejected.
    let now = chrono::Utc::now().timestamp();
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp > now && exp <= now + MAX_EXP_AHEAD_SECS => {}
        _ => return Err(OAuthError::grant("expired authorization code")),
    }
    if claims.get("sub").and_then(Value::as_str) != Some(sim.cfg().username.as_str()) {
        return Err(OAuthError::grant("user hasn't approved this consumer"));
    }
    Ok(())
}

fn audience_ok(sim: &Simulator, aud: &str) -> bool {
    let aud = aud.trim_end_matches('/');
    [
        "https://login.salesforce.com",
        "https://test.salesforce.com",
    ]
    .contains(&aud)
        || aud == sim.base_url()
}

fn random_token() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 96)
}
