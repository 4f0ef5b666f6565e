use axum::Router;
use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::*;
use crate::auth::testing::mint_hs256;
use crate::auth::{AuthError, Caller, Scope};

fn router() -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|caller: Caller| async move { caller.subject }),
        )
        .route(
            "/admin",
            get(|caller: Caller| async move { caller.require(Scope::SyncAdmin).map(|()| "ok") }),
        )
        .with_state(authenticator())
}

async fn send(path: &str, authorization: Option<&str>) -> Response<Body> {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header(AUTHORIZATION, value);
    }
    router()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn problem(response: Response<Body>) -> Value {
    assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

#[tokio::test]
async fn a_request_without_authorization_gets_401_with_a_challenge_and_a_problem() {
    let response = send("/whoami", None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        response.headers()[WWW_AUTHENTICATE],
        r#"Bearer realm="sluice""#
    );
    let body = problem(response).await;
    assert_eq!(body["status"], 401);
    assert_eq!(body["title"], "Unauthorized");
    assert_eq!(body["detail"], AuthError::Missing.detail());
    assert_eq!(body["type"], "https://sluice.dev/problems/unauthorized");
    assert_eq!(body["code"], "missing_token");
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_whatever_the_scheme_case() {
    let token = mint_hs256(SECRET, claims());
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = send("/whoami", Some(&format!("{scheme} {token}"))).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.into_body().collect().await.unwrap().to_bytes(),
            "test-client"
        );
    }
}

#[tokio::test]
async fn an_expired_token_or_another_scheme_gets_invalid_token() {
    let mut expired = claims();
    expired["exp"] = (now() - 600).into();
    for authorization in [
        format!("Bearer {}", mint_hs256(SECRET, expired)),
        "Basic dXNlcjpwYXNz".to_owned(),
    ] {
        let response = send("/whoami", Some(&authorization)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()[WWW_AUTHENTICATE]
                .to_str()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        assert_eq!(problem(response).await["status"], 401);
    }
}

#[tokio::test]
async fn a_missing_scope_gets_403_insufficient_scope() {
    let token = mint_hs256(SECRET, claims());
    let response = send("/admin", Some(&format!("Bearer {token}"))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .contains(r#"scope="sync:admin""#)
    );
    let body = problem(response).await;
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(403), Some("insufficient_scope"))
    );
}
