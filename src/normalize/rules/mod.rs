//! Cross-field rules a mapping declares: what a valid record satisfies, checked on the
//! normalized record at ingest. They stand for the org's validation rules, which the describe
//! does not show, so a record those rules would refuse costs no API call either.
//!
//! ```toml
//! [objects.Invoice__c.rules.due_after_issue]
//! check = "Due_Date__c >= Issue_Date__c"          # what must hold (see expr.rs)
//! message = "The due date cannot be before the invoice date"
//! field = "Due_Date__c"                           # optional: the field blamed (default: the first read)
//! ```
//!
//! `check` states what a valid record satisfies: the opposite of a Salesforce validation rule's
//! error condition. A rule is not checked when a field it reads has no value or was refused for
//! another reason; mark the fields `required` when they must be there.

mod expr;

use serde_json::{Map, Value};
use toml::Table;

use self::expr::{Expr, Operand};
use super::error::SpecProblem;

const RULE_KEYS: &[&str] = &["check", "message", "field"];

#[derive(Debug, Clone)]
pub(crate) struct Rule {
    pub name: String,
    check: Expr,
    pub message: String,
    /// The Salesforce field a refusal is reported on.
    pub field: String,
}

fn bad(name: &str, problem: impl Into<String>) -> SpecProblem {
    SpecProblem::BadRule {
        name: name.to_owned(),
        problem: problem.into(),
    }
}

/// Reads `[objects.X.rules]`; every field a rule reads must be one the mapping writes.
pub(crate) fn parse(table: &Table, targets: &[&str]) -> Result<Vec<Rule>, SpecProblem> {
    let mut rules = Vec::new();
    for (name, spec) in table {
        let toml::Value::Table(spec) = spec else {
            return Err(bad(name, "must be a table with check and message"));
        };
        if let Some(key) = spec.keys().find(|k| !RULE_KEYS.contains(&k.as_str())) {
            return Err(bad(name, format!("unknown key \"{key}\"")));
        }
        let text = |key: &str| match spec.get(key) {
            Some(toml::Value::String(s)) if !s.trim().is_empty() => Ok(Some(s.clone())),
            None => Ok(None),
            Some(_) => Err(bad(name, format!("\"{key}\" must be non-empty text"))),
        };
        let check_text = text("check")?.ok_or_else(|| bad(name, "missing key \"check\""))?;
        let message = text("message")?.ok_or_else(|| bad(name, "missing key \"message\""))?;
        let check = expr::parse(&check_text)
            .map_err(|e| bad(name, format!("check \"{check_text}\": {e}")))?;
        let read = check.fields();
        if let Some(unknown) = read.iter().find(|f| !targets.contains(f)) {
            return Err(bad(
                name,
                format!("reads {unknown}, which this mapping does not write"),
            ));
        }
        let field = match text("field")? {
            Some(f) if targets.contains(&f.as_str()) => f,
            Some(f) => {
                return Err(bad(
                    name,
                    format!("field {f} is not one this mapping writes"),
                ));
            }
            None => read
                .first()
                .map(|f| (*f).to_owned())
                .ok_or_else(|| bad(name, "the check reads no field"))?,
        };
        rules.push(Rule {
            name: name.clone(),
            check,
            message,
            field,
        });
    }
    Ok(rules)
}

impl Rule {
    /// Comparisons whose sides can never compare, given each field's describe type: a number
    /// field against text, a date against a number, … Found at start-up rather than on every
    /// record.
    pub fn type_problems<'a>(&self, field_type: impl Fn(&str) -> Option<&'a str>) -> Vec<String> {
        let kind = |o: &Operand| -> Option<&'static str> {
            match o {
                Operand::Number(_) => Some("a number"),
                Operand::Text(_) => Some("text"),
                Operand::Bool(_) => Some("true or false"),
                Operand::Field(f) => match field_type(f)? {
                    "int" | "double" | "currency" | "percent" => Some("a number"),
                    "boolean" => Some("true or false"),
                    _ => Some("text"),
                },
            }
        };
        let show = |o: &Operand| match o {
            Operand::Field(f) => f.clone(),
            Operand::Number(n) => n.to_string(),
            Operand::Text(t) => format!("'{t}'"),
            Operand::Bool(b) => b.to_string(),
        };
        self.check
            .comparisons()
            .into_iter()
            .filter_map(|(l, r)| match (kind(l), kind(r)) {
                (Some(a), Some(b)) if a != b => Some(format!(
                    "rule {} compares {} ({a}) with {} ({b})",
                    self.name,
                    show(l),
                    show(r)
                )),
                _ => None,
            })
            .collect()
    }

    /// Why `record` breaks the rule, or `None` when it holds or cannot be checked (a field it
    /// reads is missing, or was refused: `refused` names those).
    pub fn refusal(&self, record: &Map<String, Value>, refused: &[&str]) -> Option<String> {
        let reads = self.check.fields();
        if reads
            .iter()
            .any(|f| !record.contains_key(*f) || refused.contains(f))
        {
            return None;
        }
        match self.check.holds(record) {
            Ok(true) => None,
            Ok(false) => Some(self.message.clone()),
            Err(e) => Some(format!("rule {} cannot be checked: {e}", self.name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(toml: &str) -> Result<Vec<Rule>, SpecProblem> {
        parse(
            &toml.parse::<Table>().unwrap(),
            &["Amount__c", "Due_Date__c", "Issue_Date__c"],
        )
    }

    #[test]
    fn a_rule_refuses_with_its_message_and_skips_missing_fields() {
        let r =
            rules("due.check = 'Due_Date__c >= Issue_Date__c'\ndue.message = 'Due before issue'")
                .unwrap();
        let rule = &r[0];
        assert_eq!(rule.field, "Due_Date__c");
        let record = |v: Value| v.as_object().cloned().unwrap();
        let late = record(json!({"Due_Date__c": "2026-01-01", "Issue_Date__c": "2026-02-01"}));
        assert_eq!(rule.refusal(&late, &[]), Some("Due before issue".into()));
        assert_eq!(rule.refusal(&late, &["Issue_Date__c"]), None);
        assert_eq!(
            rule.refusal(&record(json!({"Due_Date__c": "2026-01-01"})), &[]),
            None
        );
    }

    #[test]
    fn rules_are_checked_when_loaded() {
        let err = |toml: &str| rules(toml).unwrap_err().to_string();
        assert_eq!(
            err("r.check = 'Total__c > 0'\nr.message = 'x'"),
            "rule \"r\": reads Total__c, which this mapping does not write"
        );
        assert_eq!(
            err("r.check = 'Amount__c > 0'"),
            "rule \"r\": missing key \"message\""
        );
        assert_eq!(
            err("r.check = 'Amount__c >'\nr.message = 'x'"),
            "rule \"r\": check \"Amount__c >\": expected a field name, a number, 'text', true or false"
        );
        assert_eq!(
            err("r.check = 'Amount__c > 0'\nr.message = 'x'\nr.level = 1"),
            "rule \"r\": unknown key \"level\""
        );
    }
}
