//! Declarative mappings: how each sender's records become records Salesforce accepts, checked
//! before any API call is spent.
//!
//! A mapping file (TOML, one per sender, see `mappings/README.md` for the full reference) names a
//! **source** and, per Salesforce **object**, the external id field, how each Salesforce field is
//! fed, and the parents looked up by external id:
//!
//! ```toml
//! source = "erp-fr"
//! country = "FR"              # phone numbers without +/00 are French (optional)
//! timezone = "Europe/Paris"   # local date-times are Paris time (optional)
//! strict = false              # true: incoming fields no rule reads are reported (optional)
//!
//! [objects.Contact]
//! external_id = "External_Id__c"          # must also be under fields; always required
//!
//! [objects.Contact.fields]
//! External_Id__c = { from = "code_contact", transforms = ["trim", "upper"] }
//! LastName = { from = "nom", required = true, transforms = ["title"] }
//! Email = { from = "courriel", transforms = ["email"] }
//! Birthdate = { from = "date_naissance", transforms = [{ rule = "date", format = "dd/mm/yyyy" }] }
//! MailingStreet = { from = ["adresse1", "adresse2"], transforms = [{ rule = "concat", separator = "\n" }] }
//! LeadSource = { value = "Partner Referral" }      # a constant
//!
//! [objects.Contact.references]
//! # → "Account": {"External_Id__c": "A-1"}: relationship name = key, parent object and its key.
//! Account = { object = "Account", field = "External_Id__c", from = "code_client", required = true }
//! ```
//!
//! A field entry takes `from` (an incoming name, or several with a leading `concat`) or `value`
//! (a constant); `transforms`, applied in order; `required`; `default`, used when the result is
//! empty. Transforms are a bare name (`"trim"`, `"upper"`, `"lower"`, `"title"`, `"email"`,
//! `"phone"`, `"country"`, `"integer"`, `"boolean"`) or a table with `rule` and parameters:
//! `phone {country}`, `date {format}`, `datetime {format, timezone}`, `decimal {locale, scale}`,
//! `map {values, fallback}`, `default {value}`, `concat {separator}`, `split {separator, take}`.
//! Absent, null and blank inputs are "no value": transforms are skipped (but `default` applies)
//! and the field is left out of the output, never sent as null. Every incoming string is cleaned
//! first ([`clean`]: invisible characters removed, NFC, white space collapsed), so a value of
//! invisible characters only is no value. File keys `locale` and `internationalized_email` set
//! defaults for dates, decimals and e-mail; `[objects.X.rules.name]` declares cross-field rules
//! (`rules/`). [`Mapping::normalize`] keeps what it could make beside every problem, and
//! [`Mapping::check_describe`] adds the describe's, named by the sender's field.
//!
//! [`MappingSet::check_against`] compares mappings with describe at start-up ([`Misfits`] says
//! each problem once, for the admin);
//! [`validate_record`] checks each normalized record as Salesforce would before it is sent.

mod check;
pub mod clean;
pub mod error;
mod mapping;
mod misfit;
mod needs;
mod order;
mod parse;
pub mod path;
mod rules;
pub mod transform;
mod validate;

#[cfg(test)]
mod tests;

/// Every string of at most `longest` characters from `alphabet`, for tests that check a fast path
/// against the slow one on all of them.
#[cfg(test)]
pub(crate) fn every_string(alphabet: &[char], longest: usize) -> Vec<String> {
    let mut level = vec![String::new()];
    let mut strings = level.clone();
    for _ in 0..longest {
        level = level
            .iter()
            .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
            .collect();
        strings.extend(level.iter().cloned());
    }
    strings
}

use std::collections::HashMap;
use std::path::Path;

pub use error::{
    Location, MappingError, MappingProblem, ProblemKind, SpecProblem, TransformError, ValueOrigin,
};
pub use mapping::{Mapping, Normalized};
pub use misfit::{Misfit, Misfits};
pub use needs::ObjectNeeds;
pub use validate::{OrgRules, validate_record, validate_record_with};

