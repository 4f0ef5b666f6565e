//! A normalized record checked against describe as Salesforce would check it, so a record that
//! would fail costs no API call. Messages follow Salesforce's (docs/salesforce.md §7.3); the code is in
//! `salesforce_code`.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate};
use serde_json::{Map, Value};

use super::FieldIssue;
use super::transform::email;
use crate::salesforce::{FieldDescribe, SObjectDescribe};

/// What the org accepts beyond what its describe shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrgRules {
    /// Email Address Internationalization is on: e-mail fields take non-ASCII addresses.
    pub internationalized_email: bool,
}

const TEXT_TYPES: &[&str] = &[
    "string",
    "textarea",
    "email",
    "phone",
    "url",
    "picklist",
    "multipicklist",
    "combobox",
    "encryptedstring",
];

/// Checks a normalized record against the object's describe (see the rules in `mod.rs`), for
/// an org with the default settings. Issues name the Salesforce field in `field`.
pub fn validate_record(
    describe: &SObjectDescribe,
    record: &Map<String, Value>,
    for_insert: bool,
) -> Vec<FieldIssue> {
    validate_record_with(describe, record, for_insert, OrgRules::default())
}

/// [`validate_record`] for an org with `org`'s settings.
pub fn validate_record_with(
    describe: &SObjectDescribe,
    record: &Map<String, Value>,
    for_insert: bool,
    org: OrgRules,
) -> Vec<FieldIssue> {
    let mut issues = Vec::new();
    for (name, value) in record {
        let field = match (describe.field(name), value) {
            (Some(f), _) => f,
            // A parent by external id: `Account: {External_Id__c: …}` stands for AccountId.
            (None, Value::Object(_)) => match describe.field_by_relationship(name) {
                Some(f) => f,
                None => {
                    issues.push(unknown(describe, name));
                    continue;
                }
            },
            (None, _) => {
                issues.push(unknown(describe, name));
                continue;
            }
        };
        let writable = if for_insert {
            field.createable
        } else {
            field.updateable
        };
        if !writable {
            issues.push(
                FieldIssue::new(name.clone(), "not_writable", format!("Unable to create/update fields: {name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."))
                    .on(name)
                    .with_code("INVALID_FIELD_FOR_INSERT_UPDATE"),
            );
            continue;
        }
        if let Some(issue) = check_value(field, name, value, org) {
            issues.push(issue.on(name));
            continue;
        }
    }
    for f in describe.required_on_create() {
        let given = |key: Option<&str>| {
            key.and_then(|k| record.get(k))
                .is_some_and(|v| !v.is_null())
        };
        let present = given(Some(&f.name)) || given(f.relationship_name.as_deref());
        // Nulling a required field fails on update too; leaving it out only matters on insert.
        let nulled = record.get(&f.name).is_some_and(Value::is_null);
        if !present && (for_insert || nulled) {
            issues.push(
                FieldIssue::new(
                    f.name.clone(),
                    "required",
                    format!("Required fields are missing: [{}]", f.name),
                )
                .on(&f.name)
                .with_code("REQUIRED_FIELD_MISSING"),
            );
        }
    }
    issues
}

fn unknown(describe: &SObjectDescribe, name: &str) -> FieldIssue {
    FieldIssue::new(
        name.to_owned(),
        "unknown_field",
        format!(
            "No such column '{name}' on sobject of type {}",
            describe.name
        ),
    )
    .on(name)
    .with_code("INVALID_FIELD")
}

fn type_issue(name: &str, f: &FieldDescribe, expected: &str, value: &Value) -> FieldIssue {
    FieldIssue::new(
        name.to_owned(),
        "type",
        format!(
            "{}: expected {expected} for a {} field, got {value}",
            f.label_or_name(),
            f.field_type
        ),
    )
}

trait Label {
    fn label_or_name(&self) -> &str;
}

impl Label for FieldDescribe {
    fn label_or_name(&self) -> &str {
        if self.label.is_empty() {
            &self.name
        } else {
            &self.label
        }
    }
}

