//! Records per object, with an index over the external-id and id-lookup fields.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use super::ids;
use super::schema::{Field, OBJECTS, Object};

pub type Record = Map<String, Value>;

#[derive(Debug, Clone, Default)]
pub struct Table {
    records: BTreeMap<String, Record>,
    index: HashMap<&'static str, HashMap<String, BTreeSet<String>>>,
    deleted: HashSet<String>,
    next: u64,
}

fn key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.to_lowercase()),
        _ => None,
    }
}

/// Salesforce's timestamp format, e.g. `2026-03-01T12:00:00.000+0000`.
pub fn timestamp() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
        .to_string()
}

impl Table {
    pub fn records(&self) -> impl Iterator<Item = &Record> {
        self.records.values()
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

    /// Inserts a record, filling the system fields, and returns its new id.
    pub fn insert(&mut self, obj: &Object, values: Record) -> String {
        self.next += 1;
        let id = ids::generate(obj.key_prefix, self.next);
        let now = timestamp();
        let mut record = Record::new();
        for field in obj.fields {
            record.insert(field.name.to_string(), Value::Null);
        }
        record.extend(values);
        record.insert("Id".into(), Value::String(id.clone()));
        for name in ["CreatedDate", "LastModifiedDate", "SystemModstamp"] {
            record.insert(name.into(), Value::String(now.clone()));
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

    pub fn update(&mut self, obj: &Object, id: &str, values: Record) {
        self.unindex(obj, id);
        if let Some(record) = self.records.get_mut(id) {
            record.extend(values);
            let now = timestamp();
            record.insert("LastModifiedDate".into(), Value::String(now.clone()));
            record.insert("SystemModstamp".into(), Value::String(now));
        }
        self.reindex(obj, id);
    }

    pub fn delete(&mut self, obj: &Object, id: &str) -> bool {
        self.unindex(obj, id);
        let removed = self.records.remove(id).is_some();
        if removed {
            self.deleted.insert(id.to_string());
        }
        removed
    }
}

#[derive(Debug, Clone)]
pub struct Store {
    tables: HashMap<&'static str, Table>,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            tables: OBJECTS.iter().map(|o| (o.name, Table::default())).collect(),
        }
    }
}

impl Store {
    pub fn table(&self, obj: &Object) -> &Table {
        self.tables
            .get(obj.name)
            .unwrap_or_else(|| unreachable_table(obj))
    }

    pub fn table_mut(&mut self, obj: &Object) -> &mut Table {
        self.tables.entry(obj.name).or_default()
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
