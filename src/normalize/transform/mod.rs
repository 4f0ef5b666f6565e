//! The transforms a mapping can chain on a field, each a small function in its own file, and
//! their parsing from TOML (`"trim"` or `{ rule = "date", format = "dd/mm/yyyy" }`).

pub mod amount;
mod countries;
pub mod country;
mod date_format;
pub mod dates;
pub mod decimal;
pub mod email;
pub mod locale;
mod months;
pub mod phone;
pub mod text;
pub mod values;

use chrono_tz::Tz;
use iso_currency::Currency;
use serde_json::Value;
use toml::Table;

use self::date_format::DEFAULT_PIVOT;
use self::dates::DateFormat;
use self::locale::Locale;
use self::values::{Take, ValueMap};
use super::error::{SpecProblem, TransformError};

/// File-wide settings transforms fall back on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Defaults {
    pub country: Option<phonenumber::country::Id>,
    pub timezone: Option<Tz>,
    pub locale: Option<Locale>,
    /// The org has Email Address Internationalization on.
    pub internationalized_email: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Transform {
    Trim,
    Upper,
    Lower,
    Title,
    /// `true`: the org takes internationalized addresses.
    Email(bool),
    /// The region of national numbers; `true` reads keypad letters.
    Phone(phonenumber::country::Id, bool),
    Date(Vec<DateFormat>),
    DateTime(Vec<DateFormat>, Tz),
    Decimal(Locale, Option<u32>, Option<Currency>),
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
            Self::Email(_) => "email",
            Self::Phone(..) => "phone",
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
            Self::Email(international) => email::email(v, *international),
            Self::Phone(region, vanity) => phone::phone(v, *region, *vanity),
            Self::Date(formats) => dates::date(v, formats),
            Self::DateTime(formats, zone) => dates::datetime(v, formats, *zone),
            Self::Decimal(locale, scale, currency) => {
                decimal::decimal(v, *locale, *scale, *currency)
            }
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
            "email" => Self::Email(defaults.internationalized_email),
            "country" => Self::Country,
            "integer" => Self::Integer,
            "boolean" => Self::Boolean,
            "phone" => Self::Phone(p.region(defaults)?, p.flag("vanity")?),
            "date" => Self::Date(p.formats(defaults)?),
            "datetime" => Self::DateTime(p.formats(defaults)?, p.timezone(defaults)?),
            "decimal" => Self::Decimal(p.locale(defaults)?, p.scale()?, p.currency()?),
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
            Self::Phone(..) => &["country", "vanity"],
            Self::Date(_) => &["format", "locale", "pivot"],
            Self::DateTime(..) => &["format", "timezone", "locale", "pivot"],
            Self::Decimal(..) => &["locale", "scale", "currency"],
            Self::Map(_) => &["values", "fallback", "exact"],
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

    fn flag(&self, key: &'static str) -> Result<bool, SpecProblem> {
        match self.table.get(key) {
            None => Ok(false),
            Some(toml::Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.bad(format!("\"{key}\" must be true or false"))),
        }
    }

    /// The transform's `locale`, else the file's.
    fn optional_locale(&self, defaults: &Defaults) -> Result<Option<Locale>, SpecProblem> {
        match self.string("locale")? {
            Some(name) => Locale::parse(name)
                .map(Some)
                .ok_or_else(|| self.bad(format!("unknown locale \"{name}\" ({})", Locale::NAMES))),
            None => Ok(defaults.locale),
        }
    }

    fn locale(&self, defaults: &Defaults) -> Result<Locale, SpecProblem> {
        self.optional_locale(defaults)?.ok_or_else(|| {
            self.bad("needs a locale, on the transform or at the top of the file".into())
        })
    }

    fn pivot(&self) -> Result<u32, SpecProblem> {
        match self.table.get("pivot") {
            None => Ok(DEFAULT_PIVOT),
            Some(toml::Value::Integer(n)) if (0..=100).contains(n) => {
                Ok(u32::try_from(*n).unwrap_or(DEFAULT_PIVOT))
            }
            Some(_) => Err(self.bad(
                "\"pivot\" must be an integer from 0 to 100 (two-digit years below it are 20xx)"
                    .into(),
            )),
        }
    }

    fn currency(&self) -> Result<Option<Currency>, SpecProblem> {
        match self.string("currency")? {
            None => Ok(None),
            Some(code) => Currency::from_code(code)
                .map(Some)
                .ok_or_else(|| self.bad(format!("\"{code}\" is not an ISO 4217 currency code"))),
        }
    }

    fn formats(&self, defaults: &Defaults) -> Result<Vec<DateFormat>, SpecProblem> {
        let locale = self.optional_locale(defaults)?;
        let pivot = self.pivot()?;
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
            .map(|n| DateFormat::parse(n, locale, pivot).map_err(|e| self.bad(e)))
            .collect()
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
        ValueMap::new(
            entries,
            self.table.get("fallback").map(to_json),
            self.flag("exact")?,
        )
        .map_err(|e| self.bad(e))
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
