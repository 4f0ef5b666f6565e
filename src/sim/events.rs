//! The event bus: change events retained 72 hours with increasing replay ids, and the daily
//! event-delivery allocation, which is separate from the API request allocation.
//!
//! Storage and replay: <https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_subscribe.htm>
//! ("stored temporarily for three days"). Header fields:
//! <https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm>.

use std::collections::{BTreeMap, VecDeque};

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use sha2::Digest;

use super::changes::{Change, ChangeType};
use super::schema::Object;
use super::store::Record;

pub const RETENTION_HOURS: i64 = 72;
/// Changes grouped under one `transactionKey`: a collections call is one transaction, a Bulk job
/// commits in chunks of 200 rows [UNVERIFIED: the chunk size Bulk API 2.0 commits with].
const TRANSACTION_ROWS: usize = 200;

/// Who made a batch of changes: `commitUser` and `changeOrigin` of their events.
#[derive(Debug, Clone)]
pub struct Origin {
    pub user: String,
    /// `com/salesforce/api/<api>/<version>[;client=<id>]` for API changes, empty for changes made
    /// in the UI or by Apex (<https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-class-eventbus-changeeventheader.html>).
    pub change_origin: String,
}

#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub replay_id: u64,
    pub entity: &'static str,
    pub kind: ChangeType,
    pub record_ids: Vec<String>,
    pub changed: Vec<String>,
    pub body: Record,
    pub commit_at: DateTime<Utc>,
    pub commit_number: u64,
    pub origin: Origin,
    pub transaction_key: String,
    pub sequence: u32,
}

/// `/data/AccountChangeEvent` for a standard object, `/data/Invoice__ChangeEvent` for `Invoice__c`.
pub fn channel_for(object: &str) -> String {
    match object.strip_suffix("__c") {
        Some(base) => format!("/data/{base}__ChangeEvent"),
        None => format!("/data/{object}ChangeEvent"),
    }
}

