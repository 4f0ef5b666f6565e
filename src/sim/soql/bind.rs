//! Checks a parsed query against the schema: the object, every field, and each literal's type.
//!
//! An unknown object is `INVALID_TYPE`, an unknown field `INVALID_FIELD`, a literal of the wrong
//! kind `INVALID_FIELD` ("… must be of type dateTime and should not be enclosed in quotes", [OBS]),
//! a malformed id `INVALID_QUERY_FILTER_OPERATOR` ("invalid ID field", [OBS]). The wording of the
//! type messages for currency and the operator errors is [UNVERIFIED].

use chrono::{DateTime, NaiveDate, Utc};

use super::error::SoqlError;
use super::parser::{Cond, Lit, LitValue, Name, Query};
use crate::sim::ids;
use crate::sim::schema::{self, Field, FieldType, Object};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Text(String),
    Id(String),
    Num(f64),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
}

#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Cmp {
        field: &'static Field,
        op: Op,
        value: Value,
    },
    In {
        field: &'static Field,
        negated: bool,
        values: Vec<Value>,
    },
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub field: &'static Field,
    pub desc: bool,
    pub nulls_last: bool,
}

/// A query checked against the schema, ready to run.
#[derive(Debug, Clone)]
pub struct Bound {
    pub object: &'static Object,
    pub fields: Vec<&'static Field>,
    pub filter: Option<Filter>,
    pub order: Vec<SortKey>,
    pub limit: Option<u64>,
}

pub fn bind(query: &str, parsed: Query) -> Result<Bound, SoqlError> {
    let object = schema::object(&parsed.object.text).ok_or_else(|| {
        SoqlError::at(
            "INVALID_TYPE",
            query,
            parsed.object.at,
            format!(
                "sObject type '{}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.",
                parsed.object.text
            ),
        )
    })?;
    let binder = Binder { query, object };
    let mut fields: Vec<&'static Field> = Vec::with_capacity(parsed.fields.len());
    for name in &parsed.fields {
        let field = binder.field(name)?;
        if fields.iter().any(|f| f.name == field.name) {
            // [UNVERIFIED] code; the wording is Salesforce's.
            return Err(SoqlError::malformed(
                query,
                name.at,
                format!("duplicate field selected: {}", field.name),
            ));
        }
        fields.push(field);
    }
    let filter = parsed.filter.map(|c| binder.condition(c)).transpose()?;
    let order = parsed
        .order
        .into_iter()
        .map(|o| {
            Ok(SortKey {
                field: binder.field(&o.field)?,
                desc: o.desc,
                nulls_last: o.nulls_last,
            })
        })
        .collect::<Result<_, SoqlError>>()?;
    Ok(Bound {
        object,
        fields,
        filter,
        order,
        limit: parsed.limit,
    })
}

struct Binder<'a> {
    query: &'a str,
    object: &'static Object,
}

