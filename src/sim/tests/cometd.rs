use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;

use super::*;

const HELD: Duration = Duration::from_millis(400);

fn streaming_sim() -> Simulator {
    Simulator::new(SimConfig {
        public_url: Some(BASE.into()),
        cometd_connect_timeout: HELD,
        ..SimConfig::dev()
    })
}

fn account(name: &str) -> Map<String, Value> {
    json!({"Name": name})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

/// A test's CometD client: posts Bayeux messages with the session and the cookie it was given.
struct Bayeux {
    sim: Simulator,
    token: String,
    cookie: Option<String>,
    client: String,
}

impl Bayeux {
    async fn post(&mut self, messages: Value) -> (StatusCode, Vec<Value>) {
        let mut req = Request::post("/cometd/62.0")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token));
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", cookie.clone());
        }
        let reply = send(
            &self.sim,
            req.body(Body::from(messages.to_string())).expect("request"),
        )
        .await;
        if let Some(set) = reply
            .headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
        {
            self.cookie = set.split(';').next().map(str::to_string);
        }
        let list = match reply.json() {
            Value::Array(list) => list,
            other => panic!("not a Bayeux array: {other}"),
        };
        (reply.status, list)
    }

    async fn handshake(sim: &Simulator, token: &str) -> Self {
        let mut b = Self {
            sim: sim.clone(),
            token: token.to_string(),
            cookie: None,
            client: String::new(),
        };
        let (_, replies) = b
            .post(json!([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"], "id": "1"}]))
            .await;
        assert_eq!(replies[0]["successful"], true, "{replies:?}");
        assert_eq!(
            replies[0]["ext"],
            json!({"replay": true, "payload.format": true})
        );
        b.client = replies[0]["clientId"]
            .as_str()
            .expect("client id")
            .to_string();
        b
    }

    async fn subscribe(&mut self, channel: &str, replay: Option<i64>) -> Value {
        let mut msg =
            json!({"channel": "/meta/subscribe", "clientId": self.client, "subscription": channel});
        if let Some(r) = replay {
            msg["ext"] = json!({"replay": {channel: r}});
        }
        self.post(json!([msg])).await.1.remove(0)
    }

    async fn connect(&mut self) -> Vec<Value> {
        let msg = json!([{"channel": "/meta/connect", "clientId": self.client, "connectionType": "long-polling"}]);
        self.post(msg).await.1
    }
}

fn events(replies: &[Value]) -> Vec<&Value> {
    replies.iter().filter(|m| m.get("data").is_some()).collect()
}

#[tokio::test]
async fn a_change_made_in_salesforce_arrives_within_one_connect() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    assert_eq!(
        client.subscribe("/data/AccountChangeEvent", None).await["successful"],
        true
    );
    let first = client.connect().await;
    assert_eq!(
        first[0]["advice"],
        json!({"interval": 0, "timeout": 400, "reconnect": "retry"})
    );

    let started = Instant::now();
    let editor = sim.clone();
    let (replies, created) = tokio::join!(client.connect(), async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let edit = Request::post("/__sim/edit/Account")
            .header("content-type", "application/json")
            .body(Body::from(json!({"Name": "Acme"}).to_string()))
            .expect("request");
        send(&editor, edit).await.json()["id"]
            .as_str()
            .expect("created id")
            .to_string()
    });

    assert!(
        started.elapsed() < HELD,
        "answered when the event came, not at the timeout"
    );
    let delivered = events(&replies);
    assert_eq!(delivered.len(), 1, "{replies:?}");
    let event = delivered[0];
    assert_eq!(event["channel"], "/data/AccountChangeEvent");
    let header = &event["data"]["payload"]["ChangeEventHeader"];
    assert_eq!(header["entityName"], "Account");
    assert_eq!(header["changeType"], "CREATE");
    assert_eq!(header["recordIds"], json!([created]));
    assert_eq!(header["commitUser"], crate::sim::org::ui_user());
    assert_eq!(header["changeOrigin"], "");
    assert_eq!(header["sequenceNumber"], 1);
    assert!(header["commitTimestamp"].is_i64() && header["transactionKey"].is_string());
    assert_eq!(event["data"]["payload"]["Name"], "Acme");
    assert!(event["data"]["payload"].get("SystemModstamp").is_none());
    assert!(
        event["data"]["event"]["replayId"]
            .as_u64()
            .is_some_and(|r| r > 0)
    );
    assert_eq!(
        replies.last().map(|r| r["successful"].clone()),
        Some(json!(true))
    );
}

