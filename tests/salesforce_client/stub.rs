//! A login host whose tokens point at a separate instance that answers every call with `status`
//! and `body`; counts what each side received.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, post};
use serde_json::json;

#[derive(Default)]
pub struct Hits {
    pub tokens: AtomicU64,
    pub rest: AtomicU64,
    /// The last instance request's framing headers and body size.
    pub last_request: Mutex<Option<Framing>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framing {
    pub content_length: Option<String>,
    pub transfer_encoding: Option<String>,
    pub body_bytes: usize,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

pub async fn spawn(status: StatusCode, body: &'static str) -> (String, Arc<Hits>) {
    let hits = Arc::new(Hits::default());
    let rest_hits = hits.clone();
    let instance = serve(Router::new().route(
        "/{*rest}",
        any(move |headers: HeaderMap, received: Bytes| {
            rest_hits.rest.fetch_add(1, Ordering::SeqCst);
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            *rest_hits.last_request.lock().expect("lock") = Some(Framing {
                content_length: header("content-length"),
                transfer_encoding: header("transfer-encoding"),
                body_bytes: received.len(),
            });
            async move { (status, [("content-type", "application/json")], body) }
        }),
    ))
    .await;
    let token_hits = hits.clone();
    let login = serve(Router::new().route(
        "/services/oauth2/token",
        post(move || {
            let n = token_hits.tokens.fetch_add(1, Ordering::SeqCst);
            let instance = instance.clone();
            async move {
                axum::Json(json!({"access_token": format!("tok{n}"), "instance_url": instance, "token_type": "Bearer"}))
            }
        }),
    ))
    .await;
    (login, hits)
}
