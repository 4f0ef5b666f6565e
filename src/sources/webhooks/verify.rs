//! Signature checks over the raw body, one per scheme. Every comparison is constant-time
//! (`hmac`'s `verify_slice`), every secret of the source is tried (several during a rotation),
//! and the reason of a refusal is for the log only: the sender is told nothing of it.
//!
//! - Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`, HMAC-SHA256 of `{t}.{body}` with
//!   the endpoint's secret (`whsec_…`, used as written); `t` within the tolerance.
//! - GitHub: `X-Hub-Signature-256: sha256=<hex>`, HMAC-SHA256 of the body; no timestamp.
//! - Shopify: `X-Shopify-Hmac-Sha256: <base64>`, HMAC-SHA256 of the body with the app's client
//!   secret; no signed timestamp (`X-Shopify-Triggered-At` is not signed).
//! - hmac: the source's own header, algorithm, encoding, prefix and signed template.

use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Sha256, Sha512};

use crate::config::webhooks::{
    Algorithm, Encoding, HmacScheme, Part, Scheme, WebhookSource, secret_bytes,
};

pub const STRIPE_HEADER: &str = "stripe-signature";
pub const GITHUB_HEADER: &str = "x-hub-signature-256";
pub const SHOPIFY_HEADER: &str = "x-shopify-hmac-sha256";

/// Why a signature was refused: logged, never answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no webhook source of this name")]
    UnknownSource,
    #[error("header {0} is missing")]
    Missing(String),
    #[error("header {0} is malformed")]
    Malformed(String),
    #[error("the signed timestamp is {0} s away from now, past the tolerance")]
    Stale(i64),
    #[error("no signature matches any of the source's secrets")]
    Mismatch,
}

/// Checks that `body` was signed by `hook`'s sender; `now` is the Unix time in seconds.
pub fn verify(
    hook: &WebhookSource,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    match &hook.scheme {
        Scheme::Stripe => {
            let value = header(headers, STRIPE_HEADER)?;
            let (t, signatures) = stripe_header(value)?;
            fresh(t, now, hook.tolerance)?;
            let decoded = decode_all(&signatures, Encoding::Hex, STRIPE_HEADER)?;
            let t_text = t.to_string();
            let message = [t_text.as_bytes(), b".", body];
            matches(hook, Algorithm::Sha256, &message, &decoded)
        }
        Scheme::GitHub => {
            let value = header(headers, GITHUB_HEADER)?;
            let hex = value
                .strip_prefix("sha256=")
                .ok_or_else(|| SignatureError::Malformed(GITHUB_HEADER.into()))?;
            let decoded = decode_all(&[hex], Encoding::Hex, GITHUB_HEADER)?;
            matches(hook, Algorithm::Sha256, &[body], &decoded)
        }
        Scheme::Shopify => {
            let value = header(headers, SHOPIFY_HEADER)?;
            let decoded = decode_all(&[value.trim()], Encoding::Base64, SHOPIFY_HEADER)?;
            matches(hook, Algorithm::Sha256, &[body], &decoded)
        }
        Scheme::Hmac(scheme) => generic(hook, scheme, headers, body, now),
    }
}

