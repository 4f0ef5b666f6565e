//! Paths into nested JSON, for payloads that are not flat records (webhook events, pulled API
//! pages): `data.object.customer.email` reads inside objects, `lines[0].price` inside arrays,
//! `lines[*]` selects every element (an object's `records`), and `$.data.object.id` reads the
//! whole event from a record taken out of it.
//!
//! At every level an exact key wins over a path (`{"a.b": 1}` answers `a.b`), so incoming names
//! that contain dots or brackets keep working as they did before paths existed.

use serde_json::{Map, Value};

/// The key under which a record taken out of an event carries what it reads of the event.
pub const ROOT: &str = "$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("{0:?} is empty")]
    Empty(String),
    #[error("{0:?} has a \"[\" without its \"]\"")]
    Unclosed(String),
    #[error("{path:?}: [{inside}] is neither an index nor *")]
    BadIndex { path: String, inside: String },
    #[error("{0:?} has an empty name between dots")]
    EmptyKey(String),
    #[error(
        "{0:?} selects several values ([*]); a field reads one: put the array in the object's `records`"
    )]
    Several(String),
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
    Each,
}

/// The first step of `path` and the rest after it (without its leading dot).
fn split(path: &str) -> Result<(Step<'_>, &str), PathError> {
    if let Some(inner) = path.strip_prefix('[') {
        let close = inner
            .find(']')
            .ok_or_else(|| PathError::Unclosed(path.to_owned()))?;
        let inside = &inner[..close];
        let step = match inside {
            "*" => Step::Each,
            n => Step::Index(n.parse().map_err(|_| PathError::BadIndex {
                path: path.to_owned(),
                inside: n.to_owned(),
            })?),
        };
        let rest = &inner[close + 1..];
        return Ok((step, rest.strip_prefix('.').unwrap_or(rest)));
    }
    let end = path.find(['.', '[']).unwrap_or(path.len());
    if end == 0 {
        return Err(PathError::EmptyKey(path.to_owned()));
    }
    let rest = &path[end..];
    Ok((
        Step::Key(&path[..end]),
        rest.strip_prefix('.').unwrap_or(rest),
    ))
}

/// Checks a path's syntax at load; `several` allows `[*]` (an object's `records`).
pub(crate) fn check(path: &str, several: bool) -> Result<(), PathError> {
    let mut rest = path.strip_prefix("$.").unwrap_or(path);
    if rest.is_empty() {
        return Err(PathError::Empty(path.to_owned()));
    }
    while !rest.is_empty() {
        let (step, next) = split(rest)?;
        if step == Step::Each && !several {
            return Err(PathError::Several(path.to_owned()));
        }
        rest = next;
    }
    Ok(())
}

/// The one value at `path` in `value`, trying an exact key first at every level.
pub(crate) fn get<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    match value {
        Value::Object(map) => get_in(map, path),
        Value::Array(items) => match split(path).ok()? {
            (Step::Index(i), rest) => get(items.get(i)?, rest),
            _ => None,
        },
        _ => None,
    }
}

/// [`get`] on an object's fields.
pub(crate) fn get_in<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    map.get(path).or_else(|| below(map, path))
}

/// [`get_in`] once `path` is known not to be a key of `map`: a path of a single key (most
/// incoming names) finds nothing more, without a second lookup of the same key.
fn below<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if !path.bytes().any(|b| matches!(b, b'.' | b'[')) {
        return None;
    }
    match split(path).ok()? {
        (Step::Key(k), rest) => get(map.get(k)?, rest),
        _ => None,
    }
}

/// A record's field by name: its exact key, a path into it, or (`$.…`) a path into the event the
/// record was taken from; a record that is the event itself reads `$.…` in itself.
pub(crate) fn lookup<'a>(record: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(v) = record.get(name) {
        return Some(v);
    }
    match name.strip_prefix("$.") {
        Some(rest) => match record.get(ROOT) {
            Some(root) => get(root, rest),
            None => get_in(record, rest),
        },
        None => below(record, name),
    }
}

