//! Typed answers: per-record results (§3) and describe (§9).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The outcome of one record in an sObject Collections call, in input order (§3).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct RecordResult {
    /// Absent on failed inserts.
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    /// Only on upserts: `true` inserted, `false` updated.
    #[serde(default)]
    pub created: Option<bool>,
    #[serde(default)]
    pub errors: Vec<RecordError>,
}

impl RecordResult {
    /// A failed record is worth resubmitting when every error on it is transient or collateral.
    pub fn is_retryable_failure(&self) -> bool {
        !self.success
            && !self.errors.is_empty()
            && self.errors.iter().all(RecordError::is_transient)
    }
}

/// One error on a record. Collections spell the code `statusCode` (§3); the single-record REST array
/// spells it `errorCode` (§2.2), which is accepted too.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordError {
    #[serde(alias = "errorCode")]
    pub status_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Codes §7.2 calls transient: retry with backoff.
const TRANSIENT_CODES: &[&str] = &[
    "UNABLE_TO_LOCK_ROW",
    "TOO_MANY_APEX_REQUESTS",
    "REQUEST_LIMIT_EXCEEDED",
    "SERVER_UNAVAILABLE",
    "UNKNOWN_EXCEPTION",
    "QUERY_TIMEOUT",
    "REQUEST_RUNNING_TOO_LONG",
    "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
    "API_CURRENTLY_DISABLED",
];

/// Codes §7.3 calls collateral: the record is innocent, a sibling failed; resubmit it.
const COLLATERAL_CODES: &[&str] = &["ALL_OR_NONE_OPERATION_ROLLED_BACK", "PROCESSING_HALTED"];

impl RecordError {
    /// True when resending the same record later may succeed (§7.2), including collateral
    /// rollbacks (§7.3) and a trigger's DML that hit a lock, which Salesforce wraps as
    /// `CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY` with `UNABLE_TO_LOCK_ROW` in the message.
    pub fn is_transient(&self) -> bool {
        let code = self.status_code.as_str();
        TRANSIENT_CODES.contains(&code)
            || COLLATERAL_CODES.contains(&code)
            || (code == "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY"
                && self.message.contains("UNABLE_TO_LOCK_ROW"))
    }

    /// True for rollback notices that hide a sibling's real error (§12 item 13).
    pub fn is_collateral(&self) -> bool {
        COLLATERAL_CODES.contains(&self.status_code.as_str())
    }

    /// Parses a Bulk 2.0 `sf__Error` cell, `STATUS_CODE:message:field1,field2 --` (§5.3).
    /// The message may itself contain colons, so the fields are taken from the last one.
    pub fn from_bulk_error(cell: &str) -> Self {
        let trimmed = cell.trim().trim_end_matches("--").trim_end();
        let Some((code, rest)) = trimmed.split_once(':') else {
            return Self {
                status_code: trimmed.to_owned(),
                message: String::new(),
                fields: Vec::new(),
            };
        };
        let (message, fields) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let fields = fields
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        Self {
            status_code: code.trim().to_owned(),
            message: message.to_owned(),
            fields,
        }
    }
}

/// The typed subset of `GET /sobjects/{Obj}/describe/` a pre-send validator needs (§9).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SObjectDescribe {
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub updateable: bool,
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub custom: bool,
    #[serde(default)]
    pub fields: Vec<FieldDescribe>,
    /// Lookups by name, built on first use: ingest checks every field of every record against
    /// the describe, and a linear search per field cost a seventh of the ingest's time.
    #[serde(skip)]
    index: OnceLock<FieldIndex>,
}

/// Positions in [`SObjectDescribe::fields`].
#[derive(Clone, Debug, Default, PartialEq)]
struct FieldIndex {
    by_name: HashMap<String, usize>,
    by_relationship: HashMap<String, usize>,
    required_on_create: Vec<usize>,
}

impl SObjectDescribe {
    /// Field names are case-sensitive in the API (§9), so the lookup is exact.
    pub fn field(&self, name: &str) -> Option<&FieldDescribe> {
        self.index().by_name.get(name).map(|&i| &self.fields[i])
    }

    /// The lookup field whose relationship is `name` (`Account` for `AccountId`).
    pub fn field_by_relationship(&self, name: &str) -> Option<&FieldDescribe> {
        self.index()
            .by_relationship
            .get(name)
            .map(|&i| &self.fields[i])
    }

    /// The fields an insert must set (see [`FieldDescribe::required_on_create`]).
    pub fn required_on_create(&self) -> impl Iterator<Item = &FieldDescribe> {
        self.index()
            .required_on_create
            .iter()
            .map(|&i| &self.fields[i])
    }