impl Binder<'_> {
    fn field(&self, name: &Name) -> Result<&'static Field, SoqlError> {
        self.object.field(&name.text).ok_or_else(|| {
            SoqlError::at(
                "INVALID_FIELD",
                self.query,
                name.at,
                format!(
                    "No such column '{}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
                    name.text, self.object.name
                ),
            )
        })
    }

    fn condition(&self, cond: Cond) -> Result<Filter, SoqlError> {
        Ok(match cond {
            Cond::And(terms) => Filter::And(self.all(terms)?),
            Cond::Or(terms) => Filter::Or(self.all(terms)?),
            Cond::Cmp { field, op, value } => {
                let field = self.field(&field)?;
                let op = operator(op);
                let value = self.literal(field, value, op)?;
                Filter::Cmp { field, op, value }
            }
            Cond::In {
                field,
                negated,
                values,
            } => {
                let field = self.field(&field)?;
                let values = values
                    .into_iter()
                    .map(|v| self.literal(field, v, Op::Eq))
                    .collect::<Result<_, _>>()?;
                Filter::In {
                    field,
                    negated,
                    values,
                }
            }
        })
    }

    fn all(&self, terms: Vec<Cond>) -> Result<Vec<Filter>, SoqlError> {
        terms.into_iter().map(|t| self.condition(t)).collect()
    }

    fn literal(&self, field: &'static Field, lit: Lit, op: Op) -> Result<Value, SoqlError> {
        let ordering = !matches!(op, Op::Eq | Op::Ne);
        let bad_operator = |what: &str| {
            SoqlError::at(
                "INVALID_QUERY_FILTER_OPERATOR",
                self.query,
                lit.at,
                format!("invalid operator on {what} field: {}", field.name),
            )
        };
        let (expected, quoted) = match field.ty {
            FieldType::DateTime => ("dateTime", false),
            FieldType::Date => ("date", false),
            FieldType::Currency => ("double", false),
            FieldType::Boolean => ("boolean", false),
            FieldType::Id | FieldType::Reference => ("id", true),
            _ => ("string", true),
        };
        let mismatch = || {
            let quotes = if quoted {
                "should be enclosed in quotes"
            } else {
                "should not be enclosed in quotes"
            };
            SoqlError::at(
                "INVALID_FIELD",
                self.query,
                lit.at,
                format!(
                    "value of filter criterion for field '{}' must be of type {expected} and {quotes}",
                    field.name
                ),
            )
        };
        let value = match (field.ty, lit.value) {
            (_, LitValue::Null) if ordering => return Err(bad_operator("null")),
            (_, LitValue::Null) => Value::Null,
            (FieldType::Boolean, LitValue::Bool(_)) if ordering => {
                return Err(bad_operator("boolean"));
            }
            (FieldType::Boolean, LitValue::Bool(b)) => Value::Bool(b),
            (FieldType::DateTime, LitValue::DateTime(t)) => Value::DateTime(t),
            (FieldType::Date, LitValue::Date(d)) => Value::Date(d),
            (FieldType::Currency, LitValue::Num(n)) => Value::Num(n),
            (FieldType::Id | FieldType::Reference, LitValue::Str(s)) => {
                let id = ids::normalize(&s).ok_or_else(|| {
                    SoqlError::at(
                        "INVALID_QUERY_FILTER_OPERATOR",
                        self.query,
                        lit.at,
                        format!("invalid ID field: {s}"),
                    )
                })?;
                Value::Id(id)
            }
            (ty, LitValue::Str(s)) if quoted && ty != FieldType::Id => Value::Text(s),
            _ => return Err(mismatch()),
        };
        Ok(value)
    }
}

fn operator(op: &str) -> Op {
    match op {
        "!=" => Op::Ne,
        "<" => Op::Lt,
        "<=" => Op::Le,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        _ => Op::Eq,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse;
    use super::*;

    fn compile(q: &str) -> Result<Bound, SoqlError> {
        bind(q, parse(q)?)
    }

    #[test]
    fn unknown_objects_and_fields_use_salesforces_codes() {
        let e = compile("SELECT Id FROM Acount").expect_err("type");
        assert_eq!(e.code, "INVALID_TYPE");
        assert!(e.message.contains("sObject type 'Acount' is not supported"));
        let e = compile("SELECT Id, Nme FROM Account").expect_err("field");
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(
            e.message
                .contains("No such column 'Nme' on entity 'Account'")
        );
        assert!(
            e.message.contains("ERROR at Row:1:Column:12"),
            "{}",
            e.message
        );
        let e = compile("SELECT Id FROM Account ORDER BY Nope").expect_err("order");
        assert_eq!(e.code, "INVALID_FIELD");
    }

    #[test]
    fn literals_must_match_the_field_type() {
        let e = compile("SELECT Id FROM Account WHERE SystemModstamp > '2026-12-05T10:00:00Z'")
            .expect_err("quoted datetime");
        assert_eq!(e.code, "INVALID_FIELD");
        assert!(e.message.ends_with(
            "value of filter criterion for field 'SystemModstamp' must be of type dateTime and should not be enclosed in quotes"
        ));
        let e = compile("SELECT Id FROM Account WHERE Name = 5").expect_err("number on text");
        assert!(
            e.message
                .contains("must be of type string and should be enclosed in quotes")
        );
        let e = compile("SELECT Id FROM Account WHERE Id IN ('001', 'x')").expect_err("bad id");
        assert_eq!(e.code, "INVALID_QUERY_FILTER_OPERATOR");
        let e = compile("SELECT Id FROM Account WHERE IsDeleted > false").expect_err("bool op");
        assert_eq!(e.code, "INVALID_QUERY_FILTER_OPERATOR");
        compile("SELECT Id FROM Account WHERE IsDeleted = TRUE AND Name != null")
            .expect("booleans and null compare");
    }

    #[test]
    fn duplicate_fields_are_refused_and_names_resolve_case_insensitively() {
        let e = compile("SELECT Id, id FROM Account").expect_err("duplicate");
        assert!(e.message.ends_with("duplicate field selected: Id"));
        let b = compile("select name from account").expect("case-insensitive");
        assert_eq!(b.object.name, "Account");
        assert_eq!(b.fields[0].name, "Name");
    }
}
