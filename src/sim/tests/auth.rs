use axum::http::{Method, StatusCode};
use serde_json::json;

use super::*;

async fn rejected(sim: &Simulator, claims: &Value) -> (StatusCode, Value, Option<String>) {
    let reply = token_reply(sim, &grant_form(&sign(claims))).await;
    let cache = reply
        .headers
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (reply.status, reply.json(), cache)
}

#[tokio::test]
async fn a_valid_jwt_grant_returns_the_documented_token_shape() {
    let sim = sim();
    let reply = token_reply(&sim, &grant_form(&sign(&claims()))).await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    let keys: Vec<&str> = body
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["access_token", "id", "instance_url", "scope", "token_type"]
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["instance_url"], BASE);
}

#[tokio::test]
async fn the_sims_own_url_is_an_accepted_audience() {
    let sim = sim();
    let mut c = claims();
    c["aud"] = json!(BASE);
    assert_eq!(
        token_reply(&sim, &grant_form(&sign(&c))).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn each_bad_claim_gets_its_salesforce_error() {
    let sim = sim();
    let cases = [
        (
            "iss",
            json!("someone-else"),
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            "sub",
            json!("other@example.com"),
            "invalid_grant",
            "user hasn't approved this consumer",
        ),
        (
            "aud",
            json!("https://example.com"),
            "invalid_grant",
            "audience is invalid",
        ),
        (
            "exp",
            json!(now() - 10),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            "exp",
            json!((now() + 180) * 1000),
            "invalid_grant",
            "expired authorization code",
        ),
        (
            "exp",
            json!("soon"),
            "invalid_grant",
            "expired authorization code",
        ),
    ];
    for (claim, value, error, description) in cases {
        let mut c = claims();
        c[claim] = value;
        let (status, body, cache) = rejected(&sim, &c).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{claim}");
        assert_eq!(
            body,
            json!({"error": error, "error_description": description}),
            "{claim}"
        );
        assert_eq!(cache.as_deref(), Some("no-store"));
    }
    let mut c = claims();
    c.as_object_mut().expect("object").remove("exp");
    assert_eq!(
        rejected(&sim, &c).await.1["error_description"],
        "expired authorization code"
    );
}

#[tokio::test]
async fn a_tampered_or_hs256_assertion_is_an_invalid_grant() {
    let sim = sim();
    let jwt = sign(&claims());
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let other = sign(&json!({"iss": "sluice-dev-client", "sub": "x", "aud": "y", "exp": 1}));
    let other_sig = other.rsplit('.').next().expect("signature");
    parts[2] = other_sig;
    let reply = token_reply(&sim, &grant_form(&parts.join("."))).await;
    assert_eq!(
        reply.json(),
        json!({"error": "invalid_grant", "error_description": "invalid assertion"})
    );

    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"s"),
    )
    .expect("hs256 signs");
    let reply = token_reply(&sim, &grant_form(&hs)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn another_grant_type_is_unsupported() {
    let reply = token_reply(&sim(), "grant_type=password&username=a&password=b").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn missing_garbled_unknown_and_expired_tokens_are_401() {
    let sim = sim();
    let token = login(&sim).await;
    let req = Request::get(format!("{V}/limits"))
        .body(Body::empty())
        .expect("request");
    let reply = send(&sim, req).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::UNAUTHORIZED, "INVALID_AUTH_HEADER")
    );
    let req = Request::get(format!("{V}/limits"))
        .header("authorization", "Basic abc")
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(&sim, req).await.error_code(), "INVALID_AUTH_HEADER");

    let reply = call(&sim, "00Dnope", Method::GET, &format!("{V}/limits"), None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        reply.json(),
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );

    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .status,
        StatusCode::OK
    );
    sim.expire_all_tokens();
    let reply = call(&sim, &token, Method::GET, &format!("{V}/limits"), None).await;
    assert_eq!(reply.error_code(), "INVALID_SESSION_ID");
    assert_eq!(sim.api_calls(), 1, "401s are not counted");
}

#[tokio::test]
async fn a_session_times_out_after_the_ttl_and_calls_extend_it() {
    let sim = Simulator::new(SimConfig {
        public_url: Some(BASE.into()),
        token_ttl: std::time::Duration::from_millis(300),
        ..SimConfig::dev()
    });
    let token = login(&sim).await;
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert_eq!(
            call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
                .await
                .status,
            StatusCode::OK
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(
        call(&sim, &token, Method::GET, &format!("{V}/limits"), None)
            .await
            .error_code(),
        "INVALID_SESSION_ID"
    );
}
