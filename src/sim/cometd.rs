//! The Streaming API's CometD endpoint, `POST /cometd/<version>`: Bayeux long-polling with
//! handshake, subscribe (with the replay extension), connect, unsubscribe and disconnect, for
//! Change Data Capture channels.
//!
//! Requirements on clients (<https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/intro_client_specs.htm>):
//! `Content-Type: application/json`, the session in `Authorization: Bearer`, and cookies sent
//! back. Error strings (<https://developer.salesforce.com/docs/platform/api-streaming/guide/streaming-error-codes.html>,
//! <https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/streaming_handling_errors.htm>)
//! travel inside 200 answers as Bayeux `error` fields [UNVERIFIED: the HTTP status of the URL
//! version errors, answered 400 here].
//!
//! API allocation: handshake, subscribe and connect are not counted as API requests. No page says
//! so in as many words, but Salesforce presents the Streaming API as the way to stop spending API
//! calls on polling ("Applications that have constant polling action … consuming unnecessary API
//! calls … would benefit from Streaming API",
//! <https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/intro_stream.htm>),
//! its Spring '14 note says it works "in a way that … doesn't consume API calls"
//! (<http://developer.salesforce.com/blogs/tech-pubs/2014/02/pushing-the-limits-with-streaming-api-in-spring-14.html>),
//! and what it meters instead is event delivery, per 24 hours, failing connects with
//! `403::Organization total events daily limit exceeded` past it
//! (<https://developer.salesforce.com/docs/platform/api-streaming/guide/limits.html>).
//! So streaming messages are counted in their own stats, and events against the delivery
//! allocation.

use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::Simulator;
use super::cometd_sessions::Subscription;
use super::events::Filter;
use super::faults::Injected;
use super::rest::{LATEST_VERSION, bearer};
use super::schema::OBJECTS;

/// Streaming API versions start at 37.0; change events at 44.0.
const MIN_VERSION: u32 = 37;
const MIN_CDC_VERSION: u32 = 44;
pub const BROWSER_COOKIE: &str = "BAYEUX_BROWSER";

pub fn routes() -> Router<Simulator> {
    Router::new()
        .route("/cometd", post(entry))
        .route("/cometd/{*rest}", post(entry))
}

/// Whether the request carried a session, and a valid one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Missing,
    Invalid,
    Valid,
}

/// What a message's handler needs from the request around it.
pub struct Context<'a> {
    pub sim: &'a Simulator,
    pub version: u32,
    pub auth: Auth,
    /// The `BAYEUX_BROWSER` cookie sent, if the server issued it.
    pub browser: Option<String>,
    /// A cookie to set on the answer (first handshake of a browser).
    pub set_browser: Option<String>,
}

