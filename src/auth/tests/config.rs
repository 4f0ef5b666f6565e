use serde_json::{Value, json};

use super::*;
use crate::auth::{AuthConfigError, KeyProblem};

fn problem_of(key: Value) -> (String, Option<String>, KeyProblem, String) {
    let json = json!({"keys": [{"kid": "fine", "alg": "HS256", "secret": SECRET}, key], "issuers": ["erp"], "audience": "sluice"});
    match AuthConfig::from_json(&json.to_string()).unwrap_err() {
        error @ AuthConfigError::Key { .. } => {
            let text = error.to_string();
            let AuthConfigError::Key { at, kid, problem } = error else {
                unreachable!()
            };
            (at, kid, problem, text)
        }
        other => panic!("expected a key problem, got {other}"),
    }
}

#[test]
fn a_short_hmac_secret_is_refused_naming_the_key() {
    let (at, kid, problem, text) =
        problem_of(json!({"kid": "weak", "alg": "HS256", "secret": "too-short"}));
    assert_eq!(
        (at.as_str(), kid.as_deref(), problem),
        ("keys[1]", Some("weak"), KeyProblem::SecretTooShort(9))
    );
    assert!(
        text.contains("keys[1]") && text.contains("weak") && !text.contains("too-short"),
        "{text}"
    );
}

#[test]
fn bad_algorithms_and_key_material_are_refused() {
    let cases = [
        (
            json!({"alg": "none", "secret": SECRET}),
            KeyProblem::AlgNone,
        ),
        (
            json!({"alg": "XS999", "secret": SECRET}),
            KeyProblem::UnknownAlgorithm("XS999".into()),
        ),
        (json!({"secret": SECRET}), KeyProblem::MissingAlgorithm),
        (
            json!({"alg": "RS256", "secret": SECRET}),
            KeyProblem::SecretForPublicKeyAlg(jsonwebtoken::Algorithm::RS256),
        ),
        (
            json!({"alg": "HS256", "public_key_pem": RSA_PUBLIC}),
            KeyProblem::PublicKeyForHmacAlg(jsonwebtoken::Algorithm::HS256),
        ),
        (
            json!({"alg": "RS256", "public_key_pem": "-----BEGIN PUBLIC KEY-----\nnope\n"}),
            KeyProblem::BadPem,
        ),
        (
            json!({"alg": "RS256", "public_key_pem": EC_PUBLIC}),
            KeyProblem::BadPem,
        ),
        (
            json!({"alg": "ES384", "public_key_pem": EC_PUBLIC}),
            KeyProblem::KeyDoesNotFitAlg(jsonwebtoken::Algorithm::ES384),
        ),
        (json!({"alg": "RS256"}), KeyProblem::KeyMaterial),
        (
            json!({"alg": "RS256", "secret": SECRET, "public_key_pem": RSA_PUBLIC}),
            KeyProblem::KeyMaterial,
        ),
        (
            json!({"kid": "x", "jwks": {"keys": []}}),
            KeyProblem::OuterKidOrAlgWithJwks,
        ),
        (
            json!({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
            KeyProblem::HmacInJwks,
        ),
    ];
    for (key, expected) in cases {
        assert_eq!(problem_of(key.clone()).2, expected, "{key}");
    }
}

#[test]
fn jwks_encryption_keys_are_skipped() {
    let mut jwks: Value = serde_json::from_str(RSA_JWKS).unwrap();
    jwks["keys"][0]["use"] = json!("enc");
    let json = json!({"keys": [{"jwks": jwks}], "issuers": ["erp"], "audience": "sluice"});
    assert!(matches!(
        AuthConfig::from_json(&json.to_string()),
        Err(AuthConfigError::NoKeys)
    ));
}

#[test]
fn settings_are_checked() {
    let mut json = config_json();
    json["leeway_seconds"] = json!(61);
    assert!(matches!(
        AuthConfig::from_json(&json.to_string()),
        Err(AuthConfigError::LeewayTooLarge(61))
    ));
    let mut json = config_json();
    json["issuers"] = json!([]);
    assert!(matches!(
        AuthConfig::from_json(&json.to_string()),
        Err(AuthConfigError::NoIssuers)
    ));
    let mut json = config_json();
    json["keys"][1]["kid"] = json!("internal-2026");
    assert!(
        matches!(AuthConfig::from_json(&json.to_string()), Err(AuthConfigError::DuplicateKid(k)) if k == "internal-2026")
    );
    let mut json = config_json();
    json.as_object_mut().unwrap().remove("leeway_seconds");
    assert_eq!(
        AuthConfig::from_json(&json.to_string())
            .unwrap()
            .leeway_seconds(),
        30
    );
}

#[test]
fn json_errors_name_unknown_fields_but_never_quote_values() {
    let typo = json!({"keys": [{"alg": "HS256", "secrte": SECRET}], "issuers": ["erp"], "audience": "sluice"});
    let text = AuthConfig::from_json(&typo.to_string())
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("unknown field `secrte`") && !text.contains(SECRET),
        "{text}"
    );
    let misplaced = json!({"keys": SECRET, "issuers": ["erp"], "audience": "sluice"});
    let text = AuthConfig::from_json(&misplaced.to_string())
        .unwrap_err()
        .to_string();
    assert!(!text.contains(SECRET), "{text}");
}

#[test]
fn debug_output_never_shows_secrets() {
    let config = AuthConfig::from_json(&config_json().to_string()).unwrap();
    let shown = format!("{config:?} {:?}", Authenticator::new(config.clone()));
    assert!(
        shown.contains("internal-2026") && shown.contains("HS256"),
        "{shown}"
    );
    assert!(
        !shown.contains(SECRET) && !shown.contains(OLD_SECRET),
        "{shown}"
    );
    assert!(
        !shown.contains("current-secret") && !shown.contains("BEGIN"),
        "{shown}"
    );
}
