use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm::{ES256, HS256, RS256};
use serde_json::json;

use super::*;
use crate::auth::{Allowed, AuthError, Scope};

fn refusal(token: &str) -> (AuthError, StatusCode) {
    let error = authenticator().verify(token).unwrap_err();
    let status = error.status();
    (error, status)
}

fn with(changes: serde_json::Value) -> serde_json::Value {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        match value {
            serde_json::Value::Null => claims.as_object_mut().unwrap().remove(name),
            v => claims
                .as_object_mut()
                .unwrap()
                .insert(name.clone(), v.clone()),
        };
    }
    claims
}

#[test]
fn a_valid_hs256_token_gives_the_caller_its_claims() {
    let caller = authenticator()
        .verify(&mint(HS256, Some("internal-2026"), &hs(SECRET), &claims()))
        .unwrap();
    assert_eq!(caller.subject, "test-client");
    assert_eq!(caller.issuer, TEST_ISSUER);
    assert!(
        caller.require(Scope::RecordsWrite).is_ok() && caller.require(Scope::RecordsRead).is_ok()
    );
    assert_eq!(
        (caller.sources, caller.objects),
        (Allowed::All, Allowed::All)
    );
}

#[test]
fn both_rotated_hs256_keys_are_accepted_with_or_without_kid() {
    let auth = authenticator();
    for (kid, secret) in [("internal-2026", SECRET), ("internal-2025", OLD_SECRET)] {
        assert!(
            auth.verify(&mint(HS256, Some(kid), &hs(secret), &claims()))
                .is_ok()
        );
        assert!(
            auth.verify(&mint(HS256, None, &hs(secret), &claims()))
                .is_ok()
        );
    }
}

#[test]
fn valid_rs256_es256_and_jwks_tokens_are_accepted() {
    let salesforce = with(json!({"iss": SALESFORCE}));
    let auth = authenticator();
    assert!(
        auth.verify(&mint(RS256, Some("sf-nc"), &rsa(), &salesforce))
            .is_ok()
    );
    assert!(auth.verify(&mint(RS256, None, &rsa(), &salesforce)).is_ok());
    assert!(
        auth.verify(&mint(RS256, Some("sf-jwks"), &rsa(), &salesforce))
            .is_ok()
    );
    assert!(auth.verify(&mint(ES256, None, &ec(), &claims())).is_ok());
}

#[test]
fn a_salesforce_certificate_pem_verifies_rs256_tokens() {
    let json = json!({"keys": [{"alg": "RS256", "public_key_pem": RSA_CERT}], "issuers": [SALESFORCE], "audience": "sluice"});
    let auth = Authenticator::new(AuthConfig::from_json(&json.to_string()).unwrap());
    assert!(
        auth.verify(&mint(
            RS256,
            None,
            &rsa(),
            &with(json!({"iss": SALESFORCE}))
        ))
        .is_ok()
    );
}

#[test]
fn a_token_signed_with_another_secret_has_a_bad_signature() {
    let token = mint(
        HS256,
        Some("internal-2026"),
        &hs("some-other-secret-of-32-bytes-or-more"),
        &claims(),
    );
    assert_eq!(
        refusal(&token),
        (AuthError::BadSignature, StatusCode::UNAUTHORIZED)
    );
}

#[test]
fn a_tampered_payload_has_a_bad_signature() {
    let token = mint(
        RS256,
        Some("sf-nc"),
        &rsa(),
        &with(json!({"iss": SALESFORCE})),
    );
    let parts: Vec<&str> = token.split('.').collect();
    let forged =
        URL_SAFE_NO_PAD.encode(with(json!({"iss": SALESFORCE, "sub": "admin"})).to_string());
    let token = format!("{}.{forged}.{}", parts[0], parts[2]);
    assert_eq!(refusal(&token).0, AuthError::BadSignature);
}

#[test]
fn an_unsigned_alg_none_token_is_refused() {
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert_eq!(
        refusal(&format!("{header}.{payload}.")),
        (AuthError::AlgorithmNotAllowed, StatusCode::UNAUTHORIZED)
    );
}

#[test]
fn hs256_signed_with_the_rsa_public_key_bytes_is_refused() {
    let key = hs(RSA_PUBLIC);
    let salesforce = with(json!({"iss": SALESFORCE}));
    assert_eq!(
        refusal(&mint(HS256, Some("sf-nc"), &key, &salesforce)).0,
        AuthError::AlgorithmNotAllowed
    );
    assert_eq!(
        refusal(&mint(HS256, None, &key, &salesforce)).0,
        AuthError::BadSignature
    );
    let rsa_only = json!({"keys": [{"alg": "RS256", "public_key_pem": RSA_PUBLIC}], "issuers": [SALESFORCE], "audience": "sluice"});
    let auth = Authenticator::new(AuthConfig::from_json(&rsa_only.to_string()).unwrap());
    assert_eq!(
        auth.verify(&mint(HS256, None, &key, &salesforce))
            .unwrap_err(),
        AuthError::AlgorithmNotAllowed
    );
}

#[test]
fn a_token_whose_alg_differs_from_its_keys_is_refused() {
    let token = mint(RS256, Some("internal-2026"), &rsa(), &claims());
    assert_eq!(refusal(&token).0, AuthError::AlgorithmNotAllowed);
}

