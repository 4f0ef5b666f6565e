//! The SOQL subset incremental reads need, as a recursive-descent parser:
//!
//! ```text
//! SELECT field [, field]… FROM Object
//!   [WHERE condition] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] [, …]] [LIMIT n]
//! condition := term [AND term]… | term [OR term]…
//! term      := ( condition ) | field op value | field [NOT] IN ( value [, value]… )
//! ```
//!
//! AND and OR can't be mixed without parentheses: "Parentheses are required whenever you mix the
//! operators" (<https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-logicaloperators.html>);
//! Salesforce answers `unexpected token: OR` ([OBS]). Valid SOQL outside the subset (functions,
//! relationships, sub-queries, NOT, LIKE, date literals, GROUP BY, OFFSET…) is refused with
//! `MALFORMED_QUERY` and a note that it is the simulator's limit.

use chrono::{DateTime, NaiveDate, Utc};

use super::error::SoqlError;
use super::lexer::{Tok, Token, tokenize};

#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LitValue {
    Null,
    Bool(bool),
    Str(String),
    Num(f64),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lit {
    pub value: LitValue,
    pub at: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Cmp {
        field: Name,
        op: &'static str,
        value: Lit,
    },
    In {
        field: Name,
        negated: bool,
        values: Vec<Lit>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub field: Name,
    pub desc: bool,
    pub nulls_last: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub fields: Vec<Name>,
    pub object: Name,
    pub filter: Option<Cond>,
    pub order: Vec<Order>,
    pub limit: Option<u64>,
}

/// Words that can't name a field or object.
const RESERVED: &[&str] = &[
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "GROUP", "HAVING", "FOR", "WITH", "USING",
    "TYPEOF", "INCLUDES", "EXCLUDES", "TRUE", "FALSE", "NULL",
];

/// Valid SOQL clauses the subset leaves out.
const UNSUPPORTED_CLAUSES: &[&str] = &["GROUP", "HAVING", "OFFSET", "FOR", "WITH", "USING"];

pub fn parse(query: &str) -> Result<Query, SoqlError> {
    let tokens = tokenize(query)?;
    let mut parser = Parser {
        query,
        tokens,
        pos: 0,
    };
    parser.query()
}

struct Parser<'a> {
    query: &'a str,
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[self.pos.min(last)]
    }

    fn peek_at(&self, ahead: usize) -> Option<&Token> {
        self.tokens.get(self.pos + ahead)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        self.pos += 1;
        token
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(&self.peek().tok, Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    fn unexpected(&self) -> SoqlError {
        let t = self.peek();
        SoqlError::unexpected(self.query, t.at, &t.text)
    }

    fn unsupported(&self) -> SoqlError {
        let t = self.peek();
        SoqlError::unsupported(self.query, t.at, &t.text)
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SoqlError> {
        if self.is_kw(kw) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn query(&mut self) -> Result<Query, SoqlError> {
        self.expect_kw("SELECT")?;
        let mut fields = vec![self.field()?];
        while self.peek().tok == Tok::Comma {
            self.pos += 1;
            fields.push(self.field()?);
        }
        self.expect_kw("FROM")?;
        let object = self.name()?;
        if matches!(self.peek().tok, Tok::Other(_) | Tok::Comma) {
            return Err(self.unsupported());
        }
        let filter = if self.is_kw("WHERE") {
            self.pos += 1;
            Some(self.condition()?)
        } else {
            None
        };
        let order = if self.is_kw("ORDER") {
            self.pos += 1;
            self.expect_kw("BY")?;
            self.order_list()?
        } else {
            Vec::new()
        };
        let limit = if self.is_kw("LIMIT") {
            self.pos += 1;
            Some(self.limit()?)
        } else {
            None
        };
        if UNSUPPORTED_CLAUSES.iter().any(|kw| self.is_kw(kw)) {
            return Err(self.unsupported());
        }
        if self.peek().tok != Tok::Eof {
            return Err(self.unexpected());
        }
        Ok(Query {
            fields,
            object,
            filter,
            order,
            limit,
        })
    }

    /// An identifier that isn't a reserved word.
    fn name(&mut self) -> Result<Name, SoqlError> {
        match &self.peek().tok {
            Tok::Ident(w) if !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(w)) => {
                let t = self.bump();
                Ok(Name {
                    text: t.text,
                    at: t.at,
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A plain field: functions, relationship paths, sub-queries and TYPEOF are outside the subset.
    fn field(&mut self) -> Result<Name, SoqlError> {
        if self.peek().tok == Tok::LParen || self.is_kw("TYPEOF") {
            return Err(self.unsupported());
        }
        let after = self.peek_at(1).map(|t| &t.tok);
        if matches!(self.peek().tok, Tok::Ident(_))
            && matches!(after, Some(Tok::LParen | Tok::Other('.')))
        {
            return Err(self.unsupported());
        }
        self.name()
    }

    fn condition(&mut self) -> Result<Cond, SoqlError> {
        let mut terms = vec![self.term()?];
        let mut joiner: Option<&'static str> = None;
        loop {
            let word = if self.is_kw("AND") {
                "AND"
            } else if self.is_kw("OR") {
                "OR"
            } else {
                break;
            };
            if joiner.is_some_and(|j| j != word) {
                return Err(self.unexpected());
            }
            joiner = Some(word);
            self.pos += 1;
            terms.push(self.term()?);
        }
        Ok(match joiner {
            None => terms.remove(0),
            Some("AND") => Cond::And(terms),
            Some(_) => Cond::Or(terms),
        })
    }

    fn term(&mut self) -> Result<Cond, SoqlError> {
        if self.peek().tok == Tok::LParen {
            self.pos += 1;
            let inner = self.condition()?;
            if self.peek().tok != Tok::RParen {
                return Err(self.unexpected());
            }
            self.pos += 1;
            return Ok(inner);
        }
        if self.is_kw("NOT") {
            return Err(self.unsupported());
        }
        let field = self.field()?;
        if let Tok::Op(op) = self.peek().tok {
            self.pos += 1;
            let value = self.value()?;
            return Ok(Cond::Cmp { field, op, value });
        }
        let negated = self.is_kw("NOT");
        if negated {
            self.pos += 1;
        }
        if self.is_kw("IN") {
            self.pos += 1;
            let values = self.list()?;
            return Ok(Cond::In {
                field,
                negated,
                values,
            });
        }
        if ["LIKE", "INCLUDES", "EXCLUDES"]
            .iter()
            .any(|kw| self.is_kw(kw))
        {
            return Err(self.unsupported());
        }
        Err(self.unexpected())
    }

    fn value(&mut self) -> Result<Lit, SoqlError> {
        let at = self.peek().at;
        let value = match &self.peek().tok {
            Tok::Str(s) => LitValue::Str(s.clone()),
            Tok::Num(n) => LitValue::Num(*n),
            Tok::DateTime(t) => LitValue::DateTime(*t),
            Tok::Date(d) => LitValue::Date(*d),
            Tok::Ident(w) if w.eq_ignore_ascii_case("TRUE") => LitValue::Bool(true),
            Tok::Ident(w) if w.eq_ignore_ascii_case("FALSE") => LitValue::Bool(false),
            Tok::Ident(w) if w.eq_ignore_ascii_case("NULL") => LitValue::Null,
            // Date literals (TODAY, LAST_N_DAYS:n…) and bind variables (:x) are valid SOQL.
            Tok::Ident(w) if w.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => {
                return Err(self.unsupported());
            }
            Tok::Other(':') => return Err(self.unsupported()),
            _ => return Err(self.unexpected()),
        };
        self.pos += 1;
        Ok(Lit { value, at })
    }

    fn list(&mut self) -> Result<Vec<Lit>, SoqlError> {
        if self.peek().tok != Tok::LParen {
            return Err(self.unexpected());
        }
        self.pos += 1;
        if self.is_kw("SELECT") {
            return Err(self.unsupported());
        }
        let mut values = vec![self.value()?];
        while self.peek().tok == Tok::Comma {
            self.pos += 1;
            values.push(self.value()?);
        }
        if self.peek().tok != Tok::RParen {
            return Err(self.unexpected());
        }
        self.pos += 1;
        Ok(values)
    }

    fn order_list(&mut self) -> Result<Vec<Order>, SoqlError> {
        let mut order = Vec::new();
        loop {
            let field = self.field()?;
            let desc = if self.is_kw("DESC") {
                self.pos += 1;
                true
            } else {
                if self.is_kw("ASC") {
                    self.pos += 1;
                }
                false
            };
            // SOQL sorts nulls first unless told otherwise.
            let mut nulls_last = false;
            if self.is_kw("NULLS") {
                self.pos += 1;
                nulls_last = if self.is_kw("LAST") {
                    true
                } else if self.is_kw("FIRST") {
                    false
                } else {
                    return Err(self.unexpected());
                };
                self.pos += 1;
            }
            order.push(Order {
                field,
                desc,
                nulls_last,
            });
            if self.peek().tok != Tok::Comma {
                return Ok(order);
            }
            self.pos += 1;
        }
    }

    fn limit(&mut self) -> Result<u64, SoqlError> {
        match self.peek().tok {
            Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 && !self.peek().text.contains('.') => {
                self.pos += 1;
                Ok(n as u64)
            }
            _ => Err(self.unexpected()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> SoqlError {
        parse(q).expect_err(q)
    }

    #[test]
    fn the_incremental_read_shape_parses() {
        let q = parse(
            "SELECT Id, Name, SystemModstamp FROM Account \
             WHERE SystemModstamp > 2026-12-05T10:00:00Z AND (IsDeleted = false OR Id IN ('001')) \
             ORDER BY SystemModstamp ASC, Id DESC NULLS LAST LIMIT 2000",
        )
        .expect("parses");
        assert_eq!(q.fields.len(), 3);
        assert_eq!(q.object.text, "Account");
        assert!(matches!(&q.filter, Some(Cond::And(terms)) if terms.len() == 2));
        assert_eq!(q.order.len(), 2);
        assert!(q.order[1].desc && q.order[1].nulls_last);
        assert_eq!(q.limit, Some(2000));
    }

    #[test]
    fn mixing_and_with_or_needs_parentheses() {
        let e = err("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'");
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert!(
            e.message.ends_with("unexpected token: 'OR'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_queries_name_the_token() {
        for (q, token) in [
            ("SELECT FROM Account", "FROM"),
            ("SELECT Id Account", "Account"),
            ("SELECT Id FROM Account WHERE", "<EOF>"),
            ("SELECT Id FROM Account LIMIT -1", "-1"),
            ("SELECT Id FROM Account WHERE (Name = 'a'", "<EOF>"),
            ("SELECT Id, FROM Account", "FROM"),
        ] {
            let e = err(q);
            assert!(
                e.message.ends_with(&format!("unexpected token: '{token}'")),
                "{q}: {}",
                e.message
            );
        }
    }

    #[test]
    fn valid_soql_outside_the_subset_says_so() {
        for q in [
            "SELECT COUNT() FROM Account",
            "SELECT Account.Name FROM Contact",
            "SELECT Id, (SELECT Id FROM Contacts) FROM Account",
            "SELECT Id FROM Account WHERE NOT Name = 'a'",
            "SELECT Id FROM Account WHERE Name LIKE 'a%'",
            "SELECT Id FROM Account WHERE CreatedDate = TODAY",
            "SELECT Id FROM Account OFFSET 5",
            "SELECT Id FROM Account GROUP BY Id",
            "SELECT Id FROM Account FOR UPDATE",
        ] {
            let e = err(q);
            assert_eq!(e.code, "MALFORMED_QUERY");
            assert!(
                e.message.contains("outside the simulator's SOQL subset"),
                "{q}"
            );
        }
    }
}
