//! `/meta/connect`: the long poll. The first connect after a handshake answers at once with the
//! server's advice (`timeout` 110,000 ms, `interval` 0, `reconnect: retry`, [OBS]); later ones are
//! held until change events arrive for the client's subscriptions or the timeout passes
//! (<https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_client_connection.htm>).
//!
//! Every event delivered to a client counts against the event-delivery allocation; past it the
//! connect fails with `403::Organization total events daily limit exceeded`
//! (<https://developer.salesforce.com/docs/platform/api-streaming/guide/limits.html>) and the events
//! stay on the bus for replay [UNVERIFIED: the advice sent with that error].

use std::time::Duration;

use serde_json::{Value, json};

use super::Simulator;
use super::cometd::{Context, failure, known_client, reply, unknown_client};

/// Events per connect answer [UNVERIFIED: the simulator's pick; Salesforce doesn't document one].
const MAX_EVENTS_PER_ANSWER: usize = 1000;
const LIMIT_EXCEEDED: &str = "403::Organization total events daily limit exceeded";

enum Poll {
    Unknown,
    Superseded,
    LimitExceeded,
    Nothing,
    Events(Vec<Value>),
}

pub async fn connect(cx: &Context<'_>, message: &Value) -> Vec<Value> {
    let channel = "/meta/connect";
    let id = match known_client(cx, message, channel) {
        Ok(id) => id,
        Err(fail) => return vec![fail],
    };
    let connection_type = message
        .get("connectionType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if connection_type != "long-polling" {
        let error = format!("400::Invalid connection type {connection_type}");
        return vec![failure(message, channel, &error, None)];
    }
    let cfg = cx.sim.cfg();
    let (timeout, deadline) = (cfg.cometd_connect_timeout, cfg.cometd_reconnect_deadline);
    let generation = {
        let mut state = cx.sim.lock();
        let over_limit = {
            let now = state.store.clock.now();
            state.events.delivered_in_window(now) >= state.event_max
        };
        let Some(session) = state.sessions.get_mut(&id) else {
            return vec![unknown_client(message, channel)];
        };
        session.generation += 1;
        if !session.connected {
            session.connected = true;
            session.answered(deadline);
            if over_limit {
                return vec![limit_exceeded(message)];
            }
            return vec![connected(message, Some(advice(timeout)))];
        }
        session.holding = true;
        session.generation
    };
    let _release = Release {
        sim: cx.sim,
        id: &id,
        generation,
        deadline,
    };
    let until = tokio::time::Instant::now() + timeout;
    loop {
        let notified = cx.sim.inner.published.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        match collect(cx.sim, &id, generation) {
            Poll::Unknown => return vec![unknown_client(message, channel)],
            Poll::Superseded => return vec![connected(message, None)],
            Poll::LimitExceeded => return vec![limit_exceeded(message)],
            Poll::Events(mut events) => {
                events.push(connected(message, None));
                return events;
            }
            Poll::Nothing => {}
        }
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep_until(until) => return vec![connected(message, None)],
            () = cx.sim.inner.closing.cancelled() => return vec![connected(message, None)],
        }
    }
}

fn advice(timeout: Duration) -> Value {
    json!({"interval": 0, "timeout": timeout.as_millis() as u64, "reconnect": "retry"})
}

fn connected(message: &Value, advice: Option<Value>) -> Value {
    let mut out = reply(message, "/meta/connect");
    out.insert("successful".into(), json!(true));
    if let Some(advice) = advice {
        out.insert("advice".into(), advice);
    }
    Value::Object(out)
}

fn limit_exceeded(message: &Value) -> Value {
    failure(
        message,
        "/meta/connect",
        LIMIT_EXCEEDED,
        Some(json!({"reconnect": "none", "interval": 0})),
    )
}

/// Takes the events waiting for the client, within what the delivery allocation has left.
fn collect(sim: &Simulator, id: &str, generation: u64) -> Poll {
    let mut guard = sim.lock();
    let state = &mut *guard;
    let now = state.store.clock.now();
    state.events.expire(now);
    let remaining = state
        .event_max
        .saturating_sub(state.events.delivered_in_window(now));
    let budget = usize::try_from(remaining)
        .unwrap_or(usize::MAX)
        .min(MAX_EVENTS_PER_ANSWER);
    let Some(session) = state.sessions.get_mut(id) else {
        return Poll::Unknown;
    };
    if session.generation != generation {
        return Poll::Superseded;
    }
    let mut out = Vec::new();
    let mut waiting = false;
    for sub in &mut session.subscriptions {
        for event in state.events.after(sub.cursor, sub.filter) {
            if out.len() >= budget {
                waiting = true;
                break;
            }
            out.push(event.message(&sub.channel));
            sub.cursor = event.replay_id;
        }
    }
    if out.is_empty() {
        return if waiting && remaining == 0 {
            Poll::LimitExceeded
        } else {
            Poll::Nothing
        };
    }
    let delivered = out.len() as u64;
    state.events.record_deliveries(now, delivered);
    state.stats.events_delivered += delivered;
    Poll::Events(out)
}

/// Marks the connect as answered however it ends, the client's disconnection included, so the
/// reconnect deadline starts.
struct Release<'a> {
    sim: &'a Simulator,
    id: &'a str,
    generation: u64,
    deadline: Duration,
}

impl Drop for Release<'_> {
    fn drop(&mut self) {
        let mut state = self.sim.lock();
        if let Some(session) = state.sessions.get_mut(self.id)
            && session.generation == self.generation
        {
            session.answered(self.deadline);
        }
    }
}
