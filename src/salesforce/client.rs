//! The client: one HTTP connection pool, the cached token, the last usage seen, and the single
//! request path every resource goes through (re-auth once on 401, §1.3; usage header, §6.2).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use super::bulk_upload::CsvUpload;
use super::config::{ApiVersion, SalesforceConfig};
use super::error::{SalesforceError, first_api_error};
use super::gate::{CallEnd, CallGate, Seat};
use super::limits::{ApiUsage, OrgLimits, parse_limit_info};
use super::token::{AccessToken, TokenSource};
use super::types::SObjectDescribe;

/// 401 bodies a new token won't fix; jsforce skips re-auth for these (§1.3).
const NO_REAUTH_MESSAGES: &[&str] = &[
    "This session is not valid for use with the REST API",
    "Connected app is not attached to Agent",
];

/// A typed Salesforce REST client. Cheap to clone: clones share the pool, token and usage.
///
/// It never retries on its own except for the single re-auth after a 401: retry policy belongs
/// to the caller, guided by [`SalesforceError::class`].
#[derive(Clone)]
pub struct SalesforceClient {
    inner: Arc<Inner>,
    /// Every call but Streaming API exchanges passes it; `None` only for tools and tests that
    /// talk to Salesforce without a database.
    gate: Option<CallGate>,
}

struct Inner {
    http: reqwest::Client,
    tokens: TokenSource,
    api_version: ApiVersion,
    request_timeout: Duration,
    usage: Mutex<Option<ApiUsage>>,
}

/// What a request sends, kept so that the single retry after re-auth can send it again: bytes,
/// or a CSV upload that writes itself again from the start.
pub(crate) enum Payload {
    Empty,
    Json(Vec<u8>),
    Csv(CsvUpload),
}

/// Takes a 2xx answer's body chunk by chunk as it arrives, instead of in one piece (a Bulk job's
/// result CSV, §5.3). An error stops the reading and is the call's.
pub(crate) type BodySink<'a> = &'a mut (dyn FnMut(&[u8]) -> Result<(), SalesforceError> + Send);

impl Payload {
    pub(crate) fn json(value: &impl serde::Serialize) -> Result<Self, SalesforceError> {
        serde_json::to_vec(value)
            .map(Payload::Json)
            .map_err(|e| SalesforceError::InvalidInput(format!("can't serialize the request: {e}")))
    }
}

/// A 2xx answer, read in full (bodies are bounded: ≤200 results, one query page, or one
/// CometD exchange), or empty when a [`BodySink`] took it.
pub(crate) struct Answer {
    pub(crate) body: Vec<u8>,
    /// Response headers (`Sforce-Locator`, `Set-Cookie`…).
    pub(crate) headers: HeaderMap,
    /// The generation of the token the answer was obtained with, for a later re-auth.
    pub(crate) token_generation: u64,
}

/// Where a request goes under the instance URL.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Root {
    /// `/services/data/vXX.X/…`: REST, Bulk API 2.0.
    #[default]
    Data,
    /// `/cometd/XX.X`: the Streaming API's Bayeux endpoint.
    Cometd,
}

/// What some requests need beyond method, path, query and payload.
#[derive(Clone, Debug, Default)]
pub(crate) struct CallOptions {
    pub(crate) root: Root,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    /// Replaces the configured whole-request timeout (a CometD long poll outlives it).
    pub(crate) timeout: Option<Duration>,
}

impl Answer {
    pub(crate) fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, SalesforceError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| SalesforceError::Protocol(format!("{what}: {e}")))
    }
}

