//! Error types: loading a mapping ([`MappingError`]), checking it against describe
//! ([`MappingProblem`]) and applying one transform to one value ([`TransformError`]).

use std::fmt;
use std::path::PathBuf;

/// Where in the mapping files a problem is, as precisely as known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub source: Option<String>,
    pub object: Option<String>,
    pub field: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(s) = &self.source {
            write!(f, ", source \"{s}\"")?;
        }
        if let Some(o) = &self.object {
            write!(f, ", object \"{o}\"")?;
        }
        if let Some(x) = &self.field {
            write!(f, ", field \"{x}\"")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("cannot read mapping {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: not valid TOML: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{at}: {problem}")]
    Spec {
        at: Box<Location>,
        problem: SpecProblem,
    },
    #[error("source \"{source_name}\", object \"{object}\" is mapped twice ({first} and {second})")]
    Duplicate {
        source_name: String,
        object: String,
        first: String,
        second: String,
    },
    #[error("references form a cycle, so no push order exists: {}", objects.join(" -> "))]
    Cycle { objects: Vec<String> },
}

/// What is wrong with one part of a mapping file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecProblem {
    #[error("missing key \"{0}\"")]
    MissingKey(&'static str),
    #[error("key \"{key}\" must be {expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("unknown key \"{0}\"")]
    UnknownKey(String),
    #[error("unknown transform \"{0}\"")]
    UnknownTransform(String),
    #[error("transform \"{rule}\": {problem}")]
    BadTransform { rule: String, problem: String },
    #[error("needs \"from\" (incoming field names) or \"value\" (a constant)")]
    NoInput,
    #[error("several \"from\" fields need a \"concat\" transform first")]
    InputsNeedConcat,
    #[error("\"concat\" needs several \"from\" fields and must come first")]
    MisplacedConcat,
    #[error("external id field \"{0}\" has no entry under fields")]
    ExternalIdNotMapped(String),
    #[error("no objects")]
    NoObjects,
    #[error("rule \"{name}\": {problem}")]
    BadRule { name: String, problem: String },
    #[error("path {0}")]
    BadPath(String),
}

/// One disagreement between a mapping and the org's describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source \"{source_name}\", object \"{object}\"{}: {kind}", field.as_ref().map(|f| format!(", field \"{f}\"")).unwrap_or_default())]
pub struct MappingProblem {
    pub source_name: String,
    pub object: String,
    /// The Salesforce field (or relationship) concerned, if any.
    pub field: Option<String>,
    pub kind: ProblemKind,
    /// The object whose describe shows the problem: `object`, or the parent of a reference. Its
    /// describe is the one to read again once the org may have been fixed.
    pub seen_in: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemKind {
    #[error("the org has no such object")]
    UnknownObject,
    #[error("the object has no such field")]
    UnknownField,
    #[error("the field is not {0}")]
    NotWritable(&'static str),
    #[error("the field is neither an external id nor an idLookup field")]
    NotExternalId,
    #[error("no lookup field has this relationship name")]
    UnknownRelationship,
    #[error("the relationship points at {actual}, not {expected}")]
    WrongParent { expected: String, actual: String },
    #[error("{0}")]
    RuleTypes(String),
    #[error("picklist value \"{value}\" is not active; active values: {allowed}")]
    InactivePicklistValue {
        value: String,
        allowed: String,
        /// What makes the mapping send this value, for the admin who adds it.
        from: Vec<ValueOrigin>,
    },
}

/// Why a mapping can send a constant value: the words a value map turns into it, its fallback,
/// a default, or a constant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ValueOrigin {
    /// A value map's key, as the mapping file spells it.
    Word(String),
    /// A value map's fallback: any word the map does not list.
    Fallback,
    /// A `default`, sent when the incoming value is empty.
    Default,
    /// A `value = ...` constant, sent on every record.
    Constant,
}

impl fmt::Display for ValueOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Word(w) => write!(f, "\"{w}\""),
            Self::Fallback => f.write_str("any other word"),
            Self::Default => f.write_str("the default"),
            Self::Constant => f.write_str("a constant"),
        }
    }
}

/// Why one transform refused one value. The rule name is carried beside it, in [`super::FieldIssue`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error("expected a single value, got {0}")]
    NotScalar(&'static str),
    #[error("expected text, got {0}")]
    NotText(&'static str),
    #[error("\"{value}\" is not an e-mail address Salesforce accepts: {problem}")]
    Email { value: String, problem: String },
    #[error("\"{value}\" is not a phone number: {reason}")]
    PhoneUnparsable { value: String, reason: String },
    #[error(
        "\"{value}\" has letters ({letters}): a phone number is written in digits (set vanity = true to read keypad letters)"
    )]
    PhoneLetters { value: String, letters: String },
    #[error("\"{value}\" is not a valid {country} or international (+…) phone number")]
    PhoneInvalid { value: String, country: String },
    #[error("\"{value}\" does not match {formats}")]
    DateFormat { value: String, formats: String },
    #[error("\"{value}\": \"{word}\" is not a month name in {locale}")]
    MonthName {
        value: String,
        word: String,
        locale: &'static str,
    },
    #[error("\"{0}\" is not a real calendar date")]
    ImpossibleDate(String),
    #[error("\"{value}\" does not exist in {zone} (clocks skip it)")]
    LocalTimeGap { value: String, zone: String },
    #[error("\"{value}\" is not a {locale} decimal: {problem}")]
    Decimal {
        value: String,
        locale: &'static str,
        problem: &'static str,
    },
    #[error("\"{value}\" is not an amount: {problem}")]
    Amount {
        value: String,
        problem: &'static str,
    },
    #[error("\"{value}\": {code} is not an ISO 4217 currency code")]
    UnknownCurrency { value: String, code: String },
    #[error("\"{value}\" is in {mark}, but this field takes {expected}")]
    WrongCurrency {
        value: String,
        mark: String,
        expected: &'static str,
    },
    #[error(
        "\"{0}\" has more than 15 significant digits, which a JSON number cannot carry exactly"
    )]
    TooManyDigits(String),
    #[error("\"{0}\" is not a known country name or ISO 3166 code")]
    Country(String),
    #[error("\"{value}\" is not one of: {allowed}")]
    NotInMap { value: String, allowed: String },
    #[error("\"{value}\" is not an integer: {problem}")]
    Integer {
        value: String,
        problem: &'static str,
    },
    #[error("\"{0}\" is not a yes/no value (yes, no, oui, non, true, false, 1, 0, …)")]
    Boolean(String),
}
