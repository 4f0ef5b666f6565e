//! Incoming record values, before they are checked against the schema.

use super::error::RecordError;

/// One incoming value, before it is checked against the field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Null,
    Text(String),
    Number(String),
    Bool(bool),
}

impl Input {
    /// The value as a key for matching (external ids); `None` when null or empty.
    pub fn as_key(&self) -> Option<String> {
        match self {
            Self::Text(s) | Self::Number(s) if !s.is_empty() => Some(s.clone()),
            Self::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// A named value as the client sent it; `col` is the 1-based CSV column (0 for JSON).
#[derive(Debug, Clone)]
pub struct Cell {
    pub name: String,
    pub input: Input,
    pub col: usize,
}

/// A parent reference by external id, e.g. `"Account": {"External_Id__c": "A-1"}` or the Bulk
/// column `Account.External_Id__c`.
#[derive(Debug, Clone)]
pub struct Reference {
    pub relationship: String,
    pub field: String,
    pub input: Input,
}

#[derive(Debug, Clone, Default)]
pub struct Incoming {
    pub cells: Vec<Cell>,
    pub refs: Vec<Reference>,
}

impl Incoming {
    pub fn get(&self, name: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// A value that can't be read as the field's type. JSON callers fail the whole request
/// (`JSON_PARSER_ERROR`), Bulk fails the row (`INVALID_FIELD: Failed to deserialize field`).
#[derive(Debug, Clone, PartialEq)]
pub struct TypeMismatch {
    pub field: &'static str,
    pub xsd: &'static str,
    pub value: String,
    pub col: usize,
}

impl TypeMismatch {
    pub fn json_message(&self) -> String {
        let ty = if self.xsd == "date" { "date" } else { "double" };
        format!(
            "Cannot deserialize instance of {ty} from VALUE_STRING value {} or request may be missing a required field",
            self.value
        )
    }

    pub fn bulk_error(&self) -> RecordError {
        RecordError::on(
            "INVALID_FIELD",
            format!(
                "Failed to deserialize field at col {}. Due to, '{}' is not a valid value for the type xsd:{}",
                self.col, self.value, self.xsd
            ),
            self.field,
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    Type(TypeMismatch),
    Record(RecordError),
}

impl From<RecordError> for Rejection {
    fn from(e: RecordError) -> Self {
        Self::Record(e)
    }
}
