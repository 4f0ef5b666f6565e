//! Runs a bound query over records: filter, sort, limit, then project.
//!
//! String comparisons are case-insensitive as in SOQL; a null field matches only `= null`, and
//! `!=` a value (SOQL's null semantics). Without ORDER BY, rows come in id order (creation order
//! here); Salesforce promises no order then, so callers that page must ORDER BY.

use std::cmp::Ordering;

use serde_json::{Map, Value as Json, json};

use super::bind::{Bound, Filter, Op, SortKey, Value};
use crate::sim::clock;
use crate::sim::schema::{Field, FieldType};
use crate::sim::store::Record;

/// The records a query selects from `rows`, sorted and limited.
pub fn run<'a>(bound: &Bound, rows: impl Iterator<Item = &'a Record>) -> Vec<&'a Record> {
    let mut selected: Vec<&Record> = rows
        .filter(|r| bound.filter.as_ref().is_none_or(|f| matches(f, r)))
        .collect();
    selected.sort_by(|a, b| {
        bound
            .order
            .iter()
            .map(|key| sort(key, a, b))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| id(a).cmp(id(b)))
    });
    if let Some(limit) = bound.limit {
        selected.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    selected
}

fn id(record: &Record) -> &str {
    record.get("Id").and_then(Json::as_str).unwrap_or("")
}

/// A query result row: `attributes` then the selected fields, as REST query answers it.
pub fn project(bound: &Bound, record: &Record, version: &str) -> Json {
    let object = bound.object.name;
    let mut row = Map::new();
    row.insert(
        "attributes".into(),
        json!({"type": object, "url": format!("/services/data/v{version}/sobjects/{object}/{}", id(record))}),
    );
    for field in &bound.fields {
        row.insert(
            field.name.to_string(),
            record.get(field.name).cloned().unwrap_or(Json::Null),
        );
    }
    Json::Object(row)
}