fn check_value(f: &FieldDescribe, name: &str, value: &Value, org: OrgRules) -> Option<FieldIssue> {
    let label = f.label_or_name();
    match (f.field_type.as_str(), value) {
        (_, Value::Null) => None,
        ("reference", Value::Object(key)) => {
            let ok = key.len() == 1 && key.values().all(|v| v.is_string() || v.is_number());
            (!ok).then(|| type_issue(name, f, "{\"ExternalIdField\": value}", value))
        }
        ("boolean", v) => (!v.is_boolean()).then(|| type_issue(name, f, "true or false", v)),
        ("int", v) => match v.as_i64() {
            None => Some(type_issue(name, f, "an integer", v)),
            Some(n) => range(f, name, n.unsigned_abs() as f64, f.digits, 0, v),
        },
        ("double" | "currency" | "percent", v) => match v.as_f64() {
            None => Some(type_issue(name, f, "a number", v)),
            Some(n) => range(f, name, n.abs(), f.precision, f.scale, v),
        },
        ("date", v) => {
            let ok = v
                .as_str()
                .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok());
            (!ok).then(|| type_issue(name, f, "a date YYYY-MM-DD", v))
        }
        ("datetime", v) => {
            let ok = v.as_str().is_some_and(|s| {
                DateTime::parse_from_rfc3339(s).is_ok()
                    || DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").is_ok()
            });
            (!ok).then(|| type_issue(name, f, "an ISO 8601 date-time with offset", v))
        }
        (t, Value::Array(_) | Value::Object(_)) if TEXT_TYPES.contains(&t) => {
            Some(type_issue(name, f, "text", value))
        }
        (t, v) if TEXT_TYPES.contains(&t) => {
            let text: Cow<'_, str> = v.as_str().map_or_else(|| v.to_string().into(), Cow::from);
            // A character is at least a byte: only a longer text needs counting.
            let limit = f.length as usize;
            if limit > 0 && text.len() > limit && text.chars().count() > limit {
                return Some(
                    FieldIssue::new(
                        name.to_owned(),
                        "too_long",
                        format!(
                            "{label}: data value too large: {text} (max length={})",
                            f.length
                        ),
                    )
                    .with_code("STRING_TOO_LONG"),
                );
            }
            if t == "email"
                && let Err(problem) = email::check(&text, org.internationalized_email)
            {
                return Some(
                    FieldIssue::new(
                        name.to_owned(),
                        "email",
                        format!("{label}: invalid email address: {text} ({problem})"),
                    )
                    .with_code("INVALID_EMAIL_ADDRESS"),
                );
            }
            let active = |p: &str| f.picklist_values.iter().any(|v| v.active && v.value == p);
            let bad_pick = match t {
                "picklist" => f.restricted_picklist && !active(&text),
                "multipicklist" => f.restricted_picklist && !text.split(';').all(active),
                _ => false,
            };
            bad_pick.then(|| {
                FieldIssue::new(
                    name.to_owned(),
                    "picklist",
                    format!("{label}: bad value for restricted picklist field: {text}"),
                )
                .with_code("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
            })
        }
        // Types this validator does not know (time, location, …) are left to Salesforce.
        _ => None,
    }
}

/// Salesforce rounds extra decimals silently, so only the integer digits are limited:
/// precision − scale of them.
fn range(
    f: &FieldDescribe,
    name: &str,
    magnitude: f64,
    precision: u32,
    scale: u32,
    v: &Value,
) -> Option<FieldIssue> {
    if precision == 0 {
        return None;
    }
    let digits = precision.saturating_sub(scale);
    let limit = 10f64.powi(i32::try_from(digits).unwrap_or(i32::MAX));
    (magnitude >= limit).then(|| {
        FieldIssue::new(
            name.to_owned(),
            "number_range",
            format!(
                "{}: value outside of valid range on numeric field: {v}",
                f.label_or_name()
            ),
        )
        .with_code("NUMBER_OUTSIDE_VALID_RANGE")
    })
}