    /// The index over `fields` as they are now. `fields` is public: a describe changed after its
    /// first lookup must be made again (none is: describes are read, then only shared).
    fn index(&self) -> &FieldIndex {
        self.index.get_or_init(|| {
            let mut index = FieldIndex::default();
            for (i, f) in self.fields.iter().enumerate() {
                // The first of a name wins, as the linear search did.
                index.by_name.entry(f.name.clone()).or_insert(i);
                if let Some(rel) = &f.relationship_name {
                    index.by_relationship.entry(rel.clone()).or_insert(i);
                }
                if f.required_on_create() {
                    index.required_on_create.push(i);
                }
            }
            index
        })
    }
}

/// One field of a describe answer. Absent keys take their `Default` so a partial answer still parses.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldDescribe {
    pub name: String,
    pub label: String,
    /// `string`, `email`, `picklist`, `reference`, `double`, … (kept as text: the enum is open).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Characters, for text types.
    pub length: u32,
    pub byte_length: u32,
    pub precision: u32,
    pub scale: u32,
    pub digits: u32,
    pub nillable: bool,
    pub defaulted_on_create: bool,
    pub createable: bool,
    pub updateable: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub unique: bool,
    pub case_sensitive: bool,
    pub calculated: bool,
    pub auto_number: bool,
    pub restricted_picklist: bool,
    pub dependent_picklist: bool,
    pub controller_name: Option<String>,
    pub picklist_values: Vec<PicklistValue>,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
}

impl FieldDescribe {
    /// §9: required on create ≈ `createable && !nillable && !defaultedOnCreate`.
    pub fn required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PicklistValue {
    pub active: bool,
    pub default_value: bool,
    pub label: Option<String>,
    /// Send exactly this: picklist values are case-sensitive (§7.3).
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, message: &str) -> RecordError {
        RecordError {
            status_code: code.into(),
            message: message.into(),
            fields: vec![],
        }
    }

    #[test]
    fn lock_limit_and_collateral_errors_are_transient() {
        assert!(err("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access").is_transient());
        assert!(err("TOO_MANY_APEX_REQUESTS", "").is_transient());
        assert!(err("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back").is_transient());
        assert!(err("PROCESSING_HALTED", "").is_transient());
        assert!(
            err(
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                "MyTrigger: execution of AfterInsert caused by: UNABLE_TO_LOCK_ROW"
            )
            .is_transient()
        );
    }

    #[test]
    fn validation_errors_are_final() {
        for code in [
            "REQUIRED_FIELD_MISSING",
            "DUPLICATE_VALUE",
            "STRING_TOO_LONG",
            "MALFORMED_ID",
            "DUPLICATES_DETECTED",
        ] {
            assert!(!err(code, "x").is_transient(), "{code}");
        }
        assert!(
            !err(
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                "MyTrigger: bad value"
            )
            .is_transient()
        );
    }

    #[test]
    fn record_results_parse_statuscode_and_errorcode() {
        let body = r#"[{"id":"001xx0000004GxDAAU","success":true,"errors":[],"created":true},
            {"success":false,"errors":[{"statusCode":"MALFORMED_ID","message":"bad","fields":["Id"]}]},
            {"success":false,"errors":[{"errorCode":"UNABLE_TO_LOCK_ROW","message":"lock"}]}]"#;
        let results: Vec<RecordResult> = serde_json::from_str(body).unwrap();
        assert_eq!(results[0].created, Some(true));
        assert_eq!(results[1].id, None);
        assert_eq!(results[1].errors[0].fields, vec!["Id".to_string()]);
        assert!(!results[1].is_retryable_failure());
        assert!(results[2].is_retryable_failure());
    }

    #[test]
    fn bulk_error_cells_parse() {
        let e = RecordError::from_bulk_error(
            "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--",
        );
        assert_eq!(
            e,
            err("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        );
        let e = RecordError::from_bulk_error(
            "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --",
        );
        assert_eq!(e.status_code, "REQUIRED_FIELD_MISSING");
        assert_eq!(e.message, "Required fields are missing: [LastName]");
        assert_eq!(e.fields, vec!["LastName".to_string()]);
        assert_eq!(RecordError::from_bulk_error("WEIRD").status_code, "WEIRD");
    }

    #[test]
    fn describe_parses_a_partial_answer() {
        let body = r#"{"name":"Contact","keyPrefix":"003","createable":true,"fields":[
            {"name":"LastName","type":"string","length":80,"createable":true,"nillable":false},
            {"name":"Email","type":"email","nillable":true,"picklistValues":[]}]}"#;
        let d: SObjectDescribe = serde_json::from_str(body).unwrap();
        assert!(d.field("LastName").unwrap().required_on_create());
        assert!(!d.field("Email").unwrap().required_on_create());
        assert_eq!(d.field("email"), None);
    }
}
