//! Value maps, yes/no, integers, and the transforms that join or split text.

use std::collections::HashMap;

use serde_json::Value;

use super::country::fold as fold_words;
use super::text::{as_text, kind};
use crate::normalize::clean::fold;
use crate::normalize::error::TransformError;

/// Incoming words onto Salesforce values. Keys match without regard to case, accents and
/// surrounding spaces ("Résilié", "RESILIE" and "resilie " are one key) unless `exact`; the
/// targets are sent exactly as written, since picklist values are case-sensitive.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueMap {
    /// Keys as written, with their targets, in file order (for messages).
    entries: Vec<(String, Value)>,
    /// Compared form of each key → its entry.
    index: HashMap<String, usize>,
    fallback: Option<Value>,
    exact: bool,
}

impl ValueMap {
    /// Refuses two keys that compare equal but map to different values: which one applies
    /// would depend on how the sender happened to write the word.
    pub fn new(
        entries: impl IntoIterator<Item = (String, Value)>,
        fallback: Option<Value>,
        exact: bool,
    ) -> Result<Self, String> {
        let mut map = Self {
            entries: Vec::new(),
            index: HashMap::new(),
            fallback,
            exact,
        };
        for (key, target) in entries {
            let compared = map.compared(&key);
            if let Some(&earlier) = map.index.get(&compared) {
                let (first, first_target) = &map.entries[earlier];
                if *first_target != target {
                    return Err(format!(
                        "keys \"{first}\" and \"{key}\" are the same word once case, accents and spaces are ignored, but map to different values (set exact = true to tell them apart)"
                    ));
                }
                continue;
            }
            map.index.insert(compared, map.entries.len());
            map.entries.push((key, target));
        }
        Ok(map)
    }

    fn compared(&self, s: &str) -> String {
        if self.exact { s.to_owned() } else { fold(s) }
    }

    /// Every value this map can produce, for checking against a picklist, with the key that
    /// produces it (`None`: the fallback, for any other word).
    pub fn targets(&self) -> impl Iterator<Item = (&Value, Option<&str>)> {
        self.entries
            .iter()
            .map(|(key, target)| (target, Some(key.as_str())))
            .chain(self.fallback.iter().map(|v| (v, None)))
    }

    pub fn apply(&self, v: Value) -> Result<Value, TransformError> {
        let text = as_text(&v)?;
        if let Some(&i) = self.index.get(&self.compared(&text)) {
            return Ok(self.entries[i].1.clone());
        }
        self.fallback
            .clone()
            .ok_or_else(|| TransformError::NotInMap {
                value: text.trim().to_owned(),
                allowed: self
                    .entries
                    .iter()
                    .map(|e| e.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

const TRUE_WORDS: &[&str] = &[
    "1", "true", "yes", "y", "oui", "o", "vrai", "ja", "j", "si", "x",
];
const FALSE_WORDS: &[&str] = &["0", "false", "no", "n", "non", "faux", "nein"];

/// "oui", "Yes", "1", "true", "X" (a ticked export column) → true; "non", "no", "0" → false.
pub fn boolean(v: Value) -> Result<Value, TransformError> {
    if let Value::Bool(_) = v {
        return Ok(v);
    }
    let text = as_text(&v)?;
    let word = fold_words(&text);
    if TRUE_WORDS.contains(&word.as_str()) {
        Ok(Value::Bool(true))
    } else if FALSE_WORDS.contains(&word.as_str()) {
        Ok(Value::Bool(false))
    } else {
        Err(TransformError::Boolean(text.trim().to_owned()))
    }
}

/// Digits with an optional sign; JSON numbers with no fractional part ("3.0" from a spreadsheet).
pub fn integer(v: Value) -> Result<Value, TransformError> {
    let bad = |value: String, problem| TransformError::Integer { value, problem };
    match &v {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v),
        Value::Number(n) => match n.as_f64() {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "the range and fraction are checked first"
            )]
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Value::from(f as i64)),
            _ => Err(bad(
                n.to_string(),
                "it has a fractional part or is too large",
            )),
        },
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
                return Err(bad(
                    t.to_owned(),
                    "only digits and a leading sign are allowed",
                ));
            }
            t.parse::<i64>()
                .map(Value::from)
                .map_err(|_| bad(t.to_owned(), "out of range"))
        }
        other => Err(TransformError::NotText(kind(other))),
    }
}

/// Joins the present, non-blank inputs with `separator`; `None` when all are blank.
pub fn concat(inputs: &[Option<Value>], separator: &str) -> Result<Option<Value>, TransformError> {
    let mut parts = Vec::new();
    for v in inputs.iter().flatten() {
        let text = as_text(v)?;
        if !text.trim().is_empty() {
            parts.push(text.trim().to_owned());
        }
    }
    Ok((!parts.is_empty()).then(|| Value::String(parts.join(separator))))
}

/// Which piece of a split value a field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// 0-based; `None` past the end.
    Index(usize),
    First,
    Last,
    /// All but the first piece, re-joined.
    Rest,
    /// All but the last piece, re-joined: with `Last` this splits "Jean Pierre Dupont" into
    /// "Jean Pierre" / "Dupont", and a lone "Madonna" into nothing / "Madonna" (Salesforce
    /// requires LastName, not FirstName).
    AllButLast,
}

impl Take {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "first" => Some(Self::First),
            "last" => Some(Self::Last),
            "rest" => Some(Self::Rest),
            "all_but_last" => Some(Self::AllButLast),
            n => n.parse().ok().map(Self::Index),
        }
    }
}

