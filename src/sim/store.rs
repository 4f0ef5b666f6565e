//! Records per object, with an index over the external-id and id-lookup fields, a recycle bin,
//! and the log of changes that become change events.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::changes::{Change, ChangeType};
use super::clock::{self, Clock};
use super::ids;
use super::schema::{Field, OBJECTS, Object};
use super::setup::Setup;

pub type Record = Map<String, Value>;

/// How long a deleted record stays in the recycle bin, where `queryAll` and getDeleted see it.
/// <https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_getdeleted.htm>
/// ("no more than 15 days previous to the day the call is executed").
pub const RECYCLE_DAYS: i64 = 15;

/// A record in the recycle bin: its last values with `IsDeleted = true`, and when it was deleted.
#[derive(Debug, Clone)]
pub struct Recycled {
    pub record: Record,
    pub deleted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    records: BTreeMap<String, Record>,
    index: HashMap<&'static str, HashMap<String, BTreeSet<String>>>,
    deleted: HashSet<String>,
    recycle: BTreeMap<String, Recycled>,
    /// The newest deletion purged from the recycle bin (getDeleted's `earliestDateAvailable`).
    purged_through: Option<DateTime<Utc>>,
    next: u64,
}

fn key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_lowercase()),
        _ => None,
    }
}

/// Salesforce's timestamp format, e.g. `2026-03-01T12:00:00.000+0000`, at real time (Bulk job
/// bookkeeping; record timestamps come from the org's [`Clock`]).
pub fn timestamp() -> String {
    clock::format(Utc::now())
}

impl Table {
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
    }

    /// Deleted records still in the recycle bin, in id order.
    pub fn recycled(&self) -> impl Iterator<Item = &Recycled> {
        self.recycle.values()
    }

    pub fn purged_through(&self) -> Option<DateTime<Utc>> {
        self.purged_through
    }

    pub fn get(&self, id: &str) -> Option<&Record> {
        self.records.get(id)
    }

    pub fn was_deleted(&self, id: &str) -> bool {
        self.deleted.contains(id)
    }

    /// Ids of the records whose `field` equals `value`, case-insensitively as external ids are.
    pub fn find(&self, field: &Field, value: &str) -> Vec<String> {
        if field.name == "Id" {
            return ids::normalize(value)
                .filter(|id| self.records.contains_key(id))
                .into_iter()
                .collect();
        }
        self.index
            .get(field.name)
            .and_then(|by_value| by_value.get(&value.to_lowercase()))
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn unindex(&mut self, obj: &Object, id: &str) {
        let Some(record) = self.records.get(id) else {
            return;
        };
        for field in obj.lookup_fields() {
            if let Some(k) = record.get(field.name).and_then(key)
                && let Some(set) = self.index.get_mut(field.name).and_then(|m| m.get_mut(&k))
            {
                set.remove(id);
            }
        }
    }

    fn reindex(&mut self, obj: &Object, id: &str) {
        let Some(record) = self.records.get(id) else {
            return;
        };
        let keys: Vec<_> = obj
            .lookup_fields()
            .filter_map(|f| record.get(f.name).and_then(key).map(|k| (f.name, k)))
            .collect();
        for (name, k) in keys {
            self.index
                .entry(name)
                .or_default()
                .entry(k)
                .or_default()
                .insert(id.to_string());
        }
    }

    fn insert(&mut self, obj: &Object, values: Record, now: &str) -> String {
        self.next += 1;
        let id = ids::generate(obj.key_prefix, self.next);
        let mut record = Record::new();
        for field in obj.fields {
            record.insert(field.name.to_string(), Value::Null);
        }
        record.extend(values);
        record.insert("Id".into(), Value::String(id.clone()));
        record.insert("IsDeleted".into(), Value::Bool(false));
        for name in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
            record.insert(name.into(), Value::String(now.to_string()));
        }
        if obj.field("Name").is_some_and(|f| f.defaulted_on_create)
            && record.get("Name").is_none_or(Value::is_null)
        {
            record.insert("Name".into(), Value::String(id.clone()));
        }
        self.records.insert(id.clone(), record);
        self.reindex(obj, &id);
        id
    }

    /// Applies `values`; returns the fields whose value changed, `None` for an unknown id.
    fn update(&mut self, obj: &Object, id: &str, values: Record, now: &str) -> Option<Record> {
        self.unindex(obj, id);
        let record = self.records.get_mut(id)?;
        let mut changed = Record::new();
        for (name, value) in values {
            if record.get(&name) != Some(&value) {
                changed.insert(name.clone(), value.clone());
            }
            record.insert(name, value);
        }
        record.insert("LastModifiedDate".into(), Value::String(now.to_string()));
        record.insert("SystemModstamp".into(), Value::String(now.to_string()));
        self.reindex(obj, id);
        Some(changed)
    }

    /// Moves the record to the recycle bin. A delete stamps `SystemModstamp`, which is what
    /// getDeleted reports as `deletedDate` (SOAP API GetDeletedResult: "obtained using the
    /// SystemModstamp system field"); `LastModifiedDate` is left alone [UNVERIFIED].
    fn delete(&mut self, obj: &Object, id: &str, now: DateTime<Utc>) -> bool {
        self.unindex(obj, id);
        let Some(mut record) = self.records.remove(id) else {
            return false;
        };
        self.deleted.insert(id.to_string());
        record.insert("IsDeleted".into(), Value::Bool(true));
        record.insert("SystemModstamp".into(), Value::String(clock::format(now)));
        self.recycle.insert(
            id.to_string(),
            Recycled {
                record,
                deleted_at: now,
            },
        );
        true
    }

    /// Empties the recycle bin of what is older than [`RECYCLE_DAYS`].
    fn purge(&mut self, now: DateTime<Utc>) {
        let horizon = now - chrono::Duration::days(RECYCLE_DAYS);
        let expired: Vec<(String, DateTime<Utc>)> = self
            .recycle
            .iter()
            .filter(|(_, r)| r.deleted_at < horizon)
            .map(|(id, r)| (id.clone(), r.deleted_at))
            .collect();
        for (id, at) in expired {
            self.recycle.remove(&id);
            self.purged_through = Some(self.purged_through.map_or(at, |p| p.max(at)));
        }
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    tables: HashMap<&'static str, Table>,
    pub clock: Clock,
    /// What an admin changed in Setup (picklist values), read by describe and by every write.
    pub setup: Setup,
    /// Writes not yet published as change events, oldest first.
    changes: Vec<Change>,
    /// Inserts and updates applied to each record, by Id, whether or not a value changed: what
    /// triggers and flows would run on (tests prove no record is written twice).
    writes: HashMap<String, u64>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            tables: OBJECTS.iter().map(|o| (o.name, Table::default())).collect(),
            clock: Clock::default(),
            setup: Setup::default(),
            changes: Vec::new(),
            writes: HashMap::new(),
        }
    }
}