#[test]
fn an_unknown_kid_is_refused() {
    let token = mint(HS256, Some("internal-1999"), &hs(SECRET), &claims());
    assert_eq!(
        refusal(&token),
        (AuthError::UnknownKey, StatusCode::UNAUTHORIZED)
    );
}

#[test]
fn time_claims_are_checked_with_leeway() {
    let sign = |changes| mint(HS256, None, &hs(SECRET), &with(changes));
    assert_eq!(
        refusal(&sign(json!({"exp": now() - 120}))).0,
        AuthError::Expired
    );
    assert_eq!(
        refusal(&sign(json!({"nbf": now() + 120}))).0,
        AuthError::NotYetValid
    );
    assert!(
        authenticator()
            .verify(&sign(json!({"exp": now() - 10})))
            .is_ok()
    );
    assert!(
        authenticator()
            .verify(&sign(json!({"nbf": now() + 10})))
            .is_ok()
    );
}

#[test]
fn wrong_issuer_and_audience_are_refused() {
    let sign = |changes| mint(HS256, None, &hs(SECRET), &with(changes));
    assert_eq!(
        refusal(&sign(json!({"iss": "someone-else"}))).0,
        AuthError::WrongIssuer
    );
    assert_eq!(
        refusal(&sign(json!({"aud": "another-service"}))).0,
        AuthError::WrongAudience
    );
    assert!(
        authenticator()
            .verify(&sign(json!({"aud": ["another-service", "sluice"]})))
            .is_ok()
    );
}

#[test]
fn missing_registered_claims_are_named() {
    for claim in ["exp", "iss", "aud", "sub"] {
        let mut claims = claims();
        claims.as_object_mut().unwrap().remove(claim);
        let token = mint(HS256, None, &hs(SECRET), &claims);
        assert_eq!(
            refusal(&token),
            (AuthError::MissingClaim(claim), StatusCode::UNAUTHORIZED)
        );
    }
}

#[test]
fn garbage_is_malformed() {
    for token in ["", "abc", "a.b.c", "a.b.c.d"] {
        assert_eq!(refusal(token).0, AuthError::Malformed);
    }
    let wrong_type = mint(
        HS256,
        None,
        &hs(SECRET),
        &with(json!({"sluice_objects": 42})),
    );
    assert_eq!(refusal(&wrong_type).0, AuthError::Malformed);
    let mut header = jsonwebtoken::Header::new(HS256);
    header.crit = Some(vec!["exp".into()]);
    let critical = jsonwebtoken::encode(&header, &claims(), &hs(SECRET)).unwrap();
    assert_eq!(refusal(&critical).0, AuthError::Malformed);
}

#[test]
fn scopes_come_from_scope_or_scp() {
    let token = mint(
        HS256,
        None,
        &hs(SECRET),
        &with(json!({"scope": null, "scp": ["sync:admin"]})),
    );
    let caller = authenticator().verify(&token).unwrap();
    assert!(caller.require(Scope::SyncAdmin).is_ok());
    let refused = caller.require(Scope::RecordsWrite).unwrap_err();
    assert_eq!(
        (refused.status(), refused),
        (
            StatusCode::FORBIDDEN,
            AuthError::InsufficientScope(Scope::RecordsWrite)
        )
    );
}

#[test]
fn list_claims_may_be_space_separated_strings() {
    let claims = with(json!({"sluice_objects": "Account Contact", "sluice_sources": "*"}));
    let caller = authenticator()
        .verify(&mint(HS256, None, &hs(SECRET), &claims))
        .unwrap();
    assert!(caller.may_write_object("Contact").is_ok() && caller.may_write_object("Lead").is_err());
    assert_eq!(caller.sources, Allowed::All);
}

#[test]
fn objects_and_sources_not_listed_are_forbidden() {
    let claims = with(json!({"sluice_objects": ["Account"], "sluice_sources": null}));
    let caller = authenticator()
        .verify(&mint(HS256, None, &hs(SECRET), &claims))
        .unwrap();
    assert!(caller.may_write_object("account").is_ok());
    let object = caller.may_write_object("Contact").unwrap_err();
    assert_eq!(
        (object.status(), object),
        (
            StatusCode::FORBIDDEN,
            AuthError::ObjectNotAllowed("Contact".into())
        )
    );
    let source = caller.may_write_source("erp").unwrap_err();
    assert_eq!(
        (source.status(), source),
        (
            StatusCode::FORBIDDEN,
            AuthError::SourceNotAllowed("erp".into())
        )
    );
}

#[test]
fn challenges_follow_rfc_6750() {
    let header = |e: AuthError| e.www_authenticate().to_str().unwrap().to_owned();
    assert_eq!(header(AuthError::Missing), r#"Bearer realm="sluice""#);
    assert!(
        header(AuthError::Expired)
            .contains(r#"error="invalid_token", error_description="The token has expired.""#)
    );
    let scope = header(AuthError::InsufficientScope(Scope::RecordsWrite));
    assert!(
        scope.contains(r#"error="insufficient_scope""#)
            && scope.ends_with(r#"scope="records:write""#)
    );
    assert!(!header(AuthError::ObjectNotAllowed("Evil\"Name".into())).contains("Evil"));
}
