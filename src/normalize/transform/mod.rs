//! The transforms a mapping can chain on a field, each a small function in its own file, and
//! their parsing from TOML (`"trim"` or `{ rule = "date", format = "dd/mm/yyyy" }`).

mod countries;
pub mod country;
pub mod dates;
pub mod decimal;
pub mod phone;
pub mod text;
pub mod values;

use chrono_tz::Tz;
use serde_json::Value;
use toml::Table;

use self::dates::DateFormat;
use self::decimal::Locale;
use self::values::{Take, ValueMap};
use super::error::{SpecProblem, TransformError};

/// File-wide settings transforms fall back on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub country: Option<phonenumber::country::Id>,
    pub timezone: Option<Tz>,
}

#[derive(Debug, Clone)]
pub(crate) enum Transform {
    Trim,
    Upper,
    Lower,
    Title,
    Email,
    Phone(phonenumber::country::Id),
    Date(Vec<DateFormat>),
    DateTime(Vec<DateFormat>, Tz),
    Decimal(Locale, Option<u32>),
    Country,
    Map(ValueMap),
    Default(Value),
    Concat(String),
    Split(String, Take),
    Integer,
    Boolean,
}

impl Transform {
    /// The rule name, as written in mapping files and reported in `FieldIssue::rule`.
    pub fn rule(&self) -> &'static str {
        match self {
            Self::Trim => "trim",
            Self::Upper => "upper",
            Self::Lower => "lower",
            Self::Title => "title",
            Self::Email => "email",
            Self::Phone(_) => "phone",
            Self::Date(_) => "date",
            Self::DateTime(..) => "datetime",
            Self::Decimal(..) => "decimal",
            Self::Country => "country",
            Self::Map(_) => "map",
            Self::Default(_) => "default",
            Self::Concat(_) => "concat",
            Self::Split(..) => "split",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }

    /// Applies the rule to a present, non-blank value. `default` and `concat` act on absent or
    /// several values and are run by the pipeline in `mapping.rs`; here they pass through.
    pub fn apply(&self, v: Value) -> Result<Option<Value>, TransformError> {
        let one = match self {
            Self::Trim => text::trim(v),
            Self::Upper => text::upper(v),
            Self::Lower => text::lower(v),
            Self::Title => text::title(v),
            Self::Email => text::email(v),
            Self::Phone(region) => phone::phone(v, *region),
            Self::Date(formats) => dates::date(v, formats),
            Self::DateTime(formats, zone) => dates::datetime(v, formats, *zone),
            Self::Decimal(locale, scale) => decimal::decimal(v, *locale, *scale),
            Self::Country => country::country(v),
            Self::Map(map) => map.apply(v),
            Self::Integer => values::integer(v),
            Self::Boolean => values::boolean(v),
            Self::Split(separator, take) => return values::split(v, separator, take),
            Self::Default(_) | Self::Concat(_) => Ok(v),
        };
        one.map(Some)
    }

    /// Reads one step: a bare name, or a table whose `rule` names it and whose other keys are
    /// its parameters. Every key must be known, so a typo fails at load time, not on a record.
    pub fn parse(step: &toml::Value, defaults: &Defaults) -> Result<Self, SpecProblem> {
        let empty = Table::new();
        let (name, params) = match step {
            toml::Value::String(name) => (name.as_str(), &empty),
            toml::Value::Table(t) => match t.get("rule") {
                Some(toml::Value::String(name)) => (name.as_str(), t),
                Some(_) => return Err(wrong_type("rule", "a transform name")),
                None => return Err(SpecProblem::MissingKey("rule")),
            },
            _ => {
                return Err(wrong_type(
                    "transforms",
                    "a list of names or { rule = … } tables",
                ));
            }
        };
        let p = Params {
            rule: name,
            table: params,
        };
        let t = match name {
            "trim" => Self::Trim,
            "upper" => Self::Upper,
            "lower" => Self::Lower,
            "title" => Self::Title,
            "email" => Self::Email,
            "country" => Self::Country,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "phone" => Self::Phone(p.region(defaults)?),
            "date" => Self::Date(p.formats()?),
            "datetime" => Self::DateTime(p.formats()?, p.timezone(defaults)?),
            "decimal" => Self::Decimal(p.locale()?, p.scale()?),
            "map" => Self::Map(p.value_map()?),
            "default" => Self::Default(to_json(p.required("value")?)),
            "concat" => Self::Concat(p.string("separator")?.unwrap_or(" ").to_owned()),
            "split" => Self::Split(p.string("separator")?.unwrap_or(" ").to_owned(), p.take()?),
            other => return Err(SpecProblem::UnknownTransform(other.to_owned())),
        };
        p.check_keys(t.keys())?;
        Ok(t)
    }