impl Store {
    pub fn table(&self, obj: &Object) -> &Table {
        self.tables
            .get(obj.name)
            .unwrap_or_else(|| unreachable_table(obj))
    }

    fn table_mut(&mut self, obj: &Object) -> &mut Table {
        self.tables.entry(obj.name).or_default()
    }

    /// Creates a record, filling the system fields, and logs a CREATE change. Returns its id.
    pub fn insert(&mut self, obj: &'static Object, values: Record) -> String {
        let now = self.clock.now();
        let id = self.table_mut(obj).insert(obj, values, &clock::format(now));
        let body = self
            .table(obj)
            .get(&id)
            .map(Change::create_body)
            .unwrap_or_default();
        self.changes
            .push(Change::new(obj.name, &id, ChangeType::Create, body, now));
        *self.writes.entry(id.clone()).or_default() += 1;
        id
    }

    /// Inserts and updates applied to the record with this Id.
    pub fn writes(&self, id: &str) -> u64 {
        self.writes.get(id).copied().unwrap_or(0)
    }

    /// Updates a live record and logs an UPDATE change with the fields that changed.
    pub fn update(&mut self, obj: &'static Object, id: &str, values: Record) {
        let now = self.clock.now();
        let stamp = clock::format(now);
        *self.writes.entry(id.to_owned()).or_default() += 1;
        if let Some(changed) = self.table_mut(obj).update(obj, id, values, &stamp) {
            let change = Change::update(obj.name, id, changed, &stamp, now);
            self.changes.push(change);
        }
    }

    /// Moves a record to the recycle bin and logs a DELETE change; false for an unknown id.
    pub fn delete(&mut self, obj: &'static Object, id: &str) -> bool {
        let now = self.clock.now();
        let deleted = self.table_mut(obj).delete(obj, id, now);
        if deleted {
            self.changes.push(Change::new(
                obj.name,
                id,
                ChangeType::Delete,
                Record::new(),
                now,
            ));
        }
        deleted
    }

    /// Inserts without logging a change: data that was there before Change Data Capture was
    /// enabled for the object (test seeding of large volumes).
    pub fn seed(&mut self, obj: &'static Object, values: Record) -> String {
        let now = clock::format(self.clock.now());
        self.table_mut(obj).insert(obj, values, &now)
    }

    /// The changes logged since the last call, oldest first.
    pub fn take_changes(&mut self) -> Vec<Change> {
        std::mem::take(&mut self.changes)
    }

    /// Purges recycle-bin entries older than their retention, for every object.
    pub fn purge_recycle_bin(&mut self) {
        let now = self.clock.now();
        for table in self.tables.values_mut() {
            table.purge(now);
        }
    }
}

fn unreachable_table(obj: &Object) -> &'static Table {
    static EMPTY: std::sync::OnceLock<Table> = std::sync::OnceLock::new();
    tracing::error!(
        object = obj.name,
        "simulator store has no table for a schema object"
    );
    EMPTY.get_or_init(Table::default)
}
