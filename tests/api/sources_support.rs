//! What the webhook and pull tests share: mapping folders written for one test, a signing
//! sender, and a paged JSON API with a watermark that the tests start on 127.0.0.1.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A folder of mapping files for one test (under the system's temporary folder).
pub fn mappings_dir(files: &[(&str, String)]) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sluice-sources-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir
}

pub fn hmac_hex(secret: &str, message: &[u8]) -> String {
    sluice::sources::webhooks::verify::sign_hex_sha256(secret.as_bytes(), message)
}

/// `Stripe-Signature` for `body` signed at `t` with `secret`.
pub fn stripe_signature(secret: &str, t: i64, body: &[u8]) -> String {
    let signed = [t.to_string().as_bytes(), b".", body].concat();
    format!("t={t},v1={}", hmac_hex(secret, &signed))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The bearer token the paged API wants.
pub const API_TOKEN: &str = "orders-token-0123456789";

#[derive(Default)]
struct ApiState {
    items: Vec<Value>,
    /// The query string of every request, in order.
    requests: Vec<String>,
    /// Page number → failures (500) left before it answers.
    failing: HashMap<u64, u32>,
    /// A page that never answers (its request hangs).
    hanging: Option<u64>,
}

/// A JSON API of invoices, paged (`page`, `per_page`) and filtered by `updated_since`
/// (inclusive), sorted by `updated_at`: what a well-behaved internal API serves.
#[derive(Clone)]
pub struct PagedApi {
    pub url: String,
    state: Arc<Mutex<ApiState>>,
}

impl PagedApi {
    pub async fn start(items: Vec<Value>) -> Self {
        let state = Arc::new(Mutex::new(ApiState {
            items,
            ..ApiState::default()
        }));
        let app = axum::Router::new()
            .route("/orders", axum::routing::get(orders))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    pub fn fail_page(&self, page: u64, times: u32) {
        self.state.lock().unwrap().failing.insert(page, times);
    }

    pub fn hang_page(&self, page: Option<u64>) {
        self.state.lock().unwrap().hanging = page;
    }

    /// Adds an item, or replaces the one with its number.
    pub fn put(&self, item: Value) {
        let mut state = self.state.lock().unwrap();
        state.items.retain(|i| i["number"] != item["number"]);
        state.items.push(item);
    }
}

async fn orders(
    State(state): State<Arc<Mutex<ApiState>>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let authorized = headers
        .get("authorization")
        .is_some_and(|v| v == format!("Bearer {API_TOKEN}").as_str());
    if !authorized {
        return (StatusCode::UNAUTHORIZED, "token").into_response();
    }
    let page: u64 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
    let per_page: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(2);
    let hang = {
        let mut s = state.lock().unwrap();
        let mut pairs: Vec<_> = q.iter().map(|(k, v)| format!("{k}={v}")).collect();
        pairs.sort();
        s.requests.push(pairs.join("&"));
        if let Some(left) = s.failing.get_mut(&page).filter(|left| **left > 0) {
            *left -= 1;
            return (StatusCode::INTERNAL_SERVER_ERROR, "try again").into_response();
        }
        s.hanging == Some(page)
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    let s = state.lock().unwrap();
    let since = q.get("updated_since").cloned().unwrap_or_default();
    let mut items: Vec<&Value> = s
        .items
        .iter()
        .filter(|i| i["updated_at"].as_str().unwrap_or("") >= since.as_str())
        .collect();
    items.sort_by_key(|i| (i["updated_at"].to_string(), i["number"].to_string()));
    let start = (page.saturating_sub(1) as usize) * per_page;
    let data: Vec<&Value> = items.into_iter().skip(start).take(per_page).collect();
    axum::Json(json!({"data": data, "meta": {"page": page}})).into_response()
}

/// An invoice as the API serves it.
pub fn invoice(number: &str, customer: &str, total: &str, updated_at: &str) -> Value {
    json!({"number": number, "total": total, "status": "paid", "issued": "2026-12-01",
           "updated_at": updated_at, "customer": {"id": customer, "name": format!("Customer {customer}")}})
}

/// The pulled source's mapping: each item is an Account (its customer) and an invoice.
pub fn orders_mapping(api_url: &str) -> String {
    format!(
        r#"
source = "orders-api"

[pull]
url = "{api_url}/orders"
every = "1h"
items = "data[*]"
timeout_secs = 5
auth = {{ bearer_env = "ORDERS_API_TOKEN" }}
pagination = {{ style = "page", param = "page", size_param = "per_page", size = 2 }}
watermark = {{ param = "updated_since", field = "updated_at" }}

[objects.Account]
external_id = "External_Id__c"
[objects.Account.fields]
External_Id__c = {{ from = "customer.id" }}
Name = {{ from = "customer.name" }}

[objects.Invoice__c]
external_id = "Invoice_Number__c"
[objects.Invoice__c.fields]
Invoice_Number__c = {{ from = "number" }}
Name = {{ from = "number" }}
Amount__c = {{ from = "total", transforms = [{{ rule = "decimal", locale = "en" }}] }}
Status__c = {{ from = "status", transforms = [{{ rule = "map", values = {{ "paid" = "Paid", "sent" = "Sent" }} }}] }}
Issue_Date__c = {{ from = "issued", transforms = [{{ rule = "date", format = "yyyy-mm-dd" }}] }}
[objects.Invoice__c.references]
Account__r = {{ object = "Account", field = "External_Id__c", from = "customer.id" }}
"#
    )
}