#[tokio::test]
async fn replay_minus_two_returns_retained_events_and_minus_one_only_new_ones() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    for name in ["A", "B", "C"] {
        sim.edit_as_user("Account", &account(name)).expect("edits");
    }
    let mut all = Bayeux::handshake(&sim, &token).await;
    let mut fresh = Bayeux::handshake(&sim, &token).await;
    all.subscribe("/data/ChangeEvents", Some(-2)).await;
    fresh.subscribe("/data/ChangeEvents", Some(-1)).await;
    all.connect().await;
    fresh.connect().await;

    let (replayed, new_only) = tokio::join!(all.connect(), fresh.connect());

    let names: Vec<&Value> = events(&replayed)
        .iter()
        .map(|e| &e["data"]["payload"]["Name"])
        .collect();
    assert_eq!(names, [&json!("A"), &json!("B"), &json!("C")]);
    assert_eq!(events(&replayed)[0]["channel"], "/data/ChangeEvents");
    assert!(events(&new_only).is_empty(), "{new_only:?}");
    assert_eq!(sim.events_delivered(), 3);
    assert_eq!(sim.event_usage().0, 3);
}

#[tokio::test]
async fn a_replay_id_never_issued_or_past_retention_is_refused() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    sim.edit_as_user("Account", &account("A")).expect("edits");
    let kept = sim.latest_replay_id();
    let mut client = Bayeux::handshake(&sim, &token).await;

    let resumed = client
        .subscribe("/data/AccountChangeEvent", Some(kept as i64))
        .await;
    let unknown = client
        .subscribe("/data/AccountChangeEvent", Some(9_999))
        .await;
    let wrong_entity = client
        .subscribe("/data/ContactChangeEvent", Some(kept as i64))
        .await;
    sim.advance_clock(Duration::from_secs(73 * 3600));
    let expired = client
        .subscribe("/data/AccountChangeEvent", Some(kept as i64))
        .await;

    assert_eq!(resumed["successful"], true);
    for refused in [&unknown, &wrong_entity, &expired] {
        assert_eq!(refused["successful"], false);
        let error = refused["error"].as_str().expect("error");
        assert!(error.starts_with("400::The replayId "), "{error}");
        assert!(error.ends_with("-2 to replay all events, or -1 to replay only new events."));
    }
    assert_eq!(sim.retained_events(), 0, "72 hours of retention");
}

#[tokio::test]
async fn an_unknown_or_forgotten_client_is_told_to_handshake_again() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    client.subscribe("/data/AccountChangeEvent", None).await;
    sim.expire_streaming_clients();

    let replies = client.connect().await;

    assert_eq!(replies[0]["error"], "403::Unknown client");
    assert_eq!(replies[0]["successful"], false);
    assert_eq!(replies[0]["advice"]["reconnect"], "handshake");
    client.client = "nobody".into();
    assert_eq!(
        client.subscribe("/data/ChangeEvents", None).await["error"],
        "403::Unknown client"
    );
}

