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
    map_string(v, |s| s.split_whitespace().collect::<Vec<_>>().join(" "))
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

/// Trims, lowercases and checks the shape Salesforce checks (`INVALID_EMAIL_ADDRESS`).
pub fn email(v: Value) -> Result<Value, TransformError> {
    let Value::String(s) = v else {
        return Err(TransformError::NotText(kind(&v)));
    };
    let address = s.trim().to_lowercase();
    if is_email(&address) {
        Ok(Value::String(address))
    } else {
        Err(TransformError::Email(s))
    }
}

/// A practical subset of RFC 5322 close to what Salesforce accepts: one `@`, a dotted domain with a
/// letters-only top-level label, no spaces, no empty or dot-edged local part.
pub(crate) fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !s
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, ',' | '<' | '>' | '(' | ')' | ';' | ':'))
        && !domain.contains('@')
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_alphabetic()))
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
    fn case_rules() {
        assert_eq!(upper(json!("fr-Été")).unwrap(), json!("FR-ÉTÉ"));
        assert_eq!(lower(json!("ÉLODIE")).unwrap(), json!("élodie"));
        assert_eq!(
            title(json!("jean-pierre O'NEIL de la FONTAINE")).unwrap(),
            json!("Jean-Pierre O'Neil De La Fontaine")
        );
    }

    #[test]
    fn email_is_trimmed_lowercased_and_checked() {
        assert_eq!(
            email(json!(" JEAN.DUPONT@EXEMPLE.FR ")).unwrap(),
            json!("jean.dupont@exemple.fr")
        );
        assert_eq!(
            email(json!("jean.dupont@exemple")).unwrap_err().to_string(),
            "\"jean.dupont@exemple\" is not an email address (expected name@domain.tld)"
        );
        for bad in [
            "a@@b.fr",
            "a b@c.fr",
            ".a@b.fr",
            "a..b@c.fr",
            "@b.fr",
            "a@b.1",
        ] {
            assert!(email(json!(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            email(json!(3)).unwrap_err().to_string(),
            "expected text, got a number"
        );
    }
}
