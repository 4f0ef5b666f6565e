//! Change Data Capture over CometD: the client against the simulator, over real HTTP.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use sluice::salesforce::{ChangeType, FailureClass, ReplayFrom, SalesforceError};
use sluice::sim::{FaultConfig, SimConfig, SimHandle, Simulator};

use super::config;

/// How long the simulator holds a connect without events (Salesforce: 110 s).
const HELD: Duration = Duration::from_millis(500);
const ACCOUNTS: &str = "/data/AccountChangeEvent";

async fn streaming_sim() -> SimHandle {
    Simulator::spawn(SimConfig {
        cometd_connect_timeout: HELD,
        ..SimConfig::dev()
    })
    .await
    .expect("simulator starts")
}

fn client(sim: &SimHandle) -> sluice::salesforce::SalesforceClient {
    sluice::salesforce::SalesforceClient::new(config(sim)).expect("client builds")
}

fn account(name: &str) -> Map<String, Value> {
    json!({"Name": name})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn a_change_made_in_salesforce_reaches_the_client_within_one_connect() {
    let sim = streaming_sim().await;
    let mut stream = client(&sim).streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::NewEvents)
        .await
        .expect("subscribed");
    assert!(
        stream
            .connect()
            .await
            .expect("first connect")
            .events
            .is_empty()
    );

    let editor = sim.sim.clone();
    let started = Instant::now();
    let (events, (id, _)) = tokio::join!(stream.connect(), async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        editor
            .edit_as_user("Account", &account("Acme"))
            .expect("edits")
    });

    let events = events.expect("connect").events;
    assert!(started.elapsed() < HELD, "delivered as it happened");
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.channel, ACCOUNTS);
    assert_eq!(event.header.entity_name, "Account");
    assert_eq!(event.header.change_type, ChangeType::Create);
    assert_eq!(event.header.record_ids, [id]);
    assert_eq!(event.fields["Name"], "Acme");
    assert_eq!(
        event.origin_client(),
        None,
        "made in Salesforce, not by an API client"
    );
    assert_eq!(stream.replay_id(ACCOUNTS), Some(event.replay_id));
    assert_eq!(sim.sim.api_calls(), 0, "streaming spends no API requests");
}

#[tokio::test]
async fn replaying_all_retained_events_returns_them_in_order() {
    let sim = streaming_sim().await;
    for name in ["A", "B", "C"] {
        sim.sim
            .edit_as_user("Account", &account(name))
            .expect("edits");
    }
    let mut stream = client(&sim).streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::AllRetained)
        .await
        .expect("subscribed");

    let mut events = Vec::new();
    for _ in 0..3 {
        events.extend(stream.connect().await.expect("connect").events);
        if events.len() >= 3 {
            break;
        }
    }

    let names: Vec<&Value> = events.iter().map(|e| &e.fields["Name"]).collect();
    assert_eq!(names, [&json!("A"), &json!("B"), &json!("C")]);
    assert!(events.windows(2).all(|w| w[0].replay_id < w[1].replay_id));
    assert_eq!(sim.sim.events_delivered(), 3);
}

#[tokio::test]
async fn a_forgotten_client_handshakes_again_and_resumes_after_its_last_event() {
    let sim = streaming_sim().await;
    let mut stream = client(&sim).streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::NewEvents)
        .await
        .expect("subscribed");
    stream.connect().await.expect("first connect");
    sim.sim
        .edit_as_user("Account", &account("A"))
        .expect("edits");
    let first = stream.connect().await.expect("connect");
    assert_eq!(first.events.len(), 1);
    let old_client = stream.client_id().map(str::to_owned);
    sim.sim.expire_streaming_clients();
    sim.sim
        .edit_as_user("Account", &account("B"))
        .expect("edits");

    let mut after = Vec::new();
    for _ in 0..3 {
        let delivery = stream
            .connect()
            .await
            .expect("connect after 403::Unknown client");
        assert!(!delivery.maybe_missed, "it resumed from a known replay id");
        after.extend(delivery.events);
        if !after.is_empty() {
            break;
        }
    }

    assert_ne!(stream.client_id().map(str::to_owned), old_client);
    assert_eq!(after.len(), 1, "only what came after the last event seen");
    assert_eq!(after[0].fields["Name"], "B");
    assert_eq!(sim.sim.streaming_calls()["streaming_handshake"], 2);
}

#[tokio::test]
async fn a_replay_position_past_retention_is_reported_for_a_resync() {
    let sim = streaming_sim().await;
    sim.sim
        .edit_as_user("Account", &account("A"))
        .expect("edits");
    let old = sim.sim.latest_replay_id() as i64;
    sim.sim.advance_clock(Duration::from_secs(73 * 3600));
    let mut stream = client(&sim).streaming();

    let err = stream
        .subscribe(ACCOUNTS, ReplayFrom::After(old))
        .await
        .expect_err("expired");

    assert!(
        matches!(&err, SalesforceError::ReplayUnavailable { replay_id, .. } if *replay_id == old),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::Fatal);
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_and_a_possible_gap_is_flagged() {
    let sim = streaming_sim().await;
    let client = client(&sim);
    let mut stream = client.streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::NewEvents)
        .await
        .expect("subscribed");
    stream.connect().await.expect("first connect");
    sim.sim.expire_all_tokens();
    sim.sim
        .edit_as_user("Account", &account("A"))
        .expect("edits");

    let delivery = stream
        .connect()
        .await
        .expect("connect after 401::Authentication invalid");

    assert!(
        delivery.maybe_missed,
        "resubscribed from -1 with no replay id seen: the caller must read by query"
    );
    assert_eq!(client.token_refreshes(), 2);
    assert_eq!(sim.sim.api_calls(), 0, "streaming spends no API requests");
    sim.sim
        .edit_as_user("Account", &account("B"))
        .expect("edits");
    let next = stream.connect().await.expect("connect");
    assert_eq!((next.events.len(), next.maybe_missed), (1, false));
}

#[tokio::test]
async fn an_exhausted_event_allocation_is_a_limit_error() {
    let sim = streaming_sim().await;
    let mut stream = client(&sim).streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::NewEvents)
        .await
        .expect("subscribed");
    stream.connect().await.expect("first connect");
    sim.sim.set_event_usage(10_000, 10_000);
    sim.sim
        .edit_as_user("Account", &account("A"))
        .expect("edits");

    let err = stream.connect().await.expect_err("allocation spent");

    assert!(
        matches!(err, SalesforceError::EventLimitExceeded { .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), FailureClass::LimitExceeded);
}

#[tokio::test]
async fn a_dropped_connect_is_a_transient_network_error_and_the_next_one_works() {
    let sim = streaming_sim().await;
    let mut stream = client(&sim).streaming();
    stream
        .subscribe(ACCOUNTS, ReplayFrom::NewEvents)
        .await
        .expect("subscribed");
    stream.connect().await.expect("first connect");
    sim.sim.set_faults(FaultConfig {
        cometd_drop_next: 1,
        ..FaultConfig::default()
    });

    let err = stream.connect().await.expect_err("dropped");

    assert!(matches!(err, SalesforceError::Network(_)), "{err:?}");
    assert_eq!(err.class(), FailureClass::Transient);
    sim.sim
        .edit_as_user("Account", &account("A"))
        .expect("edits");
    assert_eq!(stream.connect().await.expect("reconnects").events.len(), 1);
}