#[tokio::test]
async fn sessions_cookies_channels_and_versions_are_checked() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    for (channel, error) in [
        ("", "400::Channel name not specified"),
        (
            "data/ChangeEvents",
            "400::Channel subscriptions must start with a leading '/'",
        ),
        (
            "/data/LeadChangeEvent",
            "400::The channel you requested to subscribe to does not exist /data/LeadChangeEvent",
        ),
    ] {
        assert_eq!(client.subscribe(channel, None).await["error"], error);
    }
    assert_eq!(
        client.subscribe("/data/Invoice__ChangeEvent", None).await["successful"],
        true
    );

    let cookie = client.cookie.take();
    assert!(
        client.connect().await[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("no BAYEUX_BROWSER cookie present"))
    );
    client.cookie = cookie;
    client.token = "expired".into();
    let denied = client.connect().await;
    assert_eq!(denied[0]["error"], "401::Authentication invalid");
    assert_eq!(denied[0]["advice"]["reconnect"], "none");
    let (_, handshake) = client
        .post(json!([{"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}]))
        .await;
    assert_eq!(handshake[0]["error"], "403::Handshake denied");
    assert_eq!(
        handshake[0]["ext"]["sfdc"]["failureReason"],
        "401::Authentication invalid"
    );

    for (path, content_type) in [
        ("/cometd", "application/json"),
        ("/cometd/36.0", "application/json"),
        ("/cometd/62.0", "text/plain"),
    ] {
        let req = Request::post(path)
            .header("content-type", content_type)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from("[]"))
            .expect("request");
        assert_eq!(
            send(&sim, req).await.status,
            StatusCode::BAD_REQUEST,
            "{path}"
        );
    }
}

#[tokio::test]
async fn writes_through_the_api_publish_events_that_name_their_origin() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    client.subscribe("/data/AccountChangeEvent", Some(-2)).await;
    client.connect().await;
    let upsert_with_origin = |name: &str| {
        Request::patch(format!("{V}/composite/sobjects/Account/External_Id__c"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .header("Sforce-Call-Options", "client=sluice")
            .body(Body::from(
                json!({"allOrNone": false, "records": [crate::sim::tests::account("A-1", name), crate::sim::tests::account("A-2", name)]}).to_string(),
            ))
            .expect("request")
    };
    let created = send(&sim, upsert_with_origin("First")).await.json();
    send(&sim, upsert_with_origin("Second")).await;
    let ids = format!(
        "{},{}",
        created[0]["id"].as_str().unwrap_or(""),
        created[1]["id"].as_str().unwrap_or("")
    );
    call(
        &sim,
        &token,
        axum::http::Method::DELETE,
        &format!("{V}/composite/sobjects?ids={ids}"),
        None,
    )
    .await;

    let replies = client.connect().await;

    let headers: Vec<&Value> = events(&replies)
        .iter()
        .map(|e| &e["data"]["payload"]["ChangeEventHeader"])
        .collect();
    let kinds: Vec<&str> = headers
        .iter()
        .filter_map(|h| h["changeType"].as_str())
        .collect();
    assert_eq!(
        kinds,
        ["CREATE", "CREATE", "UPDATE", "DELETE"],
        "same update and deletes merge"
    );
    assert_eq!(
        headers[0]["changeOrigin"],
        "com/salesforce/api/rest/62.0;client=sluice"
    );
    assert_eq!(headers[0]["commitUser"], crate::sim::token::USER_ID);
    assert_eq!(headers[0]["transactionKey"], headers[1]["transactionKey"]);
    assert_eq!(
        (
            headers[0]["sequenceNumber"].clone(),
            headers[1]["sequenceNumber"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(
        headers[2]["changedFields"],
        json!(["Name", "LastModifiedDate"])
    );
    assert_eq!(headers[2]["recordIds"].as_array().map(Vec::len), Some(2));
    assert_eq!(headers[3]["recordIds"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn streaming_is_not_an_api_call_and_the_event_allocation_is_enforced() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    client.subscribe("/data/AccountChangeEvent", None).await;
    client.connect().await;
    sim.edit_as_user("Account", &account("A")).expect("edits");
    assert_eq!(events(&client.connect().await).len(), 1);
    sim.set_event_usage(10_000, 10_000);
    sim.edit_as_user("Account", &account("B")).expect("edits");

    let over = client.connect().await;

    assert_eq!(
        over[0]["error"],
        "403::Organization total events daily limit exceeded"
    );
    assert_eq!(
        sim.api_calls(),
        0,
        "handshake, subscribe and connect are not API calls"
    );
    let streaming = sim.streaming_calls();
    assert_eq!(
        (
            streaming["streaming_handshake"],
            streaming["streaming_subscribe"],
            streaming["streaming_connect"]
        ),
        (1, 1, 3)
    );
    let families = sim.stats().families();
    assert_eq!(
        (families["streaming_messages"], families["event_deliveries"]),
        (5, 1)
    );
}

#[tokio::test]
async fn a_connect_can_be_dropped_by_an_injected_fault() {
    let sim = streaming_sim();
    let token = login(&sim).await;
    let mut client = Bayeux::handshake(&sim, &token).await;
    sim.set_faults(crate::sim::FaultConfig {
        cometd_drop_next: 1,
        ..Default::default()
    });
    let req = Request::post("/cometd/62.0")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(json!([{"channel": "/meta/connect", "clientId": client.client, "connectionType": "long-polling"}]).to_string()))
        .expect("request");

    let res = sim
        .router()
        .oneshot(req)
        .await
        .expect("router is infallible");

    assert!(
        res.into_body().collect().await.is_err(),
        "the connection drops"
    );
    assert_eq!(
        client.connect().await[0]["successful"],
        true,
        "the next connect works"
    );
}
