//! One source's mapping for one object, and [`Mapping::normalize`], which runs it on a record.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use super::FieldIssue;
use super::clean::Clean;
use super::error::ValueOrigin;
use super::path::{self, ROOT, lookup};
use super::rules::Rule;
use super::transform::text::kind;
use super::transform::{Transform, values};
use super::validate::{OrgRules, validate_record_with};
use crate::salesforce::SObjectDescribe;

/// Where a field's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Input {
    Field(String),
    /// Several incoming fields joined with a separator (the `concat` transform).
    Concat(Vec<String>, String),
    Const(Value),
}

/// How one output value is made: read, transform in order, then default, then the required check.
#[derive(Debug, Clone)]
pub(crate) struct FieldRule {
    /// The Salesforce field written; for a reference, the parent's external id field.
    pub target: String,
    pub input: Input,
    pub steps: Vec<Transform>,
    pub required: bool,
    pub default: Option<Value>,
    /// How incoming text is cleaned before the transforms.
    pub clean: Clean,
}

/// A parent looked up by its external id: `"Account": {"External_Id__c": "A-1"}`.
#[derive(Debug, Clone)]
pub(crate) struct Reference {
    pub relationship: String,
    pub object: String,
    pub rule: FieldRule,
    /// `relationship.field`, as issues name it.
    pub salesforce_field: String,
}

#[derive(Debug, Clone)]
pub struct Mapping {
    pub(crate) file: String,
    pub(crate) source: String,
    pub(crate) object: String,
    pub(crate) external_id: String,
    pub(crate) fields: Vec<FieldRule>,
    pub(crate) references: Vec<Reference>,
    /// Report incoming fields no rule reads, instead of ignoring them.
    pub(crate) strict: bool,
    /// The top-level incoming names some rule reads (see [`Mapping::reads`]); a handful of short
    /// names, compared faster than they hash.
    pub(crate) read: BTreeSet<String>,
    /// Cross-field rules checked on the normalized record.
    pub(crate) rules: Vec<Rule>,
    pub(crate) org: OrgRules,
    /// Where this object's records are in a nested payload (`data.object.lines[*]`); `None`:
    /// the payload is the record.
    pub(crate) records: Option<String>,
    /// The event types this object is made from (`order.created`, `customer.*`); empty: all.
    pub(crate) on: Vec<String>,
}

/// A record after its mapping: the Salesforce fields that have a value, as Salesforce would
/// receive them, and every problem found (not only the first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalized {
    pub fields: Map<String, Value>,
    pub issues: Vec<FieldIssue>,
}

/// The incoming value after the field's clean step; other JSON types are left as they are.
fn cleaned(v: Option<&Value>, clean: Clean) -> Option<Value> {
    match v? {
        Value::String(s) => Some(Value::String(clean.apply(s).into_owned())),
        other => Some(other.clone()),
    }
}

/// The record with its field names cleaned, so that a name carrying a byte-order mark (the
/// first column of many CSV exports) or a zero-width space still matches its rule. A name
/// already present as written wins over one that only cleans to it.
fn with_clean_names(record: &Map<String, Value>) -> Cow<'_, Map<String, Value>> {
    if record.keys().all(|k| Clean::Text.apply(k) == k.as_str()) {
        return Cow::Borrowed(record);
    }
    let mut out = Map::new();
    for (k, v) in record {
        let name = Clean::Text.apply(k);
        if name == k.as_str() || !record.contains_key(name.as_ref()) {
            out.insert(name.into_owned(), v.clone());
        }
    }
    Cow::Owned(out)
}

/// Absent, null and blank text are all "no value": Sluice never clears a Salesforce field
/// because a sender left a column empty.
fn present(v: Option<Value>) -> Option<Value> {
    match v {
        None | Some(Value::Null) => None,
        // As `trim().is_empty()`, stopping at the first visible character instead of trimming.
        Some(Value::String(s)) if s.chars().all(char::is_whitespace) => None,
        v => v,
    }
}

impl FieldRule {
    /// The name a sender knows this value by: its incoming field(s), or the Salesforce field.
    fn label(&self) -> String {
        match &self.input {
            Input::Field(f) => f.clone(),
            Input::Concat(fs, _) => fs.join("+"),
            Input::Const(_) => self.target.clone(),
        }
    }

    pub(crate) fn reads(&self) -> impl Iterator<Item = &str> {
        let names: &[String] = match &self.input {
            Input::Field(f) => std::slice::from_ref(f),
            Input::Concat(fs, _) => fs,
            Input::Const(_) => &[],
        };
        names.iter().map(String::as_str)
    }

