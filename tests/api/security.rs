//! Every route is protected, tokens of each kind work, and the abuse limits hold.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{SECRET, TestHub, token};

const DEV_KEY: &str = include_str!("../../dev/salesforce-dev-key.pem");
const DEV_CERT: &str = include_str!("../../src/auth/testdata/salesforce-dev-cert.pem");
const UNPROTECTED: [&str; 2] = ["/health", "/ready"];

/// Webhook routes: authenticated by a signature over the body, not a bearer token.
fn is_webhook(operation: &utoipa::openapi::path::Operation) -> bool {
    operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "webhooks"))
}

/// Every operation of the OpenAPI document, with its path parameters filled in.
fn operations() -> Vec<(Method, String, utoipa::openapi::path::Operation)> {
    let doc = sluice::http::openapi::document();
    let mut out = Vec::new();
    for (path, item) in doc.paths.paths {
        let concrete = path
            .replace("{object}", "Contact")
            .replace("{source}", "default")
            .replace("{external_id}", "C-1")
            .replace("{id}", "0035g00000XyZaB");
        assert!(!concrete.contains('{'), "fill in the parameters of {path}");
        for (method, operation) in [
            (Method::GET, item.get),
            (Method::POST, item.post),
            (Method::PUT, item.put),
            (Method::PATCH, item.patch),
            (Method::DELETE, item.delete),
        ] {
            if let Some(operation) = operation {
                out.push((method, concrete.clone(), operation));
            }
        }
    }
    out
}