fn generic(
    hook: &WebhookSource,
    scheme: &HmacScheme,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let value = header(headers, &scheme.header)?;
    let signatures: Vec<&str> = value
        .split_whitespace()
        .filter_map(|s| s.strip_prefix(scheme.prefix.as_str()))
        .collect();
    if signatures.is_empty() {
        return Err(SignatureError::Malformed(scheme.header.clone()));
    }
    let decoded = decode_all(&signatures, scheme.encoding, &scheme.header)?;
    let timestamp = match &scheme.timestamp_header {
        Some(name) => {
            let t = header(headers, name)?
                .trim()
                .parse::<i64>()
                .map_err(|_| SignatureError::Malformed(name.clone()))?;
            fresh(t, now, hook.tolerance)?;
            Some(t.to_string())
        }
        None => None,
    };
    let id = match &scheme.id {
        crate::config::webhooks::Locator::Header(name) if scheme.signed.contains(&Part::Id) => {
            Some(header(headers, name)?.to_owned())
        }
        _ => None,
    };
    let message: Vec<&[u8]> = scheme
        .signed
        .iter()
        .map(|part| match part {
            Part::Literal(text) => text.as_bytes(),
            Part::Id => id.as_deref().unwrap_or_default().as_bytes(),
            Part::Timestamp => timestamp.as_deref().unwrap_or_default().as_bytes(),
            Part::Body => body,
        })
        .collect();
    matches(hook, scheme.algorithm, &message, &decoded)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, SignatureError> {
    let value = headers
        .get(name)
        .ok_or_else(|| SignatureError::Missing(name.to_owned()))?;
    value
        .to_str()
        .map_err(|_| SignatureError::Malformed(name.to_owned()))
}

/// `t=1492774577,v1=5257a8…,v0=…`: the timestamp and every `v1` signature (Stripe sends two
/// while an endpoint's secret is being rolled).
pub fn stripe_header(value: &str) -> Result<(i64, Vec<&str>), SignatureError> {
    let malformed = || SignatureError::Malformed(STRIPE_HEADER.into());
    let mut t = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        match item.trim().split_once('=') {
            Some(("t", v)) if t.is_none() => t = Some(v.parse::<i64>().map_err(|_| malformed())?),
            Some(("v1", v)) => v1.push(v),
            _ => {}
        }
    }
    match t {
        Some(t) if !v1.is_empty() => Ok((t, v1)),
        _ => Err(malformed()),
    }
}

/// A signed time within the tolerance either way: a replay of an old capture fails, and so does
/// a timestamp from a sender whose clock runs far ahead.
fn fresh(t: i64, now: i64, tolerance: Option<Duration>) -> Result<(), SignatureError> {
    let tolerance = tolerance.map_or(i64::MAX, |d| d.as_secs() as i64);
    let age = now.saturating_sub(t);
    if age.abs() > tolerance {
        return Err(SignatureError::Stale(age));
    }
    Ok(())
}

fn decode_all(
    signatures: &[&str],
    encoding: Encoding,
    header: &str,
) -> Result<Vec<Vec<u8>>, SignatureError> {
    signatures
        .iter()
        .map(|s| match encoding {
            Encoding::Hex => hex::decode(s.trim()).ok(),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(s.trim())
                .ok(),
        })
        .collect::<Option<_>>()
        .ok_or_else(|| SignatureError::Malformed(header.to_owned()))
}

/// Some secret's HMAC of `message` (its parts in order) equals some signature.
fn matches(
    hook: &WebhookSource,
    algorithm: Algorithm,
    message: &[&[u8]],
    signatures: &[Vec<u8>],
) -> Result<(), SignatureError> {
    for secret in &hook.secrets {
        let key = secret_bytes(secret);
        let found = match algorithm {
            Algorithm::Sha256 => any_matches::<Hmac<Sha256>>(key, message, signatures),
            Algorithm::Sha512 => any_matches::<Hmac<Sha512>>(key, message, signatures),
        };
        if found {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

fn any_matches<M: Mac + hmac::digest::KeyInit + Clone>(
    key: &[u8],
    message: &[&[u8]],
    signatures: &[Vec<u8>],
) -> bool {
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
        return false;
    };
    for part in message {
        mac.update(part);
    }
    // `verify_slice` compares in constant time; a signature of another length fails it.
    signatures
        .iter()
        .any(|sig| mac.clone().verify_slice(sig).is_ok())
}

/// What a sender computes, for tests and for `sluice` users writing a sender: the HMAC of
/// `message` with `secret`, hex-encoded.
pub fn sign_hex_sha256(secret: &[u8], message: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(secret)
        .expect("HMAC takes any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests;