    /// Every constant this rule can write, as text (how a picklist compares it), with why: for
    /// picklist checks and the org's needs.
    pub(crate) fn constants(&self) -> Vec<(String, ValueOrigin)> {
        let mut out: Vec<(&Value, ValueOrigin)> = self
            .default
            .iter()
            .map(|v| (v, ValueOrigin::Default))
            .collect();
        if let Input::Const(v) = &self.input {
            out.push((v, ValueOrigin::Constant));
        }
        for step in &self.steps {
            match step {
                Transform::Default(v) => out.push((v, ValueOrigin::Default)),
                Transform::Map(m) => out.extend(m.targets().map(|(v, key)| {
                    let origin =
                        key.map_or(ValueOrigin::Fallback, |k| ValueOrigin::Word(k.to_owned()));
                    (v, origin)
                })),
                _ => {}
            }
        }
        out.into_iter()
            .map(|(v, origin)| match v {
                Value::String(s) => (s.clone(), origin),
                other => (other.to_string(), origin),
            })
            .collect()
    }

    /// `salesforce_field` names the written field in issues (a reference passes its own).
    pub(crate) fn run(
        &self,
        record: &Map<String, Value>,
        salesforce_field: &str,
    ) -> Result<Option<Value>, FieldIssue> {
        let issue = |rule: &str, message: String| {
            FieldIssue::new(self.label(), rule, message).on(salesforce_field)
        };
        let read = |f: &str| present(cleaned(lookup(record, f), self.clean));
        let mut value = match &self.input {
            Input::Field(f) => read(f),
            Input::Const(v) => Some(v.clone()),
            Input::Concat(fs, sep) => {
                let inputs: Vec<Option<Value>> = fs.iter().map(|f| read(f)).collect();
                values::concat(&inputs, sep).map_err(|e| issue("concat", e.to_string()))?
            }
        };
        for step in &self.steps {
            value = match (step, value) {
                (Transform::Default(d), None) => Some(d.clone()),
                (_, None) => None,
                (step, Some(v)) => {
                    let out = step
                        .apply(v)
                        .map_err(|e| issue(step.rule(), e.to_string()))?;
                    present(out)
                }
            };
        }
        let value = value.or_else(|| self.default.clone());
        match &value {
            Some(v @ (Value::Array(_) | Value::Object(_))) => Err(issue(
                "type",
                format!(
                    "expected a single value for {}, got {}",
                    self.target,
                    kind(v)
                ),
            )),
            None if self.required => Err(issue(
                "required",
                format!("a value is required for {}", self.target),
            )
            .with_code("REQUIRED_FIELD_MISSING")),
            _ => Ok(value),
        }
    }
}

impl Mapping {
    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn object(&self) -> &str {
        &self.object
    }

    /// The top-level incoming names the rules read, for `strict`: computed once, not per record.
    pub(crate) fn reads(fields: &[FieldRule], references: &[Reference]) -> BTreeSet<String> {
        fields
            .iter()
            .chain(references.iter().map(|r| &r.rule))
            .flat_map(FieldRule::reads)
            .map(|name| {
                name.split_once('.')
                    .map_or(name, |(head, _)| head)
                    .to_owned()
            })
            .collect()
    }

    pub fn external_id_field(&self) -> &str {
        &self.external_id
    }

