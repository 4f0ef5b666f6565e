//! Country names and codes to ISO 3166-1 alpha-2, the value Salesforce's State and Country
//! Picklists take in `*CountryCode` fields.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde_json::Value;

use super::countries::COUNTRIES;
use super::text::as_text;
use crate::normalize::error::TransformError;

/// Lower case, accents removed, punctuation as single spaces: "Côte-d’Ivoire" → "cote d ivoire".
pub(crate) fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let plain = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            c if c.is_alphanumeric() => c,
            _ => ' ',
        };
        out.push(plain);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

static INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for (alpha2, alpha3, english, french, others) in COUNTRIES {
        for name in [*alpha2, *alpha3, *english, *french]
            .iter()
            .chain(others.iter())
        {
            index.insert(fold(name), *alpha2);
        }
    }
    index
});

/// Alpha-2 code for a name or code, if the table knows it.
pub(crate) fn lookup(name: &str) -> Option<&'static str> {
    INDEX.get(&fold(name)).copied()
}

pub fn country(v: Value) -> Result<Value, TransformError> {
    let text = as_text(&v)?;
    lookup(&text)
        .map(|code| Value::String(code.to_owned()))
        .ok_or_else(|| TransformError::Country(text.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_codes_in_any_case_or_accent() {
        for (raw, code) in [
            ("France", "FR"),
            ("Allemagne", "DE"),
            ("germany", "DE"),
            ("DEU", "DE"),
            ("de", "DE"),
            ("ÉTATS-UNIS", "US"),
            ("etats unis", "US"),
            ("Royaume-Uni", "GB"),
            ("UK", "GB"),
            ("côte d’ivoire", "CI"),
            ("Pays-Bas", "NL"),
            ("  suisse ", "CH"),
        ] {
            assert_eq!(country(json!(raw)).unwrap(), json!(code), "{raw}");
        }
    }

    #[test]
    fn table_has_the_common_countries_once_each() {
        assert!(COUNTRIES.len() >= 60);
        let mut codes: Vec<_> = COUNTRIES.iter().map(|c| c.0).collect();
        codes.dedup();
        assert_eq!(codes.len(), COUNTRIES.len(), "sorted and unique");
    }

    #[test]
    fn unknown_countries_are_refused() {
        assert_eq!(
            country(json!("Atlantide")).unwrap_err().to_string(),
            "\"Atlantide\" is not a known country name or ISO 3166 code"
        );
    }
}
