//! One committed write, as Change Data Capture sees it, before it is published as an event.
//!
//! What a change event carries depends on the operation
//! (<https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_body.htm>,
//! "JSON Change Event Messages", the shape CometD clients receive): a create carries every
//! non-empty field, an update only the changed fields plus `LastModifiedDate`, a delete none.
//! `IsDeleted` and `SystemModstamp` are never in the body
//! (<https://developer.salesforce.com/docs/atlas.en-us.232.0.change_data_capture.meta/change_data_capture/cdc_message_structure.htm>).

use chrono::{DateTime, Utc};
use serde_json::json;

use super::store::Record;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Create,
    Update,
    Delete,
}

impl ChangeType {
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "CREATE",
            Self::Update => "UPDATE",
            Self::Delete => "DELETE",
        }
    }
}

/// Fields a change event never carries.
const NOT_IN_BODY: [&str; 3] = ["Id", "IsDeleted", "SystemModstamp"];

#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub object: &'static str,
    pub id: String,
    pub kind: ChangeType,
    pub body: Record,
    /// `changedFields`: only for updates, `LastModifiedDate` included.
    pub changed: Vec<String>,
    pub at: DateTime<Utc>,
}

impl Change {
    pub fn new(
        object: &'static str,
        id: &str,
        kind: ChangeType,
        body: Record,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            object,
            id: id.to_string(),
            kind,
            body,
            changed: Vec::new(),
            at,
        }
    }

    /// The body of a create: every non-empty field of the new record.
    pub fn create_body(record: &Record) -> Record {
        record
            .iter()
            .filter(|(name, value)| !value.is_null() && !NOT_IN_BODY.contains(&name.as_str()))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect()
    }

    /// An update: `changed` holds the new values of the fields that changed (nulls included).
    /// A save that changes no value still moves `LastModifiedDate`, so it is still an event
    /// [UNVERIFIED: whether Salesforce publishes for a no-op save].
    pub fn update(
        object: &'static str,
        id: &str,
        changed: Record,
        stamp: &str,
        at: DateTime<Utc>,
    ) -> Self {
        let mut body = changed;
        body.retain(|name, _| !NOT_IN_BODY.contains(&name.as_str()));
        body.insert("LastModifiedDate".into(), json!(stamp));
        let mut names: Vec<String> = body.keys().cloned().collect();
        // `LastModifiedDate` last, as in the documented examples.
        names.retain(|n| n != "LastModifiedDate");
        names.push("LastModifiedDate".into());
        Self {
            object,
            id: id.to_string(),
            kind: ChangeType::Update,
            body,
            changed: names,
            at,
        }
    }

    /// Two changes Salesforce merges into one event with several `recordIds`: the same change
    /// to records of one object in one transaction within one second
    /// (<https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm>,
    /// `recordIds`). Creates never merge here: their bodies differ by at least the name or key.
    pub fn merges_with(&self, other: &Change) -> bool {
        self.object == other.object
            && self.kind == other.kind
            && self.kind != ChangeType::Create
            && self.body == other.body
            && self.at.timestamp() == other.at.timestamp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn record(v: Value) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn create_bodies_skip_empty_and_system_fields() {
        let body = Change::create_body(&record(json!({
            "Id": "001", "Name": "Acme", "Phone": null, "IsDeleted": false,
            "SystemModstamp": "x", "CreatedDate": "x"
        })));
        assert_eq!(body, record(json!({"Name": "Acme", "CreatedDate": "x"})));
    }

    #[test]
    fn updates_list_changed_fields_with_last_modified_date_last() {
        let now = Utc::now();
        let change = Change::update(
            "Account",
            "001",
            record(json!({"Phone": null, "Name": "New"})),
            "stamp",
            now,
        );
        assert_eq!(change.changed, ["Name", "Phone", "LastModifiedDate"]);
        assert_eq!(change.body.get("Phone"), Some(&Value::Null));
        let twin = Change {
            id: "002".into(),
            ..change.clone()
        };
        assert!(change.merges_with(&twin));
        let other = Change::update("Account", "003", record(json!({"Name": "X"})), "stamp", now);
        assert!(!change.merges_with(&other));
    }
}