/// One piece of a text cut at `separator` (empty pieces from repeated separators are dropped).
pub fn split(v: Value, separator: &str, take: &Take) -> Result<Option<Value>, TransformError> {
    let text = as_text(&v)?;
    let pieces: Vec<&str> = text
        .split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let joined = |p: &[&str]| (!p.is_empty()).then(|| p.join(separator));
    let piece = match take {
        Take::Index(i) => pieces.get(*i).map(|p| (*p).to_owned()),
        Take::First => pieces.first().map(|p| (*p).to_owned()),
        Take::Last => pieces.last().map(|p| (*p).to_owned()),
        Take::Rest => pieces.get(1..).and_then(joined),
        Take::AllButLast => pieces.split_last().and_then(|(_, init)| joined(init)),
    };
    Ok(piece.map(Value::String))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn value_map_ignores_case_accents_and_spaces_and_lists_allowed_keys() {
        let m = ValueMap::new(
            [
                ("payée".into(), json!("Paid")),
                ("Brouillon".into(), json!("Draft")),
                ("Résilié".into(), json!("Cancelled")),
            ],
            None,
            false,
        )
        .unwrap();
        assert_eq!(m.apply(json!(" PAYÉE ")).unwrap(), json!("Paid"));
        assert_eq!(m.apply(json!("payee")).unwrap(), json!("Paid"));
        for resilie in ["Résilié", "RESILIE", "resilie "] {
            assert_eq!(
                m.apply(json!(resilie)).unwrap(),
                json!("Cancelled"),
                "{resilie}"
            );
        }
        assert_eq!(m.apply(json!("brouillon")).unwrap(), json!("Draft"));
        assert_eq!(
            m.apply(json!("annulée")).unwrap_err().to_string(),
            "\"annulée\" is not one of: payée, Brouillon, Résilié"
        );
        let with_fallback =
            ValueMap::new([("a".into(), json!("A"))], Some(json!("Other")), false).unwrap();
        assert_eq!(with_fallback.apply(json!("zzz")).unwrap(), json!("Other"));
    }

    #[test]
    fn exact_maps_tell_case_apart_and_loose_maps_refuse_ambiguous_keys() {
        let keys = || {
            [
                ("A".to_owned(), json!("Upper")),
                ("a".to_owned(), json!("Lower")),
            ]
        };
        let exact = ValueMap::new(keys(), None, true).unwrap();
        assert_eq!(exact.apply(json!("a")).unwrap(), json!("Lower"));
        assert!(exact.apply(json!("á")).is_err());
        assert_eq!(
            ValueMap::new(keys(), None, false).unwrap_err(),
            "keys \"A\" and \"a\" are the same word once case, accents and spaces are ignored, but map to different values (set exact = true to tell them apart)"
        );
        let same_target = [
            ("envoyée".to_owned(), json!("Sent")),
            ("envoyee".to_owned(), json!("Sent")),
        ];
        assert!(ValueMap::new(same_target, None, false).is_ok());
    }

    #[test]
    fn booleans_in_several_languages() {
        for t in ["oui", "Yes", "1", "TRUE", "vrai", "x"] {
            assert_eq!(boolean(json!(t)).unwrap(), json!(true), "{t}");
        }
        for f in ["non", "No", "0", "false", "faux"] {
            assert_eq!(boolean(json!(f)).unwrap(), json!(false), "{f}");
        }
        assert_eq!(boolean(json!(1)).unwrap(), json!(true));
        assert_eq!(
            boolean(json!("peut-être")).unwrap_err().to_string(),
            "\"peut-être\" is not a yes/no value (yes, no, oui, non, true, false, 1, 0, …)"
        );
    }

    #[test]
    fn integers() {
        assert_eq!(integer(json!(" -42 ")).unwrap(), json!(-42));
        assert_eq!(integer(json!(3.0)).unwrap(), json!(3));
        assert_eq!(
            integer(json!("4,5")).unwrap_err().to_string(),
            "\"4,5\" is not an integer: only digits and a leading sign are allowed"
        );
        assert_eq!(
            integer(json!(4.5)).unwrap_err().to_string(),
            "\"4.5\" is not an integer: it has a fractional part or is too large"
        );
        assert_eq!(
            integer(json!("99999999999999999999"))
                .unwrap_err()
                .to_string(),
            "\"99999999999999999999\" is not an integer: out of range"
        );
    }

    #[test]
    fn concat_skips_blank_inputs() {
        let inputs = [
            Some(json!("12 rue de la Paix")),
            Some(json!("  ")),
            None,
            Some(json!("Bât. B")),
        ];
        assert_eq!(
            concat(&inputs, "\n").unwrap(),
            Some(json!("12 rue de la Paix\nBât. B"))
        );
        assert_eq!(concat(&[None, Some(json!(""))], " ").unwrap(), None);
    }

    #[test]
    fn split_takes_one_piece() {
        let name = || json!("Jean  Pierre Dupont");
        assert_eq!(
            split(name(), " ", &Take::Last).unwrap(),
            Some(json!("Dupont"))
        );
        assert_eq!(
            split(name(), " ", &Take::AllButLast).unwrap(),
            Some(json!("Jean Pierre"))
        );
        assert_eq!(
            split(name(), " ", &Take::First).unwrap(),
            Some(json!("Jean"))
        );
        assert_eq!(
            split(name(), " ", &Take::Rest).unwrap(),
            Some(json!("Pierre Dupont"))
        );
        assert_eq!(split(name(), " ", &Take::Index(5)).unwrap(), None);
        assert_eq!(
            split(json!("Madonna"), " ", &Take::AllButLast).unwrap(),
            None
        );
        assert_eq!(
            split(json!("Madonna"), " ", &Take::Last).unwrap(),
            Some(json!("Madonna"))
        );
    }
}