    fn keys(&self) -> &'static [&'static str] {
        match self {
            Self::Phone(_) => &["country"],
            Self::Date(_) => &["format"],
            Self::DateTime(..) => &["format", "timezone"],
            Self::Decimal(..) => &["locale", "scale"],
            Self::Map(_) => &["values", "fallback"],
            Self::Default(_) => &["value"],
            Self::Concat(_) => &["separator"],
            Self::Split(..) => &["separator", "take"],
            _ => &[],
        }
    }
}

pub(crate) fn wrong_type(key: &str, expected: &'static str) -> SpecProblem {
    SpecProblem::WrongType {
        key: key.to_owned(),
        expected,
    }
}

/// TOML values as JSON; dates are written as TOML writes them.
pub(crate) fn to_json(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

struct Params<'a> {
    rule: &'a str,
    table: &'a Table,
}

impl Params<'_> {
    fn bad(&self, problem: String) -> SpecProblem {
        SpecProblem::BadTransform {
            rule: self.rule.to_owned(),
            problem,
        }
    }

    fn required(&self, key: &'static str) -> Result<&toml::Value, SpecProblem> {
        self.table
            .get(key)
            .ok_or_else(|| self.bad(format!("missing key \"{key}\"")))
    }

    fn string(&self, key: &'static str) -> Result<Option<&str>, SpecProblem> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.bad(format!("\"{key}\" must be text"))),
        }
    }

    fn check_keys(&self, allowed: &[&str]) -> Result<(), SpecProblem> {
        match self
            .table
            .keys()
            .find(|k| *k != "rule" && !allowed.contains(&k.as_str()))
        {
            Some(k) => Err(self.bad(format!("unknown key \"{k}\""))),
            None => Ok(()),
        }
    }

    fn region(&self, defaults: &Defaults) -> Result<phonenumber::country::Id, SpecProblem> {
        match self.string("country")? {
            Some(code) => {
                phone::region(code).ok_or_else(|| self.bad(format!("unknown country \"{code}\"")))
            }
            None => defaults.country.ok_or_else(|| {
                self.bad("needs a country, on the transform or at the top of the file".into())
            }),
        }
    }

    fn timezone(&self, defaults: &Defaults) -> Result<Tz, SpecProblem> {
        match self.string("timezone")? {
            Some(name) => name
                .parse()
                .map_err(|_| self.bad(format!("unknown IANA time zone \"{name}\""))),
            None => defaults.timezone.ok_or_else(|| {
                self.bad("needs a timezone, on the transform or at the top of the file".into())
            }),
        }
    }

    fn formats(&self) -> Result<Vec<DateFormat>, SpecProblem> {
        let names: Vec<&str> = match self.required("format")? {
            toml::Value::String(s) => vec![s.as_str()],
            toml::Value::Array(a) => a.iter().filter_map(toml::Value::as_str).collect(),
            _ => vec![],
        };
        if names.is_empty() {
            return Err(self.bad("\"format\" must be a format or a list of formats".into()));
        }
        names
            .into_iter()
            .map(|n| DateFormat::parse(n).map_err(|e| self.bad(e)))
            .collect()
    }

    fn locale(&self) -> Result<Locale, SpecProblem> {
        let name = self
            .string("locale")?
            .ok_or_else(|| self.bad("missing key \"locale\"".into()))?;
        Locale::parse(name)
            .ok_or_else(|| self.bad(format!("unknown locale \"{name}\" (fr, en or de)")))
    }

    fn scale(&self) -> Result<Option<u32>, SpecProblem> {
        match self.table.get("scale") {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if (0..=18).contains(n) => Ok(u32::try_from(*n).ok()),
            Some(_) => Err(self.bad("\"scale\" must be an integer from 0 to 18".into())),
        }
    }

    fn value_map(&self) -> Result<ValueMap, SpecProblem> {
        let toml::Value::Table(values) = self.required("values")? else {
            return Err(
                self.bad("\"values\" must be a table of incoming value = Salesforce value".into())
            );
        };
        let entries = values.iter().map(|(k, v)| (k.clone(), to_json(v)));
        Ok(ValueMap::new(
            entries,
            self.table.get("fallback").map(to_json),
        ))
    }

    fn take(&self) -> Result<Take, SpecProblem> {
        let take = match self.required("take")? {
            toml::Value::String(s) => Take::parse(s),
            toml::Value::Integer(i) => usize::try_from(*i).ok().map(Take::Index),
            _ => None,
        };
        take.ok_or_else(|| {
            self.bad("\"take\" must be first, last, rest, all_but_last or a 0-based index".into())
        })
    }
}
