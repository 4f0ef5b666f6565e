//! Change Data Capture events as a CometD client receives them
//! (<https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_header.htm>,
//! <https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_event_fields_body.htm>).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::SalesforceError;

/// The operation behind an event. `Gap*` events say something changed that Salesforce couldn't
/// describe (read the records back); `GapOverflow` that too many changed at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeType {
    Create,
    Update,
    Delete,
    Undelete,
    GapCreate,
    GapUpdate,
    GapDelete,
    GapUndelete,
    GapOverflow,
    #[serde(other)]
    Unknown,
}

impl ChangeType {
    /// True when the event carries no usable field values and the records must be re-read.
    pub fn is_gap(self) -> bool {
        matches!(
            self,
            Self::GapCreate
                | Self::GapUpdate
                | Self::GapDelete
                | Self::GapUndelete
                | Self::GapOverflow
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEventHeader {
    pub entity_name: String,
    /// Usually one id; several when the same change hit several records in one transaction.
    pub record_ids: Vec<String>,
    pub change_type: ChangeType,
    /// Updates only: the fields that changed, `LastModifiedDate` included.
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// `com/salesforce/api/<api>/<version>[;client=<id>]` for API changes, empty otherwise.
    #[serde(default)]
    pub change_origin: String,
    pub transaction_key: String,
    pub sequence_number: u64,
    /// Milliseconds since the epoch.
    pub commit_timestamp: i64,
    #[serde(default)]
    pub commit_number: Option<u64>,
    pub commit_user: String,
}

/// One change event: its header, the record fields it carries (all non-empty fields for a
/// create, the changed ones for an update, none for a delete), and where it sits in the stream.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangeEvent {
    pub channel: String,
    pub replay_id: i64,
    pub header: ChangeEventHeader,
    pub fields: Map<String, Value>,
}

impl ChangeEvent {
    /// Reads a Bayeux data message: `{"channel", "data": {"payload", "event": {"replayId"}}}`.
    pub(crate) fn from_message(message: &Value) -> Result<Self, SalesforceError> {
        let bad = |what: &str| SalesforceError::Protocol(format!("change event: {what}"));
        let channel = message
            .get("channel")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("no channel"))?;
        let data = message.get("data").ok_or_else(|| bad("no data"))?;
        let replay_id = data
            .get("event")
            .and_then(|e| e.get("replayId"))
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("no replayId"))?;
        let mut fields = data
            .get("payload")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| bad("no payload"))?;
        let header = fields
            .remove("ChangeEventHeader")
            .ok_or_else(|| bad("no ChangeEventHeader"))?;
        let header: ChangeEventHeader =
            serde_json::from_value(header).map_err(|e| bad(&e.to_string()))?;
        Ok(Self {
            channel: channel.to_owned(),
            replay_id,
            header,
            fields,
        })
    }

    pub fn committed_at(&self) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp_millis(self.header.commit_timestamp)
    }

    /// The client id an API caller named in `Sforce-Call-Options: client=…`, if any: how a
    /// reader recognises its own writes and doesn't echo them back.
    pub fn origin_client(&self) -> Option<&str> {
        self.header
            .change_origin
            .split(';')
            .find_map(|part| part.trim().strip_prefix("client="))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_update_event_parses() {
        let message = serde_json::json!({
            "channel": "/data/AccountChangeEvent",
            "data": {
                "schema": "I8b-dYxvxs5wOtCBr4qsew",
                "payload": {
                    "LastModifiedDate": "2020-12-15T23:09:18.000Z",
                    "Fax": "4155551212",
                    "ChangeEventHeader": {
                        "commitNumber": 74487681550u64, "commitUser": "005RM000001hv4SYAQ",
                        "sequenceNumber": 1, "entityName": "Account", "changeType": "UPDATE",
                        "changedFields": ["Fax", "LastModifiedDate"],
                        "changeOrigin": "com/salesforce/api/soap/51.0;client=SfdcInternalAPI/",
                        "transactionKey": "0005e192-9e62-2554-3880-3c3718bd6308",
                        "commitTimestamp": 1608073758000i64, "recordIds": ["001RM000004UF9sYAG"]
                    }
                },
                "event": {"replayId": 12}
            }
        });
        let event = ChangeEvent::from_message(&message).expect("parses");
        assert_eq!(event.replay_id, 12);
        assert_eq!(event.header.change_type, ChangeType::Update);
        assert_eq!(event.fields["Fax"], "4155551212");
        assert!(!event.fields.contains_key("ChangeEventHeader"));
        assert_eq!(event.origin_client(), Some("SfdcInternalAPI/"));
        assert!(event.committed_at().is_some());
        let gap: ChangeType = serde_json::from_str("\"GAP_OVERFLOW\"").expect("parses");
        assert!(gap.is_gap());
    }
}
