//! Test helpers: sign JWTs with the dev key and drive the router in-process.

mod arrivals;
mod auth;
mod bulk;
mod bulk_query;
mod collections;
mod cometd;
mod faults;
mod org;
mod query;
mod replication;
mod rest;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{SimConfig, Simulator};

pub const BASE: &str = "http://sim.test";
pub const V: &str = "/services/data/v62.0";

pub fn sim() -> Simulator {
    Simulator::new(SimConfig {
        public_url: Some(BASE.into()),
        ..SimConfig::dev()
    })
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub fn claims() -> Value {
    json!({"iss": "sluice-dev-client", "sub": "integration@sluice.dev", "aud": "https://login.salesforce.com", "exp": now() + 180})
}

pub fn sign(claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(
        include_str!("../../../dev/salesforce-dev-key.pem").as_bytes(),
    )
    .expect("dev key parses");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .expect("jwt signs")
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The `errorCode` of a REST error array.
    pub fn error_code(&self) -> String {
        self.json()[0]["errorCode"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub async fn send(sim: &Simulator, req: Request<Body>) -> Reply {
    let res = sim
        .router()
        .oneshot(req)
        .await
        .expect("router is infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

pub async fn token_reply(sim: &Simulator, form: &str) -> Reply {
    let req = Request::post("/services/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form.to_string()))
        .expect("request builds");
    send(sim, req).await
}

pub fn grant_form(assertion: &str) -> String {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
    )
}

pub async fn login(sim: &Simulator) -> String {
    let reply = token_reply(sim, &grant_form(&sign(&claims()))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    reply.json()["access_token"]
        .as_str()
        .expect("token")
        .to_string()
}

pub async fn call(
    sim: &Simulator,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(sim, req.body(body).expect("request builds")).await
}

pub async fn upsert(
    sim: &Simulator,
    token: &str,
    object: &str,
    field: &str,
    all_or_none: bool,
    records: Vec<Value>,
) -> Reply {
    let body = json!({"allOrNone": all_or_none, "records": records});
    call(
        sim,
        token,
        Method::PATCH,
        &format!("{V}/composite/sobjects/{object}/{field}"),
        Some(body),
    )
    .await
}

pub fn account(ext: &str, name: &str) -> Value {
    json!({"attributes": {"type": "Account"}, "External_Id__c": ext, "Name": name})
}
