//! Mappings checked against the org's describe at start-up, so a mapping onto a field that does
//! not exist or cannot be written fails once, loudly, rather than on every record.

use std::collections::HashMap;

use super::error::{MappingProblem, ProblemKind, ValueOrigin};
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
        seen_in: m.object.clone(),
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
        let in_parent = |kind| MappingProblem {
            seen_in: r.object.clone(),
            ..problem(Some(&key), kind)
        };
        match describes.get(&r.object).map(|p| p.field(&r.rule.target)) {
            None => out.push(in_parent(ProblemKind::UnknownObject)),
            Some(None) => out.push(in_parent(ProblemKind::UnknownField)),
            Some(Some(f)) if !(f.external_id || f.id_lookup) => {
                out.push(in_parent(ProblemKind::NotExternalId))
            }
            Some(Some(_)) => {}
        }
    }
}

/// Constants a rule can write onto a restricted picklist (map targets, defaults, fixed values)
/// must be active values, spelled exactly: Salesforce compares them case-sensitively. One
/// problem per missing value, with every word of the mapping that sends it.
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
    let mut missing: Vec<(String, Vec<ValueOrigin>)> = Vec::new();
    for (text, origin) in rule.constants() {
        if active.contains(&text.as_str()) {
            continue;
        }
        match missing.iter_mut().find(|(value, _)| *value == text) {
            Some((_, from)) => from.push(origin),
            None => missing.push((text, vec![origin])),
        }
    }
    missing
        .into_iter()
        .map(|(value, from)| ProblemKind::InactivePicklistValue {
            value,
            allowed: active.join(", "),
            from,
        })
        .collect()
}
