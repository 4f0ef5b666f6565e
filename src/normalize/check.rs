//! Mappings checked against the org's describe at start-up, so a mapping onto a field that does
//! not exist or cannot be written fails once, loudly, rather than on every record.

use std::collections::HashMap;

use serde_json::Value;

use super::error::{MappingProblem, ProblemKind};
use super::mapping::{FieldRule, Mapping};
use crate::salesforce::{FieldDescribe, SObjectDescribe};

pub(crate) fn check_mapping(
    m: &Mapping,
    describes: &HashMap<String, SObjectDescribe>,
    out: &mut Vec<MappingProblem>,
) {
    let problem = |field: Option<&str>, kind| MappingProblem {
        source_name: m.source.clone(),
        object: m.object.clone(),
        field: field.map(str::to_owned),
        kind,
    };
    let Some(describe) = describes.get(&m.object) else {
        out.push(problem(None, ProblemKind::UnknownObject));
        return;
    };
    for rule in &m.fields {
        let Some(f) = describe.field(&rule.target) else {
            out.push(problem(Some(&rule.target), ProblemKind::UnknownField));
            continue;
        };
        // An upsert may insert or update, so both must be allowed, except for the key itself,
        // which is only ever written on insert.
        if !f.createable {
            out.push(problem(
                Some(&rule.target),
                ProblemKind::NotWritable("createable"),
            ));
        } else if !f.updateable && rule.target != m.external_id {
            out.push(problem(
                Some(&rule.target),
                ProblemKind::NotWritable("updateable"),
            ));
        }
        for kind in picklist_problems(f, rule) {
            out.push(problem(Some(&rule.target), kind));
        }
    }
    for rule in &m.rules {
        let field_type = |name: &str| describe.field(name).map(|f| f.field_type.as_str());
        for detail in rule.type_problems(field_type) {
            out.push(problem(Some(&rule.field), ProblemKind::RuleTypes(detail)));
        }
    }
    if let Some(f) = describe.field(&m.external_id)
        && !(f.external_id || f.id_lookup)
    {
        out.push(problem(Some(&m.external_id), ProblemKind::NotExternalId));
    }
    for r in &m.references {
        let Some(lookup) = describe
            .fields
            .iter()
            .find(|f| f.relationship_name.as_deref() == Some(&r.relationship))
        else {
            out.push(problem(
                Some(&r.relationship),
                ProblemKind::UnknownRelationship,
            ));
            continue;
        };
        if !lookup.reference_to.contains(&r.object) {
            out.push(problem(
                Some(&r.relationship),
                ProblemKind::WrongParent {
                    expected: r.object.clone(),
                    actual: lookup.reference_to.join(", "),
                },
            ));
        }
        if !lookup.createable {
            out.push(problem(
                Some(&lookup.name),
                ProblemKind::NotWritable("createable"),
            ));
        }
        let key = format!("{}.{}", r.relationship, r.rule.target);
        match describes.get(&r.object).map(|p| p.field(&r.rule.target)) {
            None => out.push(problem(Some(&key), ProblemKind::UnknownObject)),
            Some(None) => out.push(problem(Some(&key), ProblemKind::UnknownField)),
            Some(Some(f)) if !(f.external_id || f.id_lookup) => {
                out.push(problem(Some(&key), ProblemKind::NotExternalId))
            }
            Some(Some(_)) => {}
        }
    }
}

/// Constants a rule can write onto a restricted picklist (map targets, defaults, fixed values)
/// must be active values, spelled exactly: Salesforce compares them case-sensitively.
fn picklist_problems(f: &FieldDescribe, rule: &FieldRule) -> Vec<ProblemKind> {
    if !f.restricted_picklist {
        return Vec::new();
    }
    let active: Vec<&str> = f
        .picklist_values
        .iter()
        .filter(|p| p.active)
        .map(|p| p.value.as_str())
        .collect();
    rule.constants()
        .into_iter()
        .filter_map(|v| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (!active.contains(&text.as_str())).then(|| ProblemKind::InactivePicklistValue {
                value: text,
                allowed: active.join(", "),
            })
        })
        .collect()
}