impl SalesforceClient {
    /// Builds the client. Fails on a key that can't sign (checked now, not at the first call).
    pub fn new(cfg: SalesforceConfig) -> Result<Self, SalesforceError> {
        let tokens = TokenSource::new(&cfg)?;
        let http = reqwest::Client::builder()
            .timeout(cfg.request_timeout)
            .connect_timeout(cfg.request_timeout)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                SalesforceError::InvalidInput(format!("can't build the HTTP client: {e}"))
            })?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                tokens,
                api_version: cfg.api_version,
                request_timeout: cfg.request_timeout,
                usage: Mutex::new(None),
            }),
            gate: None,
        })
    }

    /// The same client (token, connections and usage shared) whose calls pass `gate`.
    pub fn with_gate(&self, gate: CallGate) -> Self {
        Self {
            inner: self.inner.clone(),
            gate: Some(gate),
        }
    }

    pub fn gate(&self) -> Option<&CallGate> {
        self.gate.as_ref()
    }

    /// The last `Sforce-Limit-Info` seen on any response, or `None` before the first call.
    pub fn api_usage(&self) -> Option<ApiUsage> {
        self.inner
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Token requests sent so far (the first mint included), for metrics.
    pub fn token_refreshes(&self) -> u64 {
        self.inner.tokens.requests()
    }

    /// The whole-request timeout of every call (`SALESFORCE_TIMEOUT_SECS`).
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
    }

    pub fn api_version(&self) -> ApiVersion {
        self.inner.api_version
    }

    /// `GET /limits` (§6.2). Costs an API call; values lag by up to five minutes.
    pub async fn limits(&self) -> Result<OrgLimits, SalesforceError> {
        let answer = self
            .call(Method::GET, &["limits"], &[], Payload::Empty)
            .await?;
        let value: serde_json::Value = answer.json("limits")?;
        OrgLimits::from_json(&value)
            .ok_or_else(|| SalesforceError::Protocol("limits: not a JSON object".into()))
    }

    /// `GET /sobjects/{object}/describe` (§9).
    pub async fn describe(&self, object: &str) -> Result<SObjectDescribe, SalesforceError> {
        let object = api_name(object)?;
        let answer = self
            .call(
                Method::GET,
                &["sobjects", object, "describe"],
                &[],
                Payload::Empty,
            )
            .await?;
        answer.json("describe")
    }

    /// Sends one request to `{instance_url}/services/data/{version}/{path…}`, re-authenticating
    /// once on 401 `INVALID_SESSION_ID` (§1.3). Non-2xx answers become classified errors.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: Payload,
    ) -> Result<Answer, SalesforceError> {
        let options = CallOptions::default();
        self.call_accepting("application/json", method, path, query, payload, &options)
            .await
    }

    /// The single request path: every call to Salesforce — REST, Bulk, queries and CometD
    /// exchanges alike — goes through here, so a gate or a budget placed here sees them all.
    /// [`call`](Self::call) is its JSON shorthand; `options` picks the root (`/cometd`), extra
    /// headers and a longer timeout.
    pub(crate) async fn call_accepting(
        &self,
        accept: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: Payload,
        options: &CallOptions,
    ) -> Result<Answer, SalesforceError> {
        self.call_with(accept, method, path, query, payload, options, None)
            .await
    }

    /// [`call_accepting`](Self::call_accepting) whose 2xx answer goes to `sink` as it arrives
    /// rather than into [`Answer::body`] (an error answer is read whole, to be classified).
    pub(crate) async fn call_streaming(
        &self,
        accept: &'static str,
        method: Method,
        path: &[&str],
        payload: Payload,
        sink: BodySink<'_>,
    ) -> Result<Answer, SalesforceError> {
        let options = CallOptions::default();
        self.call_with(accept, method, path, &[], payload, &options, Some(sink))
            .await
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, passed through once"
    )]
    async fn call_with(
        &self,
        accept: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: Payload,
        options: &CallOptions,
        sink: Option<BodySink<'_>>,
    ) -> Result<Answer, SalesforceError> {
        let kind = call_kind(options.root, path);
        let gate = self
            .gate
            .as_ref()
            .filter(|_| counts_against_api_limit(kind));
        let result = match gate {
            None => {
                self.send_reauthenticating(
                    accept, method, path, query, payload, options, sink, None,
                )
                .await
            }
            Some(gate) => {
                self.send_gated(gate, accept, method, path, query, payload, options, sink)
                    .await
            }
        };
        let outcome = result.as_ref().map(|_| ()).map_err(SalesforceError::class);
        super::metrics::call(kind, outcome);
        result
    }

    /// [`send_reauthenticating`](Self::send_reauthenticating) through the gate: a seat before
    /// the token is read, a place in the second right before each request goes out, and the
    /// answer's usage and reachability recorded after.
    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, passed through once"
    )]
    async fn send_gated(
        &self,
        gate: &CallGate,
        accept: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: Payload,
        options: &CallOptions,
        sink: Option<BodySink<'_>>,
    ) -> Result<Answer, SalesforceError> {
        let seat = gate.enter().await.map_err(SalesforceError::from)?;
        let mut reported = None;
        let result = self
            .send_reauthenticating(
                accept,
                method,
                path,
                query,
                payload,
                options,
                sink,
                Some((gate, &seat, &mut reported)),
            )
            .await;
        let end = match &result {
            Err(SalesforceError::Gate(_) | SalesforceError::Held { .. }) => None,
            Err(e) if e.is_unreachable() => Some(CallEnd::Unreachable),
            _ => Some(CallEnd::Answered),
        };
        match gate.leave(seat, end, reported.as_ref()).await {
            Ok(Some(hold)) if end == Some(CallEnd::Unreachable) => {
                tracing::warn!(error = ?result.as_ref().err(), "call failed during a Salesforce outage");
                Err(SalesforceError::Held {
                    reason: hold.reason,
                    until: hold.until,
                })
            }
            Ok(_) => result,
            Err(e) => {
                tracing::warn!(error = %e, "recording the call at the gate failed");
                result
            }
        }
    }

    /// Replaces the token an answer was obtained with, unless another caller already did: for
    /// the Streaming API, which reports a dead session inside a 200 answer (`401::…`).
    pub(crate) async fn reauthenticate(
        &self,
        stale_generation: u64,
    ) -> Result<(), SalesforceError> {
        let inner = &self.inner;
        inner
            .tokens
            .refresh(&inner.http, stale_generation)
            .await
            .map(|_| ())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, passed through once"
    )]
    async fn send_reauthenticating(
        &self,
        accept: &'static str,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: Payload,
        options: &CallOptions,
        mut sink: Option<BodySink<'_>>,
        mut gate: Option<(&CallGate, &Seat, &mut Option<ApiUsage>)>,
    ) -> Result<Answer, SalesforceError> {
        let inner = &self.inner;
        let mut token = inner.tokens.current(&inner.http).await?;
        if let Some((gate, seat, _)) = &gate {
            gate.go(seat).await?;
        }
        let (status, content_type, headers, body) = self
            .execute(
                &token,
                accept,
                &method,
                path,
                query,
                &payload,
                options,
                reborrow(&mut sink),
            )
            .await?;
        if let Some((_, _, reported)) = &mut gate {
            **reported = limit_info(&headers).or(reported.take());
        }
        let (status, content_type, headers, body) = if status == StatusCode::UNAUTHORIZED {
            let (_, message) = first_api_error(content_type.as_deref(), &body);
            if NO_REAUTH_MESSAGES.iter().any(|m| message.contains(m)) {
                return Err(SalesforceError::SessionInvalid { message });
            }
            tracing::info!(
                generation = token.generation,
                "salesforce session expired, re-authenticating once"
            );
            token = inner.tokens.refresh(&inner.http, token.generation).await?;
            // The resent request is a call of its own.
            if let Some((gate, seat, _)) = &gate {
                gate.go(seat).await?;
            }
            let answer = self
                .execute(
                    &token,
                    accept,
                    &method,
                    path,
                    query,
                    &payload,
                    options,
                    reborrow(&mut sink),
                )
                .await?;
            if let Some((_, _, reported)) = &mut gate {
                **reported = limit_info(&answer.2).or(reported.take());
            }
            answer
        } else {
            (status, content_type, headers, body)
        };
        if !status.is_success() {
            return Err(SalesforceError::from_response(
                status,
                content_type.as_deref(),
                &body,
            ));
        }
        Ok(Answer {
            body,
            headers,
            token_generation: token.generation,
        })
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one request's parts, passed through once"
    )]
    async fn execute(
        &self,
        token: &AccessToken,
        accept: &'static str,
        method: &Method,
        path: &[&str],
        query: &[(&str, &str)],
        payload: &Payload,
        options: &CallOptions,
        sink: Option<BodySink<'_>>,
    ) -> Result<(StatusCode, Option<String>, HeaderMap, Vec<u8>), SalesforceError> {
        let mut url = token.instance_url.clone();
        {
            let version = self.inner.api_version;
            let data_version = version.to_string();
            // The Bayeux endpoint takes the bare number: `/cometd/62.0`.
            let cometd_version = format!("{}.0", version.major());
            let root = match options.root {
                Root::Data => ["services", "data", data_version.as_str()].to_vec(),
                Root::Cometd => ["cometd", cometd_version.as_str()].to_vec(),
            };
            let mut segments = url.path_segments_mut().map_err(|()| {
                SalesforceError::Protocol("instance_url can't be a base URL".into())
            })?;
            segments.pop_if_empty().extend(root).extend(path);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", token.value.expose_secret()))
            .map_err(|_| {
                SalesforceError::Protocol("access token is not a valid header value".into())
            })?;
        bearer.set_sensitive(true);

        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(AUTHORIZATION, bearer)
            .header(ACCEPT, accept);
        for (name, value) in &options.headers {
            request = request.header(name, value.clone());
        }
        if let Some(timeout) = options.timeout {
            request = request.timeout(timeout);
        }
        let request = match payload {
            Payload::Empty => request,
            Payload::Json(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            // Sent with its Content-Length: the body announces its exact size.
            Payload::Csv(csv) => request.header(CONTENT_TYPE, "text/csv").body(csv.body()),
        };

        let started = Instant::now();
        let mut response = request.send().await.map_err(|e| {
            tracing::warn!(method = %method, path = url.path(), timeout = e.is_timeout(), "salesforce request failed");
            SalesforceError::Network(e)
        })?;
        let status = response.status();
        self.observe_usage(response.headers());
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let headers = response.headers().clone();
        let body = match sink {
            Some(sink) if status.is_success() => {
                while let Some(chunk) = response.chunk().await.map_err(SalesforceError::Network)? {
                    sink(&chunk)?;
                }
                Vec::new()
            }
            _ => response
                .bytes()
                .await
                .map_err(SalesforceError::Network)?
                .to_vec(),
        };
        tracing::debug!(
            method = %method,
            path = url.path(),
            status = status.as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "salesforce request"
        );
        Ok((status, content_type, headers, body))
    }

    fn observe_usage(&self, headers: &reqwest::header::HeaderMap) {
        let Some(usage) = limit_info(headers) else {
            return;
        };
        *self
            .inner
            .usage
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(usage);
    }
}

/// `sink` lent out for one request, kept for the resend after a re-auth.
fn reborrow<'a>(sink: &'a mut Option<BodySink<'_>>) -> Option<BodySink<'a>> {
    match sink {
        Some(sink) => Some(&mut **sink),
        None => None,
    }
}

/// The usage an answer reports (`Sforce-Limit-Info`, §6.2).
fn limit_info(headers: &HeaderMap) -> Option<ApiUsage> {
    headers
        .get("Sforce-Limit-Info")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_limit_info(v, Utc::now()))
}