async fn entry(
    State(sim): State<Simulator>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Not counted in `max_concurrency`: a held connect is not a concurrent API request.
    if let Some(fault) = injected(&sim) {
        return fault.into_response();
    }
    let version = match version(uri.path()) {
        Ok(v) => v,
        Err(message) => return http_error(&message),
    };
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    if !json_body {
        return http_error("400::Content-Type must be application/json");
    }
    let messages = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(list)) => list,
        Ok(one @ Value::Object(_)) => vec![one],
        _ => return http_error("400::Bad request: the body is not a Bayeux message array"),
    };
    let mut cx = Context {
        sim: &sim,
        version,
        auth: authenticate(&sim, &headers),
        browser: browser_cookie(&sim, &headers),
        set_browser: None,
    };
    let mut replies = Vec::new();
    for message in &messages {
        replies.extend(dispatch(&mut cx, message).await);
    }
    let mut res = (StatusCode::OK, axum::Json(Value::Array(replies))).into_response();
    if let Some(cookie) = cx.set_browser
        && let Ok(v) = HeaderValue::from_str(&format!("{BROWSER_COOKIE}={cookie}; Path=/cometd"))
    {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Faults hit CometD requests like REST calls; `cometd_drop_next` hits only these.
fn injected(sim: &Simulator) -> Option<Injected> {
    let mut state = sim.lock();
    if state.faults.cometd_drop_next > 0 {
        state.faults.cometd_drop_next -= 1;
        return Some(Injected::Drop);
    }
    let mut seen = state.calls_seen;
    let fault = state.faults.next_call(&mut seen);
    state.calls_seen = seen;
    fault
}

fn http_error(message: &str) -> Response {
    let body = json!([{"error": message, "successful": false}]);
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// `/cometd/67.0[/…]` → 67.
fn version(path: &str) -> Result<u32, String> {
    let format = format!("URI format: '/cometd/{LATEST_VERSION}'");
    let seg = path
        .trim_start_matches("/cometd")
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    if seg.is_empty() {
        return Err(format!(
            "400::API version in the URI is mandatory. {format}"
        ));
    }
    let max: u32 = LATEST_VERSION
        .trim_end_matches(".0")
        .parse()
        .unwrap_or(MIN_VERSION);
    seg.strip_suffix(".0")
        .and_then(|major| major.parse::<u32>().ok())
        .filter(|v| (MIN_VERSION..=max).contains(v))
        .ok_or_else(|| {
            format!("400::Unsupported API version. Only API versions '{MIN_VERSION}.0' and later are supported. {format}")
        })
}

/// Checks the session like REST does, and extends it (docs/salesforce.md §1.1).
fn authenticate(sim: &Simulator, headers: &HeaderMap) -> Auth {
    let Ok(token) = bearer(headers) else {
        return Auth::Missing;
    };
    let ttl = sim.cfg().token_ttl;
    let mut state = sim.lock();
    let now = Instant::now();
    match state.tokens.get_mut(token) {
        Some(expiry) if *expiry > now => {
            *expiry = now + ttl;
            Auth::Valid
        }
        _ => Auth::Invalid,
    }
}

fn browser_cookie(sim: &Simulator, headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == BROWSER_COOKIE)
        .map(|(_, value)| value.to_string())?;
    sim.lock().sessions.knows_browser(&value).then_some(value)
}

async fn dispatch(cx: &mut Context<'_>, message: &Value) -> Vec<Value> {
    let channel = message.get("channel").and_then(Value::as_str).unwrap_or("");
    let kind = match channel {
        "/meta/handshake" => "streaming_handshake",
        "/meta/connect" => "streaming_connect",
        "/meta/subscribe" => "streaming_subscribe",
        "/meta/unsubscribe" => "streaming_unsubscribe",
        "/meta/disconnect" => "streaming_disconnect",
        _ => "streaming_other",
    };
    cx.sim.lock().count_streaming(kind);
    match channel {
        "/meta/handshake" => vec![handshake(cx, message)],
        "/meta/connect" => super::cometd_connect::connect(cx, message).await,
        "/meta/subscribe" => vec![subscribe(cx, message)],
        "/meta/unsubscribe" => vec![unsubscribe(cx, message)],
        "/meta/disconnect" => vec![disconnect(cx, message)],
        // Clients may only listen here; publishing to a change-event channel is refused.
        _ => vec![failure(message, channel, "403::Publish denied", None)],
    }
}

/// The fields every reply echoes: channel, id, clientId.
pub fn reply(message: &Value, channel: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("channel".into(), json!(channel));
    for key in ["id", "clientId"] {
        if let Some(v) = message.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out
}

pub fn failure(message: &Value, channel: &str, error: &str, advice: Option<Value>) -> Value {
    let mut out = reply(message, channel);
    out.insert("error".into(), json!(error));
    out.insert("successful".into(), json!(false));
    if let Some(advice) = advice {
        out.insert("advice".into(), advice);
    }
    Value::Object(out)
}

/// `403::Unknown client`, with advice to handshake again ([OBS] in EMP-Connector issue #4).
pub fn unknown_client(message: &Value, channel: &str) -> Value {
    failure(
        message,
        channel,
        "403::Unknown client",
        Some(json!({"interval": 0, "reconnect": "handshake"})),
    )
}

/// A session that is missing or no longer valid: the client must authenticate again.
pub fn auth_failure(cx: &Context<'_>, message: &Value, channel: &str) -> Option<Value> {
    let error = match cx.auth {
        Auth::Valid => return None,
        Auth::Missing => "401::Request requires authentication",
        Auth::Invalid => "401::Authentication invalid",
    };
    Some(failure(
        message,
        channel,
        error,
        Some(json!({"reconnect": "none", "interval": 0})),
    ))
}

/// The session of the message's client, if it is known and its cookie came with the request;
/// otherwise the failure to answer.
pub fn known_client(cx: &Context<'_>, message: &Value, channel: &str) -> Result<String, Value> {
    if let Some(fail) = auth_failure(cx, message, channel) {
        return Err(fail);
    }
    let id = message
        .get("clientId")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut state = cx.sim.lock();
    let Some(session) = state.sessions.get_mut(&id) else {
        return Err(unknown_client(message, channel));
    };
    if cx.browser.as_deref() != Some(session.browser.as_str()) {
        return Err(failure(
            message,
            channel,
            &format!(
                "400::Client {id} has established a session, but no {BROWSER_COOKIE} cookie present"
            ),
            None,
        ));
    }
    Ok(id)
}

fn handshake(cx: &mut Context<'_>, message: &Value) -> Value {
    let channel = "/meta/handshake";
    let denied = |reason: &str| {
        let mut out = reply(message, channel);
        out.insert("ext".into(), json!({"sfdc": {"failureReason": reason}}));
        out.insert("advice".into(), json!({"reconnect": "none"}));
        out.insert("error".into(), json!("403::Handshake denied"));
        out.insert("successful".into(), json!(false));
        Value::Object(out)
    };
    match cx.auth {
        Auth::Missing => return denied("401::Request requires authentication"),
        Auth::Invalid => return denied("401::Authentication invalid"),
        Auth::Valid => {}
    }
    let long_polling = message
        .get("supportedConnectionTypes")
        .and_then(Value::as_array)
        .is_some_and(|types| types.iter().any(|t| t == "long-polling"));
    if message.get("version").is_none() || !long_polling {
        return failure(message, channel, "400::Invalid connection type", None);
    }
    let deadline = cx.sim.cfg().cometd_reconnect_deadline;
    let mut state = cx.sim.lock();
    let browser = match &cx.browser {
        Some(b) => b.clone(),
        None => {
            let b = state.sessions.new_browser();
            cx.browser = Some(b.clone());
            cx.set_browser = Some(b.clone());
            b
        }
    };
    let client = state.sessions.create(browser, deadline);
    let mut out = reply(message, channel);
    out.insert("clientId".into(), json!(client));
    out.insert("version".into(), json!("1.0"));
    out.insert("minimumVersion".into(), json!("1.0"));
    out.insert("supportedConnectionTypes".into(), json!(["long-polling"]));
    out.insert(
        "ext".into(),
        json!({"replay": true, "payload.format": true}),
    );
    out.insert("successful".into(), json!(true));
    Value::Object(out)
}

fn subscribe(cx: &Context<'_>, message: &Value) -> Value {
    let channel = "/meta/subscribe";
    let id = match known_client(cx, message, channel) {
        Ok(id) => id,
        Err(fail) => return fail,
    };
    let subscription = message
        .get("subscription")
        .and_then(Value::as_str)
        .unwrap_or("");
    let refuse = |error: String| {
        let mut out = reply(message, channel);
        out.insert("subscription".into(), json!(subscription));
        out.insert("error".into(), json!(error));
        out.insert("successful".into(), json!(false));
        Value::Object(out)
    };
    if subscription.is_empty() {
        return refuse("400::Channel name not specified".into());
    }
    if !subscription.starts_with('/') {
        return refuse("400::Channel subscriptions must start with a leading '/'".into());
    }
    let filter = Filter::parse(subscription, &OBJECTS).filter(|_| cx.version >= MIN_CDC_VERSION);
    let Some(filter) = filter else {
        return refuse(format!(
            "400::The channel you requested to subscribe to does not exist {subscription}"
        ));
    };
    // The replay extension: `{"ext": {"replay": {"<channel>": -1 | -2 | replayId}}}`; -1 (new
    // events only) when absent.
    let replay = message
        .get("ext")
        .and_then(|e| e.get("replay"))
        .and_then(|r| r.get(subscription))
        .map_or(Some(-1), Value::as_i64);
    let mut state = cx.sim.lock();
    let now = state.store.clock.now();
    state.events.expire(now);
    let cursor = match replay {
        Some(-1) => Some(state.events.latest_replay_id()),
        Some(-2) => Some(0),
        Some(r) if r > 0 && state.events.is_retained(r as u64, filter) => Some(r as u64),
        _ => None,
    };
    let Some(cursor) = cursor else {
        let shown = message
            .get("ext")
            .and_then(|e| e.get("replay"))
            .and_then(|r| r.get(subscription))
            .map_or_else(String::new, Value::to_string);
        return refuse(format!(
            "400::The replayId {shown} you provided was invalid. Please provide a valid ID, -2 to replay all events, or -1 to replay only new events."
        ));
    };
    let Some(session) = state.sessions.get_mut(&id) else {
        return unknown_client(message, channel);
    };
    session.subscriptions.retain(|s| s.channel != subscription);
    session.subscriptions.push(Subscription {
        channel: subscription.to_string(),
        filter,
        cursor,
    });
    let mut out = reply(message, channel);
    out.insert("subscription".into(), json!(subscription));
    out.insert("successful".into(), json!(true));
    Value::Object(out)
}

fn unsubscribe(cx: &Context<'_>, message: &Value) -> Value {
    let channel = "/meta/unsubscribe";
    let id = match known_client(cx, message, channel) {
        Ok(id) => id,
        Err(fail) => return fail,
    };
    let subscription = message
        .get("subscription")
        .and_then(Value::as_str)
        .unwrap_or("");
    if let Some(session) = cx.sim.lock().sessions.get_mut(&id) {
        session.subscriptions.retain(|s| s.channel != subscription);
    }
    let mut out = reply(message, channel);
    out.insert("subscription".into(), json!(subscription));
    out.insert("successful".into(), json!(true));
    Value::Object(out)
}

fn disconnect(cx: &Context<'_>, message: &Value) -> Value {
    let channel = "/meta/disconnect";
    let id = match known_client(cx, message, channel) {
        Ok(id) => id,
        Err(fail) => return fail,
    };
    cx.sim.lock().sessions.remove(&id);
    // A connect held for this client returns now.
    cx.sim.inner.published.notify_waiters();
    let mut out = reply(message, channel);
    out.insert("successful".into(), json!(true));
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_the_path() {
        assert_eq!(version("/cometd/62.0"), Ok(62));
        assert_eq!(version("/cometd/62.0/connect"), Ok(62));
        assert!(version("/cometd").unwrap_err().contains("mandatory"));
        assert!(version("/cometd/36.0").unwrap_err().contains("Unsupported"));
        assert!(version("/cometd/v62.0").is_err());
    }
}
