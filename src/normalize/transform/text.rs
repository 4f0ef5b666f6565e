//! Text transforms. Numbers and booleans pass through the case and space rules unchanged, so an
//! identity mapping can `trim` every field without turning `12.5` into `"12.5"`.

use serde_json::Value;

use crate::normalize::error::TransformError;

/// The JSON type's name, for messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A scalar as text: numbers and booleans are written as JSON writes them.
pub(crate) fn as_text(v: &Value) -> Result<String, TransformError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(TransformError::NotScalar(kind(other))),
    }
}

fn map_string(v: Value, f: impl FnOnce(&str) -> String) -> Result<Value, TransformError> {
    match v {
        Value::String(s) => Ok(Value::String(f(&s))),
        Value::Number(_) | Value::Bool(_) => Ok(v),
        other => Err(TransformError::NotScalar(kind(&other))),
    }
}

/// Trims, and folds inner runs of white space (including U+00A0 and U+202F) to one space.
pub fn trim(v: Value) -> Result<Value, TransformError> {
    match &v {
        // Most values are already so: they are kept, not rebuilt.
        Value::String(s) if is_trimmed(s) => Ok(v),
        _ => map_string(v, fold_spaces),
    }
}

fn fold_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether [`fold_spaces`] would give `s` back unchanged: no white space at either end, and
/// every inner run of it one plain space.
fn is_trimmed(s: &str) -> bool {
    let mut after_space = true;
    for c in s.chars() {
        if c.is_whitespace() {
            if c != ' ' || after_space {
                return false;
            }
            after_space = true;
        } else {
            after_space = false;
        }
    }
    !after_space || s.is_empty()
}

pub fn upper(v: Value) -> Result<Value, TransformError> {
    map_string(v, str::to_uppercase)
}

pub fn lower(v: Value) -> Result<Value, TransformError> {
    map_string(v, str::to_lowercase)
}

/// Names: "jean-pierre O'NEIL" → "Jean-Pierre O'Neil". A letter after a space, hyphen or apostrophe
/// starts a word. Particles ("de", "van") are capitalized too: no rule fits every family name.
pub fn title(v: Value) -> Result<Value, TransformError> {
    map_string(v, |s| {
        let mut out = String::with_capacity(s.len());
        let mut start = true;
        for c in s.chars() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = c.is_whitespace() || matches!(c, '-' | '\'' | '’');
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trim_folds_all_kinds_of_space_and_keeps_numbers() {
        assert_eq!(
            trim(json!("  Dupont\u{a0}\u{202f} SA ")).unwrap(),
            json!("Dupont SA")
        );
        assert_eq!(trim(json!(12.5)).unwrap(), json!(12.5));
        assert_eq!(
            trim(json!(["a"])).unwrap_err().to_string(),
            "expected a single value, got a list"
        );
    }

    #[test]
    fn a_string_is_kept_as_it_is_exactly_when_folding_would_not_change_it() {
        let alphabet = ['a', ' ', '\t', '\u{a0}', 'é', '\u{3000}', '\n'];
        let strings = crate::normalize::every_string(&alphabet, 4);
        for s in &strings {
            assert_eq!(is_trimmed(s), fold_spaces(s) == *s, "{s:?}");
            assert_eq!(trim(json!(s)).unwrap(), json!(fold_spaces(s)), "{s:?}");
        }
    }

    #[test]
    fn case_rules() {
        assert_eq!(upper(json!("fr-Été")).unwrap(), json!("FR-ÉTÉ"));
        assert_eq!(lower(json!("ÉLODIE")).unwrap(), json!("élodie"));
        assert_eq!(
            title(json!("jean-pierre O'NEIL de la FONTAINE")).unwrap(),
            json!("Jean-Pierre O'Neil De La Fontaine")
        );
    }
}
