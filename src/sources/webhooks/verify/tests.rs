use axum::http::{HeaderMap, HeaderValue};
use base64::Engine;
use secrecy::SecretString;

use super::*;
use crate::config::webhooks::Locator;

const SECRET: &str = "whsec_0123456789abcdef0123456789";
const OLD: &str = "whsec_olderolderolderolderolder00";
const NOW: i64 = 1_765_000_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;

fn hook(scheme: Scheme, secrets: &[&str]) -> WebhookSource {
    WebhookSource {
        source: "s".into(),
        tolerance: Some(Duration::from_secs(300)),
        scheme,
        secrets: secrets.iter().map(|s| SecretString::from(*s)).collect(),
    }
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.insert(*k, HeaderValue::from_str(v).unwrap());
    }
    h
}

fn stripe(secret: &str, t: i64, body: &[u8]) -> String {
    let signed = [t.to_string().as_bytes(), b".", body].concat();
    format!("t={t},v1={}", sign_hex_sha256(secret.as_bytes(), &signed))
}

#[test]
fn stripe_signatures_verify_with_any_current_secret_and_within_the_tolerance() {
    let h = hook(Scheme::Stripe, &[SECRET, OLD]);
    let ok = headers(&[(STRIPE_HEADER, stripe(OLD, NOW - 10, BODY))]);
    assert_eq!(verify(&h, &ok, BODY, NOW), Ok(()));
    // Two v1 signatures while Stripe rolls the endpoint's secret: one is enough.
    let both = format!("{},v1=00ff", stripe(SECRET, NOW, BODY));
    assert_eq!(
        verify(&h, &headers(&[(STRIPE_HEADER, both)]), BODY, NOW),
        Ok(())
    );
    let tampered = br#"{"id":"evt_1","type":"invoice.paid","x":1}"#;
    assert_eq!(
        verify(&h, &ok, tampered, NOW),
        Err(SignatureError::Mismatch)
    );
    let stale = headers(&[(STRIPE_HEADER, stripe(SECRET, NOW - 301, BODY))]);
    assert_eq!(
        verify(&h, &stale, BODY, NOW),
        Err(SignatureError::Stale(301))
    );
    let ahead = headers(&[(STRIPE_HEADER, stripe(SECRET, NOW + 600, BODY))]);
    assert!(matches!(
        verify(&h, &ahead, BODY, NOW),
        Err(SignatureError::Stale(_))
    ));
    let other = hook(Scheme::Stripe, &["whsec_someoneelse0123456789abcd"]);
    assert_eq!(
        verify(&other, &ok, BODY, NOW),
        Err(SignatureError::Mismatch)
    );
    assert!(matches!(
        verify(&h, &HeaderMap::new(), BODY, NOW),
        Err(SignatureError::Missing(_))
    ));
    for bad in ["v1=abc", "t=x,v1=ab", "t=1", "garbage", "t=1,v1=zz"] {
        let h2 = headers(&[(STRIPE_HEADER, bad.to_owned())]);
        assert!(
            matches!(verify(&h, &h2, BODY, 1), Err(SignatureError::Malformed(_))),
            "{bad}"
        );
    }
}

#[test]
fn github_and_shopify_sign_the_body_alone() {
    let github = hook(Scheme::GitHub, &[SECRET]);
    let sig = format!("sha256={}", sign_hex_sha256(SECRET.as_bytes(), BODY));
    assert_eq!(
        verify(
            &github,
            &headers(&[(GITHUB_HEADER, sig.clone())]),
            BODY,
            NOW
        ),
        Ok(())
    );
    let bare = sig.trim_start_matches("sha256=").to_owned();
    assert!(verify(&github, &headers(&[(GITHUB_HEADER, bare)]), BODY, NOW).is_err());

    let shopify = hook(Scheme::Shopify, &[SECRET]);
    let raw = hex::decode(sign_hex_sha256(SECRET.as_bytes(), BODY)).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    assert_eq!(
        verify(&shopify, &headers(&[(SHOPIFY_HEADER, b64)]), BODY, NOW),
        Ok(())
    );
    let hex_instead = sign_hex_sha256(SECRET.as_bytes(), BODY);
    assert!(
        verify(
            &shopify,
            &headers(&[(SHOPIFY_HEADER, hex_instead)]),
            BODY,
            NOW
        )
        .is_err()
    );
}

#[test]
fn a_generic_scheme_signs_what_its_template_says() {
    let scheme = HmacScheme {
        header: "x-signature".into(),
        algorithm: Algorithm::Sha256,
        encoding: Encoding::Hex,
        prefix: "v1=".into(),
        signed: vec![
            Part::Id,
            Part::Literal(".".into()),
            Part::Timestamp,
            Part::Literal(".".into()),
            Part::Body,
        ],
        id: Locator::Header("x-event-id".into()),
        event_type: None,
        timestamp_header: Some("x-timestamp".into()),
    };
    let h = hook(Scheme::Hmac(scheme), &[SECRET]);
    let signed = [b"e-1.".as_slice(), NOW.to_string().as_bytes(), b".", BODY].concat();
    let sig = format!("v1={}", sign_hex_sha256(SECRET.as_bytes(), &signed));
    let good = headers(&[
        ("x-signature", sig.clone()),
        ("x-event-id", "e-1".into()),
        ("x-timestamp", NOW.to_string()),
    ]);
    assert_eq!(verify(&h, &good, BODY, NOW), Ok(()));
    let other_id = headers(&[
        ("x-signature", sig),
        ("x-event-id", "e-2".into()),
        ("x-timestamp", NOW.to_string()),
    ]);
    assert_eq!(
        verify(&h, &other_id, BODY, NOW),
        Err(SignatureError::Mismatch),
        "the id is signed"
    );
    assert!(matches!(
        verify(&h, &good, BODY, NOW + 400),
        Err(SignatureError::Stale(_))
    ));
}
