//! A CometD (Bayeux long-polling) client for Change Data Capture over the Streaming API
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_client_connection.htm>).
//!
//! One [`StreamingClient::connect`] is one long poll: it handshakes and (re)subscribes first when
//! needed, honours the server's advice (`interval`, `timeout`, `reconnect`), and returns the
//! events that arrived, possibly none. A forgotten client (`403::Unknown client`) handshakes again
//! and resubscribes after the last replay id it saw; a dead session (`401::…`) mints a new token
//! once. Cookies the server sets are sent back, as Salesforce requires
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/intro_client_specs.htm>).
//! Every exchange goes through the client's single request path; none spends API requests.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{COOKIE, HeaderValue, SET_COOKIE};
use serde_json::{Value, json};

use super::change_event::ChangeEvent;
use super::client::{CallOptions, Payload, Root, SalesforceClient};
use super::error::SalesforceError;

/// Where a subscription starts: `-1` new events only, `-2` every retained event (72 h), or after
/// a replay id already processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayFrom {
    NewEvents,
    AllRetained,
    After(i64),
}

impl ReplayFrom {
    fn id(self) -> i64 {
        match self {
            Self::NewEvents => -1,
            Self::AllRetained => -2,
            Self::After(id) => id,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reconnect {
    Retry,
    Handshake,
    None,
}

/// The server's advice; Salesforce holds a connect 110 s and wants the next one at once.
#[derive(Clone, Copy, Debug)]
struct Advice {
    interval: Duration,
    timeout: Duration,
    reconnect: Reconnect,
}

impl Default for Advice {
    fn default() -> Self {
        Self {
            interval: Duration::ZERO,
            timeout: Duration::from_secs(110),
            reconnect: Reconnect::Retry,
        }
    }
}

impl Advice {
    /// Fields present in `advice` replace ours; absent ones keep their last value.
    fn update(&mut self, advice: Option<&Value>) {
        let Some(a) = advice else { return };
        if let Some(ms) = a.get("interval").and_then(Value::as_u64) {
            self.interval = Duration::from_millis(ms);
        }
        if let Some(ms) = a.get("timeout").and_then(Value::as_u64) {
            self.timeout = Duration::from_millis(ms);
        }
        self.reconnect = match a.get("reconnect").and_then(Value::as_str) {
            Some("handshake") => Reconnect::Handshake,
            Some("none") => Reconnect::None,
            Some(_) => Reconnect::Retry,
            None => self.reconnect,
        };
    }
}

/// What one long poll brought.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delivery {
    pub events: Vec<ChangeEvent>,
    /// The session was re-established and a channel resubscribed from `-1` because no event had
    /// been seen on it yet: events published in between were not replayed. Read by query to
    /// catch up.
    pub maybe_missed: bool,
}

/// How long past the server's hold a connect may take before we call it lost.
const CONNECT_MARGIN: Duration = Duration::from_secs(30);
/// Handshakes one `connect` may try before giving up (a re-auth counts as one).
const MAX_ROUNDS: usize = 3;

/// A Streaming API session. Not `Clone`: one long poll at a time per client.
pub struct StreamingClient {
    sf: SalesforceClient,
    client_id: Option<String>,
    cookies: BTreeMap<String, String>,
    /// Channels wanted, in subscription order, with where each started.
    wanted: Vec<(String, ReplayFrom)>,
    /// The newest replay id received per channel: where a resubscription resumes.
    positions: HashMap<String, i64>,
    advice: Advice,
    next_id: u64,
    /// Handshakes so far; a resubscription from `-1` after the first may have missed events.
    handshakes: u64,
    maybe_missed: bool,
}

impl SalesforceClient {
    /// A Streaming API client sharing this client's token, pool and request path.
    pub fn streaming(&self) -> StreamingClient {
        StreamingClient {
            sf: self.clone(),
            client_id: None,
            cookies: BTreeMap::new(),
            wanted: Vec::new(),
            positions: HashMap::new(),
            advice: Advice::default(),
            next_id: 0,
            handshakes: 0,
            maybe_missed: false,
        }
    }
}

impl StreamingClient {
    /// The Bayeux client id of the current session, if handshaken.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The replay id of the newest event received on `channel`: persist it to resume later.
    pub fn replay_id(&self, channel: &str) -> Option<i64> {
        self.positions.get(channel).copied()
    }

    /// Subscribes to `/data/ChangeEvents` or `/data/<Object>ChangeEvent` from `from`, now, and
    /// again after every new handshake (from the newest event received by then).
    pub async fn subscribe(
        &mut self,
        channel: &str,
        from: ReplayFrom,
    ) -> Result<(), SalesforceError> {
        if !channel.starts_with("/data/") {
            return Err(SalesforceError::InvalidInput(format!(
                "{channel:?} is not a change event channel"
            )));
        }
        self.wanted.retain(|(c, _)| c != channel);
        self.wanted.push((channel.to_owned(), from));
        if self.client_id.is_none() {
            return self.handshake().await;
        }
        self.subscribe_one(channel, from).await
    }

    /// One long poll: the events that arrived, or none when the server's hold ran out.
    pub async fn connect(&mut self) -> Result<Delivery, SalesforceError> {
        let mut reauthenticated = false;
        for _ in 0..MAX_ROUNDS {
            if self.client_id.is_none() {
                self.handshake().await?;
            }
            if !self.advice.interval.is_zero() {
                tokio::time::sleep(self.advice.interval).await;
            }
            let message = json!({
                "channel": "/meta/connect",
                "clientId": self.client_id,
                "connectionType": "long-polling",
                "id": self.message_id(),
            });
            let hold = self.advice.timeout + CONNECT_MARGIN;
            let (replies, generation) = self.exchange(json!([message]), Some(hold)).await?;
            let mut events = Vec::new();
            let mut reply = None;
            for r in &replies {
                match r.get("channel").and_then(Value::as_str) {
                    Some("/meta/connect") => reply = Some(r),
                    _ if r.get("data").is_some() => events.push(ChangeEvent::from_message(r)?),
                    _ => {}
                }
            }
            for event in &events {
                let position = self
                    .positions
                    .entry(event.channel.clone())
                    .or_insert(event.replay_id);
                *position = (*position).max(event.replay_id);
            }
            let reply = reply.ok_or_else(|| {
                SalesforceError::Protocol("a connect answer without /meta/connect".into())
            })?;
            self.advice.update(reply.get("advice"));
            if successful(reply) || !events.is_empty() {
                return Ok(Delivery {
                    events,
                    maybe_missed: std::mem::take(&mut self.maybe_missed),
                });
            }
            let error = error_of(reply);
            if error.starts_with("401::") && !reauthenticated {
                self.sf.reauthenticate(generation).await?;
                reauthenticated = true;
                self.client_id = None;
                continue;
            }
            if error.starts_with("403::Organization total events daily limit exceeded") {
                return Err(SalesforceError::EventLimitExceeded { error });
            }
            if error == "403::Unknown client" || self.advice.reconnect == Reconnect::Handshake {
                tracing::info!(error = %error, "streaming client forgotten, handshaking again");
                self.client_id = None;
                continue;
            }
            return Err(SalesforceError::Streaming {
                channel: "/meta/connect".into(),
                error,
            });
        }
        Err(SalesforceError::Streaming {
            channel: "/meta/connect".into(),
            error: format!("no connect succeeded after {MAX_ROUNDS} handshakes"),
        })
    }

    /// Ends the session; the next [`connect`](Self::connect) handshakes again.
    pub async fn disconnect(&mut self) -> Result<(), SalesforceError> {
        let Some(client_id) = self.client_id.take() else {
            return Ok(());
        };
        let message = json!([{"channel": "/meta/disconnect", "clientId": client_id, "id": self.message_id()}]);
        self.exchange(message, None).await?;
        Ok(())
    }

    fn message_id(&mut self) -> String {
        self.next_id += 1;
        self.next_id.to_string()
    }

    /// Handshakes, then subscribes to every wanted channel from where it left off.
    async fn handshake(&mut self) -> Result<(), SalesforceError> {
        let mut reauthenticated = false;
        let client_id = loop {
            let message = json!([{
                "channel": "/meta/handshake",
                "version": "1.0",
                "minimumVersion": "1.0",
                "supportedConnectionTypes": ["long-polling"],
                "ext": {"replay": true},
                "id": self.message_id(),
            }]);
            let (replies, generation) = self.exchange(message, None).await?;
            let reply = reply_on(&replies, "/meta/handshake")?;
            if successful(reply) {
                break reply
                    .get("clientId")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        SalesforceError::Protocol("a handshake without clientId".into())
                    })?;
            }
            // 403::Handshake denied carries the cause in ext.sfdc.failureReason.
            let reason = reply
                .pointer("/ext/sfdc/failureReason")
                .and_then(Value::as_str)
                .map_or_else(|| error_of(reply), str::to_owned);
            if reason.starts_with("401::") && !reauthenticated {
                self.sf.reauthenticate(generation).await?;
                reauthenticated = true;
                continue;
            }
            return Err(SalesforceError::Streaming {
                channel: "/meta/handshake".into(),
                error: format!("{} ({reason})", error_of(reply)),
            });
        };
        self.client_id = Some(client_id);
        self.advice = Advice::default();
        self.handshakes += 1;
        let wanted = self.wanted.clone();
        for (channel, from) in wanted {
            let from = match self.positions.get(&channel) {
                Some(id) => ReplayFrom::After(*id),
                None => {
                    self.maybe_missed |= self.handshakes > 1 && from == ReplayFrom::NewEvents;
                    from
                }
            };
            self.subscribe_one(&channel, from).await?;
        }
        Ok(())
    }