/// The kind of call, for metrics: the resource family of the path (§3 collections, §5 Bulk API
/// 2.0 ingest; SOQL queries and their pages, getUpdated/getDeleted, Bulk API 2.0 query jobs,
/// and Streaming API exchanges).
pub(crate) fn call_kind(root: Root, path: &[&str]) -> &'static str {
    if root == Root::Cometd {
        return "streaming";
    }
    match path {
        ["composite", ..] => "collections",
        ["jobs", "query", ..] => "bulk_query",
        ["jobs", ..] => "bulk",
        ["limits", ..] => "limits",
        ["query" | "queryAll", _] => "query_more",
        ["query" | "queryAll"] => "query",
        ["sobjects", _, "updated" | "deleted", ..] => "replication",
        ["sobjects", ..] => "describe",
        _ => "other",
    }
}

/// Whether a call of `kind` (see [`call_kind`]) spends the daily API request allocation.
/// Streaming API exchanges don't: the Streaming API meters event deliveries instead
/// (<https://developer.salesforce.com/docs/platform/api-streaming/guide/limits.html>;
/// see `src/sim/cometd.rs` for the sources and what is unverified).
pub fn counts_against_api_limit(kind: &str) -> bool {
    kind != "streaming"
}

/// Object and field API names are letters, digits and underscores (`Account`, `ERP_Id__c`).
/// Checking them here gives a clear error instead of a 404 for a typo with a space or slash.
pub(crate) fn api_name(name: &str) -> Result<&str, SalesforceError> {
    let valid = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(name)
    } else {
        Err(SalesforceError::InvalidInput(format!(
            "{name:?} is not a Salesforce API name"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_kinds_name_the_resource_family() {
        let kind = |path: &[&str]| call_kind(Root::Data, path);
        assert_eq!(kind(&["query"]), "query");
        assert_eq!(kind(&["queryAll"]), "query");
        assert_eq!(kind(&["query", "01gxx-2000"]), "query_more");
        assert_eq!(kind(&["sobjects", "Account", "updated", ""]), "replication");
        assert_eq!(kind(&["sobjects", "Account", "describe"]), "describe");
        assert_eq!(kind(&["jobs", "query", "750x", "results"]), "bulk_query");
        assert_eq!(kind(&["jobs", "ingest"]), "bulk");
        assert_eq!(call_kind(Root::Cometd, &[]), "streaming");
        assert!(!counts_against_api_limit("streaming"));
        assert!(counts_against_api_limit("query_more"));
    }

    #[test]
    fn api_names_are_checked() {
        assert!(api_name("Account").is_ok());
        assert!(api_name("ERP_Id__c").is_ok());
        for bad in ["", "Acc ount", "../limits", "Account/describe"] {
            assert!(api_name(bad).is_err(), "{bad:?}");
        }
    }
}
