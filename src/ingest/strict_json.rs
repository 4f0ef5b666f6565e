//! JSON read strictly: an object holding the same key twice is refused, naming the key, instead
//! of the last value silently winning (RFC 8259 §4 leaves duplicate names to the reader; one
//! record could otherwise take another's external id). The rest of the grammar is serde_json's.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

/// A record that is not one: bad JSON, or a key given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// The record's index in the request (array position, or non-blank NDJSON line).
    pub index: usize,
    /// `record`, or the key given twice (with its path, e.g. `Address.City`).
    pub field: String,
    /// `json` or `duplicate_key`.
    pub rule: &'static str,
    pub message: String,
}

impl RecordError {
    pub fn json(index: usize, error: &serde_json::Error) -> Self {
        Self {
            index,
            field: "record".into(),
            rule: "json",
            message: format!("not valid JSON: {error}"),
        }
    }

    fn duplicate(index: usize, key: String) -> Self {
        Self {
            index,
            message: format!("the key {key:?} appears more than once in this record"),
            field: key,
            rule: "duplicate_key",
        }
    }
}

/// A record as read, or why it is not one.
pub type Item = (usize, Result<Value, RecordError>);

/// Reads one record (an NDJSON line): invalid JSON and duplicate keys are errors of the record.
pub fn parse_record(index: usize, bytes: &[u8]) -> Item {
    let mut duplicate = None;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let parsed = ValueSeed {
        duplicate: &mut duplicate,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    let result = match (parsed, duplicate) {
        (Err(e), _) => Err(RecordError::json(index, &e)),
        (Ok(_), Some(key)) => Err(RecordError::duplicate(index, key)),
        (Ok(value), None) => Ok(value),
    };
    (index, result)
}

/// Why a body is not an array of records.
#[derive(Debug, PartialEq, Eq)]
pub enum ArrayError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but not an array.
    NotArray,
    /// More than `max` elements; `count` is how many.
    TooMany { count: usize, max: usize },
}

/// Reads a JSON array of at most `max` records; a record with a duplicate key is an error of that
/// record alone.
pub fn parse_array(bytes: &[u8], max: usize) -> Result<Vec<Item>, ArrayError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'[') {
        return match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => Err(ArrayError::NotArray),
            Err(e) => Err(ArrayError::Json(e.to_string())),
        };
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let items = de
        .deserialize_seq(ArrayVisitor { max })
        .and_then(|items| de.end().map(|()| items))
        .map_err(|e| ArrayError::Json(e.to_string()))?;
    match items {
        Records::Items(items) => Ok(items),
        Records::TooMany(count) => Err(ArrayError::TooMany { count, max }),
    }
}

enum Records {
    Items(Vec<Item>),
    TooMany(usize),
}

struct ArrayVisitor {
    max: usize,
}

impl<'de> Visitor<'de> for ArrayVisitor {
    type Value = Records;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Records, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        loop {
            let index = items.len();
            if index == self.max {
                let mut count = index;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                return Ok(match count > self.max {
                    true => Records::TooMany(count),
                    false => Records::Items(items),
                });
            }
            let mut duplicate = None;
            let seed = ValueSeed {
                duplicate: &mut duplicate,
            };
            let Some(value) = seq.next_element_seed(seed)? else {
                return Ok(Records::Items(items));
            };
            let result = match duplicate {
                Some(key) => Err(RecordError::duplicate(index, key)),
                None => Ok(value),
            };
            items.push((index, result));
        }
    }
}

/// Builds a [`Value`] as serde_json does, noting the first key given twice (with its path).
struct ValueSeed<'a> {
    duplicate: &'a mut Option<String>,
}

impl ValueSeed<'_> {
    fn child(&mut self) -> ValueSeed<'_> {
        ValueSeed {
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        loop {
            let had = self.duplicate.is_some();
            let Some(value) = seq.next_element_seed(self.child())? else {
                return Ok(Value::Array(out));
            };
            if !had && let Some(inner) = self.duplicate.as_mut() {
                *inner = join(&format!("[{}]", out.len()), inner);
            }
            out.push(value);
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let had = self.duplicate.is_some();
            let value = map.next_value_seed(self.child())?;
            if !had && let Some(inner) = self.duplicate.as_mut() {
                *inner = join(&key, inner);
            }
            match out.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(slot) => {
                    if self.duplicate.is_none() {
                        *self.duplicate = Some(slot.key().clone());
                    }
                }
            }
        }
        Ok(Value::Object(out))
    }
}

fn join(outer: &str, inner: &str) -> String {
    match inner.starts_with('[') {
        true => format!("{outer}{inner}"),
        false => format!("{outer}.{inner}"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_key_given_twice_is_named_with_its_path() {
        let (_, result) = parse_record(3, br#"{"Id": "a", "Id": "b"}"#);
        let error = result.unwrap_err();
        assert_eq!((error.index, error.rule), (3, "duplicate_key"));
        assert_eq!(error.field, "Id");
        let (_, nested) = parse_record(0, br#"{"a": {"lines": [{"x": 1}, {"y": 1, "y": 2}]}}"#);
        assert_eq!(nested.unwrap_err().field, "a.lines[1].y");
    }

    #[test]
    fn a_clean_record_reads_as_serde_json_reads_it() {
        let text =
            r#"{"a": [1, -2, 3.5, "x", null, true], "b": {"c": {}}, "u": 18446744073709551615}"#;
        let (_, result) = parse_record(0, text.as_bytes());
        let expected: Value = serde_json::from_str(text).unwrap();
        assert_eq!(result.unwrap(), expected);
        let (_, bad) = parse_record(1, b"{\"a\": 1} trailing");
        assert_eq!(bad.unwrap_err().rule, "json");
    }

    #[test]
    fn an_array_refuses_only_the_record_with_a_duplicate_key() {
        let items = parse_array(br#"[{"a": 1}, {"a": 1, "a": 2}, {"b": 2}]"#, 10).unwrap();
        assert_eq!(items[0], (0, Ok(json!({"a": 1}))));
        assert_eq!(items[1].1.as_ref().unwrap_err().field, "a");
        assert_eq!(items[2], (2, Ok(json!({"b": 2}))));
    }

    #[test]
    fn an_array_body_is_refused_whole_when_it_is_not_one() {
        assert!(matches!(
            parse_array(b"{not json", 10),
            Err(ArrayError::Json(_))
        ));
        assert_eq!(parse_array(b" {\"a\":1}", 10), Err(ArrayError::NotArray));
        assert!(matches!(
            parse_array(b"[1, 2", 10),
            Err(ArrayError::Json(_))
        ));
        assert_eq!(
            parse_array(b"[1, 2, 3]", 2),
            Err(ArrayError::TooMany { count: 3, max: 2 })
        );
        assert_eq!(parse_array(b"[1, 2]", 2).unwrap().len(), 2);
    }
}