    /// The incoming values the external id is made from, by the sender's names, before any
    /// cleaning: the door checks them, since cleaning would repair a key by guessing.
    pub fn external_id_inputs<'a>(
        &'a self,
        input: &'a Map<String, Value>,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.fields
            .iter()
            .filter(|rule| rule.target == self.external_id)
            .flat_map(FieldRule::reads)
            .filter_map(|name| Some((name, lookup(input, name)?)))
    }

    /// The file this mapping was read from (or the name given to `from_toml_str`).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// `(relationship name, parent object)` for each parent looked up by external id.
    pub fn parents(&self) -> Vec<(&str, &str)> {
        self.references
            .iter()
            .map(|r| (r.relationship.as_str(), r.object.as_str()))
            .collect()
    }

    /// The event types this object is made from (`on`); empty: every event.
    pub fn event_types(&self) -> &[String] {
        &self.on
    }

    /// Whether an event of `event_type` makes records of this object: every event when the
    /// mapping has no `on`; otherwise a listed type, or one under a listed `prefix.*`. An event
    /// without a type makes none when `on` is set.
    pub fn takes(&self, event_type: Option<&str>) -> bool {
        if self.on.is_empty() {
            return true;
        }
        let Some(t) = event_type else { return false };
        self.on
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some("") => true,
                Some(prefix) => t.starts_with(prefix),
                None => pattern == t,
            })
    }

    /// The records of this object in one nested payload (a webhook event, a pulled item): the
    /// payload itself, or each value its `records` path selects. A record taken out of the
    /// payload carries, under `$`, the values its rules read from the payload with `$.…`.
    pub fn records_of(&self, payload: &Value) -> Vec<Value> {
        let Some(records) = &self.records else {
            return vec![payload.clone()];
        };
        let reads: Vec<&str> = self
            .fields
            .iter()
            .chain(self.references.iter().map(|r| &r.rule))
            .flat_map(FieldRule::reads)
            .filter_map(|name| name.strip_prefix("$."))
            .collect();
        // Only what the rules read, keyed by its path: a copy of the whole event per line of a
        // large order would cost its size times its lines.
        let root = (!reads.is_empty()).then(|| {
            let picked = reads
                .iter()
                .filter_map(|p| Some(((*p).to_owned(), path::get(payload, p)?.clone())));
            Value::Object(picked.collect())
        });
        let mut selected = Vec::new();
        path::select(payload, records, &mut selected);
        selected
            .into_iter()
            .map(|v| match (v, &root) {
                (Value::Object(fields), Some(root)) => {
                    let mut fields = fields.clone();
                    fields.insert(ROOT.to_owned(), root.clone());
                    Value::Object(fields)
                }
                (v, _) => v.clone(),
            })
            .collect()
    }

    /// Normalizes one incoming record into Salesforce fields (external id field included), or
    /// every problem found (not just the first). Fields without a value are left out.
    pub fn apply(&self, input: &Map<String, Value>) -> Result<Map<String, Value>, Vec<FieldIssue>> {
        let normalized = self.normalize(input);
        if normalized.issues.is_empty() {
            Ok(normalized.fields)
        } else {
            Err(normalized.issues)
        }
    }

    /// Runs every field rule, reference and cross-field rule on `input`. The fields that could
    /// be made are kept beside the problems, so the describe can check them too and a refusal
    /// can carry the record's external id.
    pub fn normalize(&self, input: &Map<String, Value>) -> Normalized {
        let input = with_clean_names(input);
        let input = input.as_ref();
        let mut out = Map::new();
        let mut issues = Vec::new();
        for rule in &self.fields {
            match rule.run(input, &rule.target) {
                Ok(Some(v)) => {
                    out.insert(rule.target.clone(), v);
                }
                Ok(None) => {}
                Err(issue) => issues.push(issue),
            }
        }
        for reference in &self.references {
            match reference.rule.run(input, &reference.salesforce_field) {
                Ok(Some(v)) => {
                    let key = Map::from_iter([(reference.rule.target.clone(), v)]);
                    out.insert(reference.relationship.clone(), Value::Object(key));
                }
                Ok(None) => {}
                // The rule knows only the parent's key field; name the relationship too.
                Err(issue) if issue.rule == "required" => issues.push(FieldIssue {
                    message: format!(
                        "a value is required for {}.{}",
                        reference.relationship, reference.rule.target
                    ),
                    ..issue
                }),
                Err(issue) => issues.push(issue),
            }
        }
        if self.strict {
            for name in input.keys() {
                if !self.read.contains(name.as_str()) {
                    issues.push(FieldIssue::new(
                        name.clone(),
                        "unknown_field",
                        format!(
                            "the {} mapping of source {} has no rule for this field",
                            self.object, self.source
                        ),
                    ));
                }
            }
        }
        self.check_rules(&out, &mut issues);
        Normalized {
            fields: out,
            issues,
        }
    }

    fn check_rules(&self, record: &Map<String, Value>, issues: &mut Vec<FieldIssue>) {
        let refused: Vec<&str> = issues
            .iter()
            .filter_map(|i| i.salesforce_field.as_deref())
            .collect();
        let mut found = Vec::new();
        for rule in &self.rules {
            if let Some(message) = rule.refusal(record, &refused) {
                found.push(
                    FieldIssue::new(self.sender_name(&rule.field), "validation_rule", message)
                        .on(&rule.field)
                        .with_code("FIELD_CUSTOM_VALIDATION_EXCEPTION"),
                );
            }
        }
        issues.extend(found);
    }

    /// The name the sender knows a Salesforce field (or relationship) by.
    fn sender_name(&self, salesforce_field: &str) -> String {
        self.fields
            .iter()
            .find(|r| r.target == salesforce_field)
            .or_else(|| {
                self.references
                    .iter()
                    .find(|r| r.relationship == salesforce_field)
                    .map(|r| &r.rule)
            })
            .map_or_else(|| salesforce_field.to_owned(), FieldRule::label)
    }

    /// Adds what Salesforce's describe would refuse in `record`'s fields, each problem named by
    /// the sender's field and the Salesforce field. A field the mapping already refused is not
    /// reported twice. `for_insert`: the record may be created, so required fields apply.
    pub fn check_describe(
        &self,
        describe: &SObjectDescribe,
        record: &mut Normalized,
        for_insert: bool,
    ) {
        // Problems are compared by the top-level Salesforce name: a field or a relationship.
        let top = |name: &str| -> String {
            let head = name.split('.').next().unwrap_or(name);
            describe
                .field(head)
                .and_then(|f| f.relationship_name.clone())
                .filter(|rel| self.references.iter().any(|r| &r.relationship == rel))
                .unwrap_or_else(|| head.to_owned())
        };
        let refused: HashSet<String> = record
            .issues
            .iter()
            .filter_map(|i| i.salesforce_field.as_deref())
            .map(top)
            .collect();
        for issue in validate_record_with(describe, &record.fields, for_insert, self.org) {
            let salesforce_field = issue.field.clone();
            let name = top(&salesforce_field);
            if refused.contains(&name) {
                continue;
            }
            record.issues.push(FieldIssue {
                field: self.sender_name(&name),
                salesforce_field: Some(salesforce_field),
                ..issue
            });
        }
    }
}
