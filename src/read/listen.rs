//! Change Data Capture over CometD: one long-polling client per process, subscribed to every
//! read object's `/data/<Object>ChangeEvent` channel, wakes the object's poller. The events only
//! wake reads: the read itself is the query, so a missed event costs lag (the safety poll still
//! comes), never data. Event deliveries count against the event allocation, not API requests.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::wake::Wakers;
use crate::salesforce::{ReplayFrom, SalesforceClient, SalesforceError};
use crate::staging::ObjectName;

/// `/data/ContactChangeEvent`; `/data/Invoice__ChangeEvent` for `Invoice__c`.
pub fn channel(object: &ObjectName) -> String {
    match object.as_str().strip_suffix("__c") {
        Some(base) => format!("/data/{base}__ChangeEvent"),
        None => format!("/data/{object}ChangeEvent"),
    }
}

/// Listens until `shutdown`, reconnecting with a backoff after errors.
pub async fn run(
    client: SalesforceClient,
    objects: Vec<ObjectName>,
    wakers: Wakers,
    shutdown: CancellationToken,
) {
    let mut backoff = Duration::from_secs(1);
    let mut streaming = client.streaming();
    let mut subscribed = false;
    while !shutdown.is_cancelled() {
        let step = async {
            if !subscribed {
                for object in &objects {
                    streaming
                        .subscribe(&channel(object), ReplayFrom::NewEvents)
                        .await?;
                }
                subscribed = true;
                tracing::info!(objects = objects.len(), "listening to change events");
            }
            streaming.connect().await
        };
        let delivery = tokio::select! {
            _ = shutdown.cancelled() => break,
            d = step => d,
        };
        match delivery {
            Ok(delivery) => {
                backoff = Duration::from_secs(1);
                if delivery.maybe_missed {
                    wakers.wake_all(Utc::now());
                }
                for event in delivery.events {
                    let at = event.committed_at().unwrap_or_else(Utc::now);
                    wakers.wake(&event.header.entity_name, at);
                }
            }
            Err(e) => {
                let pause = match &e {
                    // The allocation is spent: the safety poll carries on alone for a while.
                    SalesforceError::EventLimitExceeded { .. } => Duration::from_secs(3600),
                    _ => backoff,
                };
                tracing::warn!(error = %e, retry_in_s = pause.as_secs(), "change events unavailable; reads go on at the safety interval");
                backoff = (backoff * 2).min(Duration::from_secs(60));
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(pause) => {}
                }
                // A new session resubscribes itself after its handshake; a failed subscription
                // is tried again.
                if streaming.client_id().is_none() {
                    subscribed = false;
                    streaming = client.streaming();
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), streaming.disconnect()).await;
}