#[sqlx::test]
async fn every_route_but_health_and_the_document_answers_401_without_a_token(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let mut protected = 0;
    let mut signed = 0;
    for (method, path, operation) in operations() {
        let mut request = hub
            .http
            .request(method.clone(), format!("{}{path}", hub.url))
            .header("content-type", "application/json")
            .body("[]");
        if is_webhook(&operation) {
            // A bearer token is not what a webhook route takes: it still needs a signature.
            request = request
                .bearer_auth(&hub.token)
                .header("stripe-signature", "t=1,v1=00");
        }
        let response = request.send().await.unwrap();
        if UNPROTECTED.contains(&path.as_str()) {
            assert_eq!(response.status(), 200, "{method} {path}");
            continue;
        }
        if is_webhook(&operation) {
            signed += 1;
            assert_eq!(
                response.status(),
                401,
                "{method} {path} without a valid signature"
            );
            let problem: Value = response.json().await.unwrap();
            assert_eq!(
                problem["type"],
                "https://sluice.dev/problems/invalid-signature"
            );
            continue;
        }
        protected += 1;
        assert_eq!(response.status(), 401, "{method} {path} without a token");
        assert!(response.headers().contains_key("www-authenticate"));
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert!(
        protected >= 8,
        "only {protected} protected operations found"
    );
    assert_eq!(signed, 1, "the webhook route");
    let document = hub
        .http
        .get(format!("{}/openapi.json", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 200);
}

#[test]
fn the_document_declares_bearer_auth_and_each_protected_operation_its_refusals() {
    let doc = sluice::http::openapi::document();
    let schemes = doc.components.expect("components").security_schemes;
    let scheme = serde_json::to_value(&schemes["bearer"]).unwrap();
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    for (method, path, operation) in operations() {
        if UNPROTECTED.contains(&path.as_str()) {
            continue;
        }
        let security = serde_json::to_value(&operation.security).unwrap();
        if is_webhook(&operation) {
            // Its own schemes, any one of them; no bearer token, so no per-caller limit or 403.
            assert_eq!(
                security,
                json!([{"stripe_signature": []}, {"github_signature": []},
                       {"shopify_signature": []}, {"hmac_signature": []}]),
                "{method} {path}"
            );
            for name in [
                "stripe_signature",
                "github_signature",
                "shopify_signature",
                "hmac_signature",
            ] {
                let scheme = serde_json::to_value(&schemes[name]).unwrap();
                assert_eq!(
                    (scheme["type"].as_str(), scheme["in"].as_str()),
                    (Some("apiKey"), Some("header")),
                    "{name}"
                );
            }
            assert!(operation.responses.responses.contains_key("401"));
            assert!(!operation.responses.responses.contains_key("429"));
            continue;
        }
        assert_eq!(security, json!([{"bearer": []}]), "{method} {path}");
        for status in ["401", "403", "429"] {
            assert!(
                operation.responses.responses.contains_key(status),
                "{method} {path} does not document {status}"
            );
        }
    }
}

#[sqlx::test]
async fn a_caller_past_its_burst_gets_429_with_retry_after(pool: PgPool) {
    let overrides = [
        ("SLUICE_RATE_LIMIT_PER_SECOND", "1"),
        ("SLUICE_RATE_LIMIT_BURST", "2"),
    ];
    let hub = TestHub::start_with(pool, &overrides).await;
    for _ in 0..2 {
        assert_eq!(hub.get("/v1/failures").await.status(), 200);
    }
    let refused = hub.get("/v1/failures").await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry_after), "Retry-After: {retry_after}");
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );

    // Another caller has its own allowance; callers without a valid token are not counted.
    let mut claims = sluice::auth::testing::default_claims("sync:admin");
    claims["sub"] = json!("another-client");
    let other = sluice::auth::testing::mint_hs256(SECRET, claims);
    let response = hub
        .http
        .get(format!("{}/v1/failures", hub.url))
        .bearer_auth(other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let anonymous = hub
        .http
        .get(format!("{}/v1/failures", hub.url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

async fn preflight(hub: &TestHub, origin: &str) -> reqwest::Response {
    hub.http
        .request(
            Method::OPTIONS,
            format!("{}/v1/objects/Contact/records", hub.url),
        )
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap()
}

#[sqlx::test]
async fn cors_headers_are_absent_unless_the_origin_is_configured(pool: PgPool) {
    let hub = TestHub::start_api_only(pool.clone()).await;
    let response = preflight(&hub, "https://app.example.com").await;
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let get = hub
        .http
        .get(format!("{}/health", hub.url))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert!(!get.headers().contains_key("access-control-allow-origin"));

    let overrides = [
        ("PUSH_ENABLED", "false"),
        ("SLUICE_CORS_ORIGINS", "https://app.example.com"),
    ];
    // Both hubs share the test's pool, which a stopped hub closes: the first keeps running.
    let configured = TestHub::start_with(pool, &overrides).await;
    let response = preflight(&configured, "https://app.example.com").await;
    assert!(response.status().is_success());
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    let allowed = response.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap();
    assert!(allowed.contains("authorization"), "{allowed}");
    let other = preflight(&configured, "https://evil.example.net").await;
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[sqlx::test]
async fn a_preflight_allows_every_method_of_the_api_and_carries_the_security_headers(pool: PgPool) {
    let overrides = [
        ("PUSH_ENABLED", "false"),
        ("SLUICE_CORS_ORIGINS", "https://app.example.com"),
    ];
    let hub = TestHub::start_with(pool, &overrides).await;
    let operations = operations();
    assert!(operations.iter().any(|(m, _, _)| *m == Method::DELETE));
    for (method, path, _) in operations {
        let response = hub
            .http
            .request(Method::OPTIONS, format!("{}{path}", hub.url))
            .header("origin", "https://app.example.com")
            .header("access-control-request-method", method.as_str())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{method} {path}");
        let headers = response.headers();
        let allowed = headers["access-control-allow-methods"].to_str().unwrap();
        assert!(
            allowed.split(',').any(|m| m.trim() == method.as_str()),
            "{method} {path}: {allowed}"
        );
        assert_security_headers(headers);
        assert!(headers.contains_key("x-request-id"));
    }
}

fn assert_security_headers(headers: &reqwest::header::HeaderMap) {
    assert_eq!(
        headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("content-security-policy"));
}

#[sqlx::test]
async fn every_answer_carries_the_security_headers(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let ok = hub.get("/v1/failures").await;
    let refused = hub
        .http
        .get(format!("{}/v1/failures", hub.url))
        .send()
        .await
        .unwrap();
    for response in [ok, refused] {
        let headers = response.headers();
        assert_security_headers(headers);
    }
}

/// A token as a Salesforce Named Credential's External Credential signs it: RS256 with the
/// org's certificate key, the claims as string values.
fn salesforce_style_token(scopes: &str) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = json!({
        "iss": "https://example.my.salesforce.com",
        "sub": "apex@example.com",
        "aud": "sluice",
        "iat": now,
        "exp": now + 120,
        "scope": scopes,
        "sluice_objects": "Contact Account",
        "sluice_sources": "salesforce",
    });
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("salesforce".into());
    let key = EncodingKey::from_rsa_pem(DEV_KEY.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[sqlx::test]
async fn valid_hs256_and_rs256_tokens_are_answered_2xx(pool: PgPool) {
    let keys = json!({
        "keys": [
            {"kid": "tests", "alg": "HS256", "secret": SECRET},
            {"kid": "salesforce", "alg": "RS256", "public_key_pem": DEV_CERT},
        ],
        "issuers": ["sluice-tests", "https://example.my.salesforce.com"],
        "audience": "sluice",
    })
    .to_string();
    let hub = TestHub::start_with(
        pool,
        &[("PUSH_ENABLED", "false"), ("SLUICE_AUTH_KEYS", &keys)],
    )
    .await;
    let push_now = |token: String| {
        hub.http
            .post(format!("{}/v1/objects/Contact/push", hub.url))
            .bearer_auth(token)
            .json(&json!({"external_ids": ["C-1"]}))
            .send()
    };
    let response = push_now(salesforce_style_token("records:write"))
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "RS256");
    let response = push_now(token("records:write")).await.unwrap();
    assert_eq!(response.status(), 202, "HS256");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["unknown"], json!(["C-1"]));
    let denied = push_now(salesforce_style_token("records:read"))
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}