use crate::salesforce::SObjectDescribe;

/// One thing Sluice could not accept in a record, for the sender.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldIssue {
    /// The field as the sender named it (its incoming field, or fields joined with "+"); the
    /// Salesforce field when no incoming field feeds it (a constant, or a field the mapping
    /// does not write).
    pub field: String,
    /// The Salesforce field concerned (`Relationship.Key__c` for a parent's key), when there is
    /// one: an unknown incoming field has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_field: Option<String>,
    /// The rule that refused it: a transform name, or "required", "unknown_field", "not_writable",
    /// "too_long", "email", "picklist", "type", "number_range", "validation_rule".
    pub rule: String,
    pub message: String,
    /// The status code Salesforce would have answered, when there is one (docs/salesforce.md §7.3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub salesforce_code: Option<String>,
}

impl FieldIssue {
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            salesforce_field: None,
            rule: rule.into(),
            message: message.into(),
            salesforce_code: None,
        }
    }

    /// Names the Salesforce field concerned.
    pub fn on(mut self, salesforce_field: &str) -> Self {
        self.salesforce_field = Some(salesforce_field.to_owned());
        self
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.salesforce_code = Some(code.to_owned());
        self
    }
}

/// Every mapping, keyed by (source, object), with the objects' push order.
#[derive(Debug, Clone)]
pub struct MappingSet {
    mappings: Vec<Mapping>,
    order: Vec<String>,
}

impl MappingSet {
    /// Loads every `*.toml` in `dir` (not recursive), in file-name order.
    pub fn load_dir(dir: &Path) -> Result<Self, MappingError> {
        let io = |source| MappingError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        paths.retain(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file());
        paths.sort();
        let mut mappings = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| MappingError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            mappings.extend(parse::parse_file(&name, &text)?);
        }
        Self::new(mappings)
    }

    /// One file's text; `name` is used in error messages.
    pub fn from_toml_str(name: &str, toml: &str) -> Result<Self, MappingError> {
        Self::new(parse::parse_file(name, toml)?)
    }

    fn new(mappings: Vec<Mapping>) -> Result<Self, MappingError> {
        for (i, m) in mappings.iter().enumerate() {
            if let Some(first) = mappings[..i]
                .iter()
                .find(|o| o.source == m.source && o.object == m.object)
            {
                return Err(MappingError::Duplicate {
                    source_name: m.source.clone(),
                    object: m.object.clone(),
                    first: first.file.clone(),
                    second: m.file.clone(),
                });
            }
        }
        let order = order::push_order(&mappings)?;
        Ok(Self { mappings, order })
    }

    pub fn get(&self, source: &str, object: &str) -> Option<&Mapping> {
        self.mappings
            .iter()
            .find(|m| m.source == source && m.object == object)
    }

    /// The mappings of one source, parents first: the objects one of its payloads makes.
    pub fn of_source(&self, source: &str) -> Vec<&Mapping> {
        self.order
            .iter()
            .filter_map(|object| self.get(source, object))
            .collect()
    }

    /// Distinct sources, in load order.
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        let mut seen = Vec::new();
        self.mappings
            .iter()
            .map(|m| m.source.as_str())
            .filter(move |s| {
                let new = !seen.contains(s);
                if new {
                    seen.push(*s);
                }
                new
            })
    }

    /// Distinct objects in push order: parents before children (cycles are refused at load).
    pub fn objects(&self) -> Vec<&str> {
        self.order.iter().map(String::as_str).collect()
    }

    /// Checks every mapping against Salesforce's describe: target fields exist, are
    /// createable/updateable, the external id field is an externalId/idLookup field, references
    /// point at real relationship names and the parent's external id field, value-map targets
    /// are active picklist values of restricted picklists.
    pub fn check_against(
        &self,
        describes: &HashMap<String, SObjectDescribe>,
    ) -> Result<(), Vec<MappingProblem>> {
        let mut problems = Vec::new();
        for m in &self.mappings {
            check::check_mapping(m, describes, &mut problems);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