/// A stable schema id per entity, shaped like Salesforce's (22 URL-safe base64 characters).
fn schema_id(entity: &str) -> String {
    let digest = sha2::Sha256::digest(entity.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

impl ChangeEvent {
    /// The Bayeux message a CometD client receives on `channel`
    /// (<https://developer.salesforce.com/docs/atlas.en-us.232.0.change_data_capture.meta/change_data_capture/cdc_message_structure.htm>).
    pub fn message(&self, channel: &str) -> Value {
        let header = json!({
            "entityName": self.entity,
            "recordIds": self.record_ids,
            "changeType": self.kind.name(),
            "changeOrigin": self.origin.change_origin,
            "transactionKey": self.transaction_key,
            "sequenceNumber": self.sequence,
            "commitTimestamp": self.commit_at.timestamp_millis(),
            "commitNumber": self.commit_number,
            "commitUser": self.origin.user,
            "changedFields": self.changed,
        });
        let mut payload = self.body.clone();
        payload.insert("ChangeEventHeader".into(), header);
        json!({
            "channel": channel,
            "data": {
                "schema": schema_id(self.entity),
                "payload": payload,
                "event": {"replayId": self.replay_id},
            },
        })
    }
}

/// Which events a subscription receives: every entity (`/data/ChangeEvents`) or one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Entity(&'static str),
}

impl Filter {
    pub fn matches(self, event: &ChangeEvent) -> bool {
        match self {
            Self::All => true,
            Self::Entity(e) => e == event.entity,
        }
    }

    /// Parses a subscription channel; `None` when it names no change-event channel.
    pub fn parse(channel: &str, objects: &[Object]) -> Option<Self> {
        if channel == "/data/ChangeEvents" {
            return Some(Self::All);
        }
        objects
            .iter()
            .find(|o| channel_for(o.name) == channel)
            .map(|o| Self::Entity(o.name))
    }
}

#[derive(Debug, Default)]
pub struct EventBus {
    events: VecDeque<ChangeEvent>,
    next_replay: u64,
    commit_number: u64,
    /// Events delivered per hour (unix hour of the org's clock), for the rolling 24-hour allocation.
    deliveries: BTreeMap<i64, u64>,
    pub delivered_total: u64,
}

impl EventBus {
    /// Publishes committed changes in order, one transaction per [`TRANSACTION_ROWS`], merging
    /// identical changes as Salesforce does. Returns how many events were published.
    pub fn publish(&mut self, changes: Vec<Change>, origin: &Origin) -> usize {
        let before = self.events.len();
        for transaction in changes.chunks(TRANSACTION_ROWS) {
            self.commit_number += 1;
            let key = uuid::Uuid::new_v4().to_string();
            let mut merged: Vec<(Change, Vec<String>)> = Vec::new();
            for change in transaction {
                match merged.last_mut() {
                    Some((head, ids)) if head.merges_with(change) => ids.push(change.id.clone()),
                    _ => merged.push((change.clone(), vec![change.id.clone()])),
                }
            }
            for (sequence, (change, record_ids)) in (1u32..).zip(merged) {
                self.next_replay += 1;
                self.events.push_back(ChangeEvent {
                    replay_id: self.next_replay,
                    entity: change.object,
                    kind: change.kind,
                    record_ids,
                    changed: change.changed,
                    body: change.body,
                    commit_at: change.at,
                    commit_number: self.commit_number,
                    origin: origin.clone(),
                    transaction_key: key.clone(),
                    sequence,
                });
            }
        }
        self.events.len() - before
    }

    /// Drops what is older than the retention window.
    pub fn expire(&mut self, now: DateTime<Utc>) {
        let horizon = now - Duration::hours(RETENTION_HOURS);
        while self.events.front().is_some_and(|e| e.commit_at < horizon) {
            self.events.pop_front();
        }
        let oldest_hour = now.timestamp().div_euclid(3600) - 24;
        self.deliveries.retain(|hour, _| *hour > oldest_hour);
    }

    /// The replay id of the newest event ever published (0 before the first).
    pub fn latest_replay_id(&self) -> u64 {
        self.next_replay
    }

    /// True when `replay_id` is a retained event the filter lets through: the only ids a
    /// subscription may resume after.
    pub fn is_retained(&self, replay_id: u64, filter: Filter) -> bool {
        self.position(replay_id)
            .and_then(|i| self.events.get(i))
            .is_some_and(|e| filter.matches(e))
    }

    fn position(&self, replay_id: u64) -> Option<usize> {
        self.events
            .binary_search_by_key(&replay_id, |e| e.replay_id)
            .ok()
    }

    /// Retained events after `cursor` that the filter lets through, oldest first.
    pub fn after(&self, cursor: u64, filter: Filter) -> impl Iterator<Item = &ChangeEvent> {
        let start = self.events.partition_point(|e| e.replay_id <= cursor);
        self.events
            .range(start..)
            .filter(move |e| filter.matches(e))
    }

    pub fn retained(&self) -> usize {
        self.events.len()
    }

    /// Events delivered in the 24 hours up to `now`.
    pub fn delivered_in_window(&self, now: DateTime<Utc>) -> u64 {
        let oldest_hour = now.timestamp().div_euclid(3600) - 24;
        self.deliveries
            .range(oldest_hour + 1..)
            .map(|(_, n)| *n)
            .sum()
    }

    pub fn record_deliveries(&mut self, now: DateTime<Utc>, count: u64) {
        *self
            .deliveries
            .entry(now.timestamp().div_euclid(3600))
            .or_default() += count;
        self.delivered_total += count;
    }

    /// Sets the window's usage to `used`, as if it had been delivered in the current hour.
    pub fn set_delivered(&mut self, now: DateTime<Utc>, used: u64) {
        self.deliveries.clear();
        self.deliveries
            .insert(now.timestamp().div_euclid(3600), used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            user: "005".into(),
            change_origin: String::new(),
        }
    }

    fn delete(id: &str, at: DateTime<Utc>) -> Change {
        Change::new("Account", id, ChangeType::Delete, Record::new(), at)
    }

    #[test]
    fn channels_follow_the_documented_names() {
        assert_eq!(channel_for("Account"), "/data/AccountChangeEvent");
        assert_eq!(channel_for("Invoice__c"), "/data/Invoice__ChangeEvent");
    }

    #[test]
    fn deletes_in_one_transaction_merge_and_replay_ids_increase() {
        let now = Utc::now();
        let mut bus = EventBus::default();
        assert_eq!(
            bus.publish(vec![delete("a", now), delete("b", now)], &origin()),
            1
        );
        assert_eq!(bus.publish(vec![delete("c", now)], &origin()), 1);
        let all: Vec<_> = bus.after(0, Filter::All).collect();
        assert_eq!(all[0].record_ids, ["a", "b"]);
        assert!(all[0].replay_id < all[1].replay_id);
        assert_ne!(all[0].transaction_key, all[1].transaction_key);
        assert!(bus.is_retained(all[0].replay_id, Filter::Entity("Account")));
        assert!(!bus.is_retained(all[0].replay_id, Filter::Entity("Contact")));
        bus.expire(now + Duration::hours(RETENTION_HOURS + 1));
        assert_eq!(bus.retained(), 0);
        assert!(!bus.is_retained(all_ids(&bus).first().copied().unwrap_or(1), Filter::All));
    }

    fn all_ids(bus: &EventBus) -> Vec<u64> {
        bus.after(0, Filter::All).map(|e| e.replay_id).collect()
    }

    #[test]
    fn deliveries_count_in_a_rolling_day() {
        let now = Utc::now();
        let mut bus = EventBus::default();
        bus.record_deliveries(now - Duration::hours(25), 5);
        bus.record_deliveries(now, 3);
        assert_eq!(bus.delivered_in_window(now), 3);
        assert_eq!(bus.delivered_total, 8);
    }
}
