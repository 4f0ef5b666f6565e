//! Shared fixtures: one config holding every kind of key, and token minting for each.

mod config;
mod extractor;
mod tokens;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::testing::{TEST_ISSUER, default_claims};
use super::{AuthConfig, Authenticator};

const SECRET: &str = "current-secret-of-at-least-32-bytes!";
const OLD_SECRET: &str = "previous-secret-still-valid-32-bytes";
const RSA_PRIVATE: &str = include_str!("../../dev/salesforce-dev-key.pem");
const RSA_PUBLIC: &str = include_str!("../../dev/salesforce-dev-public.pem");
const RSA_CERT: &str = include_str!("testdata/salesforce-dev-cert.pem");
const RSA_JWKS: &str = include_str!("testdata/rs256-jwks.json");
const EC_PRIVATE: &str = include_str!("testdata/es256-private.pem");
const EC_PUBLIC: &str = include_str!("testdata/es256-public.pem");
const SALESFORCE: &str = "https://my-org.my.salesforce.com";

fn config_json() -> Value {
    json!({
        "keys": [
            {"kid": "internal-2026", "alg": "HS256", "secret": SECRET},
            {"kid": "internal-2025", "alg": "HS256", "secret": OLD_SECRET},
            {"kid": "sf-nc", "alg": "RS256", "public_key_pem": RSA_PUBLIC},
            {"alg": "ES256", "public_key_pem": EC_PUBLIC},
            {"jwks": serde_json::from_str::<Value>(RSA_JWKS).unwrap()},
        ],
        "issuers": [SALESFORCE, TEST_ISSUER],
        "audience": "sluice",
        "leeway_seconds": 30,
    })
}

fn authenticator() -> Authenticator {
    Authenticator::new(AuthConfig::from_json(&config_json().to_string()).unwrap())
}

fn claims() -> Value {
    default_claims("records:write records:read")
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn mint(alg: Algorithm, kid: Option<&str>, key: &EncodingKey, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key).unwrap()
}

fn hs(secret: &str) -> EncodingKey {
    EncodingKey::from_secret(secret.as_bytes())
}

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap()
}

fn ec() -> EncodingKey {
    EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap()
}