    async fn subscribe_one(
        &mut self,
        channel: &str,
        from: ReplayFrom,
    ) -> Result<(), SalesforceError> {
        let message = json!([{
            "channel": "/meta/subscribe",
            "clientId": self.client_id,
            "subscription": channel,
            "ext": {"replay": {channel: from.id()}},
            "id": self.message_id(),
        }]);
        let (replies, _) = self.exchange(message, None).await?;
        let reply = reply_on(&replies, "/meta/subscribe")?;
        if successful(reply) {
            return Ok(());
        }
        let error = error_of(reply);
        if error == "403::Unknown client" {
            self.client_id = None;
        }
        if error.contains("replayId") {
            return Err(SalesforceError::ReplayUnavailable {
                channel: channel.to_owned(),
                replay_id: from.id(),
                error,
            });
        }
        Err(SalesforceError::Streaming {
            channel: channel.to_owned(),
            error,
        })
    }

    /// Posts Bayeux messages; returns the answer's messages and the token generation used.
    async fn exchange(
        &mut self,
        messages: Value,
        timeout: Option<Duration>,
    ) -> Result<(Vec<Value>, u64), SalesforceError> {
        let mut options = CallOptions {
            root: Root::Cometd,
            timeout,
            ..CallOptions::default()
        };
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let value = HeaderValue::from_str(&jar.join("; ")).map_err(|_| {
                SalesforceError::Protocol("a cookie that isn't a header value".into())
            })?;
            options.headers.push((COOKIE, value));
        }
        let answer = self
            .sf
            .call_accepting(
                "application/json",
                Method::POST,
                &[],
                &[],
                Payload::json(&messages)?,
                &options,
            )
            .await?;
        for set in answer.headers.get_all(SET_COOKIE) {
            let pair = set.to_str().ok().and_then(|v| v.split(';').next());
            if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let replies: Vec<Value> = answer.json("Bayeux answer")?;
        Ok((replies, answer.token_generation))
    }
}

fn successful(reply: &Value) -> bool {
    reply.get("successful").and_then(Value::as_bool) == Some(true)
}

fn error_of(reply: &Value) -> String {
    reply
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unsuccessful, no error given")
        .to_owned()
}

fn reply_on<'a>(replies: &'a [Value], channel: &str) -> Result<&'a Value, SalesforceError> {
    replies
        .iter()
        .find(|r| r.get("channel").and_then(Value::as_str) == Some(channel))
        .ok_or_else(|| SalesforceError::Protocol(format!("no {channel} reply in the answer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_fields_replace_only_what_they_name() {
        let mut advice = Advice::default();
        advice.update(Some(
            &json!({"interval": 0, "timeout": 2000, "reconnect": "retry"}),
        ));
        assert_eq!(advice.timeout, Duration::from_secs(2));
        advice.update(Some(&json!({"reconnect": "handshake"})));
        assert_eq!(
            (advice.timeout, advice.reconnect),
            (Duration::from_secs(2), Reconnect::Handshake)
        );
        advice.update(None);
        assert_eq!(advice.reconnect, Reconnect::Handshake);
        assert_eq!(ReplayFrom::AllRetained.id(), -2);
        assert_eq!(ReplayFrom::After(42).id(), 42);
    }
}