/// Every value `path` selects: `[*]` fans out over an array's elements; a missing or null step
/// selects nothing.
pub(crate) fn select<'a>(value: &'a Value, path: &str, out: &mut Vec<&'a Value>) {
    if path.is_empty() {
        if !value.is_null() {
            out.push(value);
        }
        return;
    }
    let Ok((step, rest)) = split(path) else {
        return;
    };
    match (step, value) {
        (Step::Key(k), Value::Object(map)) => {
            if let Some(v) = map.get(path) {
                select(v, "", out);
            } else if let Some(v) = map.get(k) {
                select(v, rest, out);
            }
        }
        (Step::Index(i), Value::Array(items)) => {
            if let Some(item) = items.get(i) {
                select(item, rest, out);
            }
        }
        (Step::Each, Value::Array(items)) => {
            for item in items {
                select(item, rest, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_read_objects_and_arrays_with_exact_keys_first() {
        let v = json!({"data": {"object": {"customer": {"email": "a@b.fr"}, "lines": [{"p": 1}, {"p": 2}]}},
                       "a.b": "exact", "a": {"b": "nested"}});
        assert_eq!(
            get(&v, "data.object.customer.email"),
            Some(&json!("a@b.fr"))
        );
        assert_eq!(get(&v, "data.object.lines[1].p"), Some(&json!(2)));
        assert_eq!(get(&v, "data.object.lines[2].p"), None);
        assert_eq!(get(&v, "a.b"), Some(&json!("exact")));
        assert_eq!(get(&v, "data.object.lines[*]"), None, "not one value");
    }

    #[test]
    fn a_name_reads_its_key_or_a_path_and_a_trailing_dot_is_no_step() {
        let v = json!({"a": {"b": 1}, "c": 2});
        let Value::Object(map) = v else {
            unreachable!()
        };
        assert_eq!(lookup(&map, "c"), Some(&json!(2)));
        assert_eq!(lookup(&map, "c."), Some(&json!(2)));
        assert_eq!(lookup(&map, "a.b"), Some(&json!(1)));
        assert_eq!(lookup(&map, "missing"), None);
        assert_eq!(lookup(&map, "a.missing"), None);
        assert_eq!(lookup(&map, "[0]"), None);
    }

    #[test]
    fn select_fans_out_over_arrays_and_skips_what_is_missing() {
        let v =
            json!({"orders": [{"lines": [{"n": 1}, {"n": 2}]}, {"lines": [{"n": 3}]}, {"x": 0}]});
        let mut out = Vec::new();
        select(&v, "orders[*].lines[*]", &mut out);
        assert_eq!(out, [&json!({"n": 1}), &json!({"n": 2}), &json!({"n": 3})]);
        let mut none = Vec::new();
        select(&v, "missing[*]", &mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn a_record_reads_its_event_under_the_root_key_or_itself() {
        let taken = json!({"n": 1, "$": {"data.id": "o-1"}});
        let Value::Object(taken) = taken else {
            unreachable!()
        };
        assert_eq!(lookup(&taken, "$.data.id"), Some(&json!("o-1")));
        let event = json!({"data": {"id": "o-2"}});
        let Value::Object(event) = event else {
            unreachable!()
        };
        assert_eq!(lookup(&event, "$.data.id"), Some(&json!("o-2")));
    }

    #[test]
    fn bad_paths_are_refused_at_load() {
        assert!(check("lines[*].sku", true).is_ok());
        assert!(matches!(
            check("lines[*].sku", false),
            Err(PathError::Several(_))
        ));
        assert!(matches!(
            check("lines[1", true),
            Err(PathError::Unclosed(_))
        ));
        assert!(matches!(
            check("lines[x]", true),
            Err(PathError::BadIndex { .. })
        ));
        assert!(matches!(check("a..b", true), Err(PathError::EmptyKey(_))));
    }
}