/// A row of a Bulk query result: the selected fields as text, empty for null.
pub fn cells(bound: &Bound, record: &Record) -> Vec<String> {
    bound
        .fields
        .iter()
        .map(|f| match record.get(f.name) {
            None | Some(Json::Null) => String::new(),
            Some(Json::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
        .collect()
}

fn matches(filter: &Filter, record: &Record) -> bool {
    match filter {
        Filter::And(terms) => terms.iter().all(|t| matches(t, record)),
        Filter::Or(terms) => terms.iter().any(|t| matches(t, record)),
        Filter::Cmp { field, op, value } => compare(field, *op, value, record),
        Filter::In {
            field,
            negated,
            values,
        } => {
            let found = values.iter().any(|v| compare(field, Op::Eq, v, record));
            found != *negated
        }
    }
}

fn compare(field: &Field, op: Op, literal: &Value, record: &Record) -> bool {
    let stored = record.get(field.name).unwrap_or(&Json::Null);
    if *literal == Value::Null {
        return match op {
            Op::Eq => stored.is_null(),
            _ => !stored.is_null(),
        };
    }
    let Some(ordering) = order_with_literal(stored, literal) else {
        return op == Op::Ne;
    };
    match op {
        Op::Eq => ordering.is_eq(),
        Op::Ne => ordering.is_ne(),
        Op::Lt => ordering.is_lt(),
        Op::Le => ordering.is_le(),
        Op::Gt => ordering.is_gt(),
        Op::Ge => ordering.is_ge(),
    }
}

/// How a stored value orders against a literal; `None` when the stored value is null.
fn order_with_literal(stored: &Json, literal: &Value) -> Option<Ordering> {
    match (stored, literal) {
        (Json::Null, _) => None,
        (Json::String(s), Value::Text(t)) => Some(s.to_lowercase().cmp(&t.to_lowercase())),
        (Json::String(s), Value::Id(t)) => Some(s.as_str().cmp(t.as_str())),
        (Json::String(s), Value::DateTime(t)) => clock::parse_stored(s).map(|v| v.cmp(t)),
        (Json::String(s), Value::Date(d)) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .map(|v| v.cmp(d)),
        (Json::Number(n), Value::Num(t)) => n.as_f64().and_then(|v| v.partial_cmp(t)),
        (Json::Bool(b), Value::Bool(t)) => Some(b.cmp(t)),
        _ => None,
    }
}

fn sort(key: &SortKey, a: &Record, b: &Record) -> Ordering {
    let (x, y) = (
        a.get(key.field.name).unwrap_or(&Json::Null),
        b.get(key.field.name).unwrap_or(&Json::Null),
    );
    match (x.is_null(), y.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => nulls(key),
        (false, true) => nulls(key).reverse(),
        (false, false) => {
            let ordering = order_values(key.field, x, y);
            if key.desc {
                ordering.reverse()
            } else {
                ordering
            }
        }
    }
}

/// Where a null goes relative to a value.
fn nulls(key: &SortKey) -> Ordering {
    if key.nulls_last {
        Ordering::Greater
    } else {
        Ordering::Less
    }
}

fn order_values(field: &Field, x: &Json, y: &Json) -> Ordering {
    match (x, y) {
        (Json::Number(a), Json::Number(b)) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        (Json::Bool(a), Json::Bool(b)) => a.cmp(b),
        // Stored datetimes share one width and zone, so their text orders as their time does.
        (Json::String(a), Json::String(b)) if field.ty == FieldType::DateTime => a.cmp(b),
        (Json::String(a), Json::String(b))
            if matches!(field.ty, FieldType::Id | FieldType::Reference) =>
        {
            a.cmp(b)
        }
        (Json::String(a), Json::String(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::super::compile;
    use super::*;

    fn record(v: Json) -> Record {
        v.as_object().cloned().unwrap_or_default()
    }

    fn rows() -> Vec<Record> {
        vec![
            record(
                json!({"Id": "001000000000001AAA", "Name": "beta", "SystemModstamp": "2026-12-05T10:00:00.000+0000", "IsDeleted": false, "Phone": null}),
            ),
            record(
                json!({"Id": "001000000000002AAA", "Name": "Alpha", "SystemModstamp": "2026-12-05T09:00:00.000+0000", "IsDeleted": false, "Phone": "1"}),
            ),
            record(
                json!({"Id": "001000000000003AAA", "Name": "gamma", "SystemModstamp": "2026-12-05T11:00:00.000+0000", "IsDeleted": true, "Phone": null}),
            ),
        ]
    }

    fn names(q: &str) -> Vec<String> {
        let bound = compile(q).expect("compiles");
        let rows = rows();
        run(&bound, rows.iter())
            .into_iter()
            .map(|r| r["Name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn filters_on_datetimes_booleans_and_nulls() {
        assert_eq!(
            names(
                "SELECT Name FROM Account WHERE SystemModstamp > 2026-12-05T09:30:00Z ORDER BY SystemModstamp"
            ),
            ["beta", "gamma"]
        );
        assert_eq!(
            names("SELECT Name FROM Account WHERE SystemModstamp >= 2026-12-05T11:00:00+01:00"),
            ["beta", "gamma"]
        );
        assert_eq!(
            names("SELECT Name FROM Account WHERE IsDeleted = true"),
            ["gamma"]
        );
        assert_eq!(
            names("SELECT Name FROM Account WHERE Phone = null"),
            ["beta", "gamma"]
        );
        assert_eq!(
            names("SELECT Name FROM Account WHERE Phone != '1'"),
            ["beta", "gamma"]
        );
        assert_eq!(
            names("SELECT Name FROM Account WHERE Name = 'ALPHA' OR Id IN ('001000000000003')"),
            ["Alpha", "gamma"]
        );
    }

    #[test]
    fn orders_case_insensitively_and_limits() {
        assert_eq!(
            names("SELECT Name FROM Account ORDER BY Name DESC LIMIT 2"),
            ["gamma", "beta"]
        );
        assert_eq!(
            names("SELECT Name FROM Account ORDER BY Phone NULLS LAST, Name"),
            ["Alpha", "beta", "gamma"]
        );
    }

    #[test]
    fn projection_carries_attributes_and_the_selected_fields_only() {
        let bound = compile("SELECT Name, Phone FROM Account").expect("compiles");
        let rows = rows();
        let row = project(&bound, &rows[0], "62.0");
        assert_eq!(
            row,
            json!({"attributes": {"type": "Account", "url": "/services/data/v62.0/sobjects/Account/001000000000001AAA"}, "Name": "beta", "Phone": null})
        );
        assert_eq!(cells(&bound, &rows[1]), ["Alpha", "1"]);
    }
}
