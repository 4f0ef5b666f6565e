//! The keys of a staged record: its object's API name and its external id. Both are parsed once,
//! where they enter the hub, and are bound to SQL as they are.

use std::fmt;

use serde::Serialize;

/// The longest object API name Salesforce allows.
const MAX_API_NAME_LEN: usize = 80;
/// External ids are indexed keys; Salesforce's own text external ids are at most 255 characters.
pub const MAX_EXTERNAL_ID_LEN: usize = 255;

/// A Salesforce object's API name, e.g. `Account` or `Invoice__c`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct ObjectName(String);

/// A record's key in the hub: the value of its object's external id field.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct ExternalId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    #[error(
        "{0:?} is not a Salesforce API name (letters, digits and underscores, starting with a letter)"
    )]
    ApiName(String),
    #[error("the external id is blank")]
    Blank,
    #[error("longer than {MAX_EXTERNAL_ID_LEN} characters")]
    TooLong,
    /// CR, LF, NUL and the like: they would split or hide the key in CSV, logs and SOQL.
    #[error("holds the control character U+{0:04X}")]
    ControlCharacter(u32),
}

/// Letters, digits and underscores, starting with a letter: object and field API names.
pub fn is_api_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= MAX_API_NAME_LEN
}

impl ObjectName {
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        match is_api_name(raw) {
            true => Ok(Self(raw.to_owned())),
            false => Err(InvalidKey::ApiName(raw.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ExternalId {
    /// Takes the value as normalized (no trimming here): blank, too long or holding a control
    /// character is refused.
    pub fn parse(raw: &str) -> Result<Self, InvalidKey> {
        if raw.trim().is_empty() {
            return Err(InvalidKey::Blank);
        }
        if let Some(c) = raw.chars().find(|c| c.is_control()) {
            return Err(InvalidKey::ControlCharacter(c.into()));
        }
        // A character is at least a byte: only a longer key needs counting.
        if raw.len() > MAX_EXTERNAL_ID_LEN && raw.chars().count() > MAX_EXTERNAL_ID_LEN {
            return Err(InvalidKey::TooLong);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_key {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(key: $name) -> String {
                key.0
            }
        }
    };
}

string_key!(ObjectName);
string_key!(ExternalId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_api_names() {
        assert!(ObjectName::parse("Invoice__c").is_ok());
        assert!(is_api_name("External_Id__c"));
        for bad in ["1abc", "a-b", "", "Con tact", &"A".repeat(81)] {
            assert!(ObjectName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn external_ids_are_never_blank_nor_longer_than_255() {
        assert_eq!(ExternalId::parse("C-1").unwrap().as_str(), "C-1");
        assert_eq!(ExternalId::parse(" \t"), Err(InvalidKey::Blank));
        assert_eq!(
            ExternalId::parse(&"é".repeat(256)),
            Err(InvalidKey::TooLong)
        );
        assert!(ExternalId::parse(&"é".repeat(255)).is_ok());
        for bad in ["C-1\r\n", "C\u{0}1", "C\t1", "C\u{85}1"] {
            assert!(
                matches!(ExternalId::parse(bad), Err(InvalidKey::ControlCharacter(_))),
                "{bad:?}"
            );
        }
    }
}
