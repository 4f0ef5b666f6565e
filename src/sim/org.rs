//! The org as tests see it from outside the API: changes made "as a user in Salesforce", seeding,
//! the clock, change-event publication and the event-delivery allocation.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::error::RecordError;
use super::events::Origin;
use super::records::{self, Cell, Incoming, Input, Mode, Rejection};
use super::schema::{self, Object};
use super::{Simulator, ids};

/// Why an edit made as a Salesforce user was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("unknown object {0}")]
    UnknownObject(String),
    #[error("no live {object} record with id {id}")]
    NotFound { object: String, id: String },
    #[error("field {field}: {reason}")]
    BadValue { field: String, reason: String },
    #[error(transparent)]
    Invalid(#[from] RecordError),
}

/// The user whose edits in the UI show up as `commitUser` of their change events: not the
/// integration user, so a reader can tell them from its own writes.
pub fn ui_user() -> String {
    ids::to_18("0055g0000UiEdit")
}

fn object(name: &str) -> Result<&'static Object, EditError> {
    schema::object(name).ok_or_else(|| EditError::UnknownObject(name.to_string()))
}

/// JSON values as a user would type them; nested objects (relationships) aren't taken here.
fn incoming(values: &Map<String, Value>) -> Result<Incoming, EditError> {
    let mut inc = Incoming::default();
    for (name, value) in values.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("Id")) {
        let input = match value {
            Value::Null => Input::Null,
            Value::String(s) => Input::Text(s.clone()),
            Value::Number(n) => Input::Number(n.to_string()),
            Value::Bool(b) => Input::Bool(*b),
            _ => {
                return Err(EditError::BadValue {
                    field: name.clone(),
                    reason: "only scalar values".into(),
                });
            }
        };
        inc.cells.push(Cell {
            name: name.clone(),
            input,
            col: 0,
        });
    }
    Ok(inc)
}

fn rejected(r: Rejection) -> EditError {
    match r {
        Rejection::Record(e) => EditError::Invalid(e),
        Rejection::Type(t) => EditError::BadValue {
            field: t.field.to_string(),
            reason: t.json_message(),
        },
    }
}

impl Simulator {
    /// Creates (no `Id`) or updates (with `Id`) a record as a user editing it in Salesforce:
    /// validated like an API write, published as a change event from [`ui_user`], not counted as
    /// an API call. Returns the id and whether it was created.
    pub fn edit_as_user(
        &self,
        object_name: &str,
        values: &Map<String, Value>,
    ) -> Result<(String, bool), EditError> {
        let obj = object(object_name)?;
        let inc = incoming(values)?;
        let id = values.get("Id").and_then(Value::as_str).map(str::to_string);
        let outcome = {
            let mut state = self.lock();
            let store = &mut state.store;
            match id {
                Some(raw) => {
                    let id = ids::normalize(&raw)
                        .filter(|id| store.table(obj).get(id).is_some())
                        .ok_or(EditError::NotFound {
                            object: obj.name.to_string(),
                            id: raw,
                        })?;
                    let values =
                        records::prepare(store, obj, &inc, Mode::Update).map_err(rejected)?;
                    store.update(obj, &id, values);
                    (id, false)
                }
                None => {
                    let values =
                        records::prepare(store, obj, &inc, Mode::Insert).map_err(rejected)?;
                    (store.insert(obj, values), true)
                }
            }
        };
        self.publish_as_user();
        Ok(outcome)
    }

    /// Deletes records in one transaction as a Salesforce user (one merged DELETE event).
    pub fn delete_as_user(
        &self,
        object_name: &str,
        raw_ids: &[String],
    ) -> Result<usize, EditError> {
        let obj = object(object_name)?;
        {
            let mut state = self.lock();
            let store = &mut state.store;
            let mut found = Vec::with_capacity(raw_ids.len());
            for raw in raw_ids {
                let id = ids::normalize(raw)
                    .filter(|id| store.table(obj).get(id).is_some())
                    .ok_or_else(|| EditError::NotFound {
                        object: obj.name.to_string(),
                        id: raw.clone(),
                    })?;
                found.push(id);
            }
            for id in &found {
                store.delete(obj, id);
            }
        }
        self.publish_as_user();
        Ok(raw_ids.len())
    }

    /// Loads records that existed before Change Data Capture was enabled: validated, but no
    /// change events (a large seed would otherwise fill the event bus). Returns their ids.
    pub fn seed(
        &self,
        object_name: &str,
        rows: &[Map<String, Value>],
    ) -> Result<Vec<String>, EditError> {
        let obj = object(object_name)?;
        let mut state = self.lock();
        let store = &mut state.store;
        let mut created = Vec::with_capacity(rows.len());
        for row in rows {
            let values =
                records::prepare(store, obj, &incoming(row)?, Mode::Insert).map_err(rejected)?;
            created.push(store.seed(obj, values));
        }
        Ok(created)
    }

    fn publish_as_user(&self) {
        self.publish_changes(&Origin {
            user: ui_user(),
            change_origin: String::new(),
        });
    }

    /// Publishes the writes since the last call as change events and wakes held connects.
    pub(crate) fn publish_changes(&self, origin: &Origin) -> usize {
        let published = {
            let mut state = self.lock();
            let changes = state.store.take_changes();
            if changes.is_empty() {
                return 0;
            }
            let now = state.store.clock.now();
            state.events.expire(now);
            state.events.publish(changes, origin)
        };
        self.inner.published.notify_waiters();
        published
    }

    /// The org's current time (real time plus whatever tests advanced it by).
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().store.clock.now()
    }

    /// Moves the org's clock forward: change events, recycle-bin entries and cursors age.
    pub fn advance_clock(&self, by: std::time::Duration) {
        let by = chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        let mut state = self.lock();
        state.store.clock.advance(by);
        let now = state.store.clock.now();
        state.events.expire(now);
        state.store.purge_recycle_bin();
    }

    /// Change events still retained for replay.
    pub fn retained_events(&self) -> usize {
        let mut state = self.lock();
        let now = state.store.clock.now();
        state.events.expire(now);
        state.events.retained()
    }

    /// The replay id of the newest change event (0 before the first).
    pub fn latest_replay_id(&self) -> u64 {
        self.lock().events.latest_replay_id()
    }

    /// `(used, max)` of the rolling 24-hour event-delivery allocation.
    pub fn event_usage(&self) -> (u64, u64) {
        let state = self.lock();
        let now = state.store.clock.now();
        (state.events.delivered_in_window(now), state.event_max)
    }

    pub fn set_event_usage(&self, used: u64, max: u64) {
        let mut state = self.lock();
        let now = state.store.clock.now();
        state.events.set_delivered(now, used);
        state.event_max = max;
    }

    /// Streaming API messages by kind (handshake, subscribe, connect…), which are not API calls.
    pub fn streaming_calls(&self) -> BTreeMap<String, u64> {
        self.lock().stats.streaming_by_kind.clone()
    }

    /// Change events delivered to CometD clients so far.
    pub fn events_delivered(&self) -> u64 {
        self.lock().stats.events_delivered
    }

    /// Forgets every CometD client, as a server restart or a lost routing cookie would: their
    /// next message gets `403::Unknown client`.
    pub fn expire_streaming_clients(&self) {
        self.lock().sessions.clear();
        self.inner.published.notify_waiters();
    }
}
