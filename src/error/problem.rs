//! The body of every error answer: an RFC 9457 problem document.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// One thing wrong with one field of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    /// Index of the record in the request's array, when the problem is in one record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The record's external id, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The field at fault as the sender named it (`body` for the request as a whole).
    pub field: String,
    /// The Salesforce field concerned, when the problem is with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salesforce_field: Option<String>,
    /// A machine-readable rule name, e.g. `required`, `type`, `too_long`.
    pub rule: String,
    /// What is wrong, for a person.
    pub message: String,
}

impl FieldProblem {
    /// A problem with the request as a whole or one part of it (no record index).
    pub fn new(
        field: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            index: None,
            external_id: None,
            field: field.into(),
            salesforce_field: None,
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable, machine-readable reason, for refusals of the caller's token
    /// (e.g. `token_expired`, `insufficient_scope`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
    /// The problems with individual fields or records.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<FieldProblem>,
}
