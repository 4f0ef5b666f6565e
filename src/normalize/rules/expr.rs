//! The expressions of cross-field rules: comparisons of fields and constants joined with
//! `and`, `or`, `not` and parentheses.
//!
//! ```text
//! expr       := and ( ("or" | "||") and )*
//! and        := unary ( ("and" | "&&") unary )*
//! unary      := ("not" | "!") unary | "(" expr ")" | comparison
//! comparison := operand ("=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=") operand
//! operand    := Field_Name | number | 'text' | "text" | true | false
//! ```
//!
//! Numbers compare as numbers; text compares as text, which orders the ISO dates and date-times
//! Sluice writes chronologically; true and false only compare for equality.

use std::cmp::Ordering;

use serde_json::{Map, Value};

/// Longest expression read, and deepest nesting: a rule is one line a person writes.
const MAX_TOKENS: usize = 200;
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Number(f64),
    Text(String),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

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
pub enum Operand {
    Field(String),
    Number(f64),
    Text(String),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp(Operand, Op, Operand),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut toks = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if toks.len() > MAX_TOKENS {
            return Err(format!("longer than {MAX_TOKENS} tokens"));
        }
        let c = chars[i];
        let two: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let (tok, len) = match (c, two.as_str()) {
            (c, _) if c.is_whitespace() => {
                i += 1;
                continue;
            }
            (_, "<=") => (Tok::Op(Op::Le), 2),
            (_, ">=") => (Tok::Op(Op::Ge), 2),
            (_, "!=" | "<>") => (Tok::Op(Op::Ne), 2),
            (_, "==") => (Tok::Op(Op::Eq), 2),
            (_, "&&") => (Tok::And, 2),
            (_, "||") => (Tok::Or, 2),
            ('=', _) => (Tok::Op(Op::Eq), 1),
            ('<', _) => (Tok::Op(Op::Lt), 1),
            ('>', _) => (Tok::Op(Op::Gt), 1),
            ('!', _) => (Tok::Not, 1),
            ('(', _) => (Tok::Open, 1),
            (')', _) => (Tok::Close, 1),
            ('\'' | '"', _) => {
                let end = chars[i + 1..]
                    .iter()
                    .position(|q| *q == c)
                    .ok_or("a text constant has no closing quote")?;
                let inner: String = chars[i + 1..i + 1 + end].iter().collect();
                (Tok::Text(inner), end + 2)
            }
            (c, _) if c.is_ascii_digit() || c == '-' || c == '.' => {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|d| d.is_ascii_digit() || **d == '.')
                    .count()
                    + 1;
                let literal: String = chars[i..i + len].iter().collect();
                let n = literal
                    .parse::<f64>()
                    .map_err(|_| format!("\"{literal}\" is not a number"))?;
                (Tok::Number(n), len)
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|d| d.is_ascii_alphanumeric() || **d == '_')
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Ident(word),
                };
                (tok, len)
            }
            (c, _) => return Err(format!("unexpected '{c}'")),
        };
        toks.push(tok);
        i += len;
    }
    Ok(toks)
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let tok = self.toks.get(self.at).cloned();
        self.at += 1;
        tok
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, String> {
        if depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH}"));
        }
        let mut parts = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.at += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, String> {
        let mut parts = vec![self.unary(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.at += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, String> {
        match self.peek() {
            Some(Tok::Not) => {
                self.at += 1;
                Ok(Expr::Not(Box::new(self.unary(depth + 1)?)))
            }
            Some(Tok::Open) => {
                self.at += 1;
                let inner = self.expr(depth + 1)?;
                match self.next() {
                    Some(Tok::Close) => Ok(inner),
                    _ => Err("a \"(\" is not closed".into()),
                }
            }
            _ => {
                let left = self.operand()?;
                let Some(Tok::Op(op)) = self.next() else {
                    return Err("expected a comparison (=, !=, <, <=, >, >=)".into());
                };
                let right = self.operand()?;
                Ok(Expr::Cmp(left, op, right))
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, String> {
        match self.next() {
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("true") => Ok(Operand::Bool(true)),
            Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("false") => Ok(Operand::Bool(false)),
            Some(Tok::Ident(w)) => Ok(Operand::Field(w)),
            Some(Tok::Number(n)) => Ok(Operand::Number(n)),
            Some(Tok::Text(t)) => Ok(Operand::Text(t)),
            _ => Err("expected a field name, a number, 'text', true or false".into()),
        }
    }
}

/// Parses a rule's `check`.
pub fn parse(text: &str) -> Result<Expr, String> {
    let mut parser = Parser {
        toks: tokenize(text)?,
        at: 0,
    };
    if parser.toks.is_empty() {
        return Err("the check is empty".into());
    }
    let expr = parser.expr(0)?;
    if parser.at < parser.toks.len() {
        return Err("unexpected text after the end of the check".into());
    }
    Ok(expr)
}

impl Expr {
    /// The fields the expression reads, in order of appearance.
    pub fn fields(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Self::Cmp(l, _, r) => {
                for o in [l, r] {
                    if let Operand::Field(f) = o
                        && !out.contains(&f.as_str())
                    {
                        out.push(f);
                    }
                }
            }
            Self::Not(e) => e.collect(out),
            Self::And(es) | Self::Or(es) => es.iter().for_each(|e| e.collect(out)),
        }
    }

    /// Every comparison in the expression.
    pub fn comparisons(&self) -> Vec<(&Operand, &Operand)> {
        match self {
            Self::Cmp(l, _, r) => vec![(l, r)],
            Self::Not(e) => e.comparisons(),
            Self::And(es) | Self::Or(es) => es.iter().flat_map(Expr::comparisons).collect(),
        }
    }

    /// Whether the record satisfies the expression; every field it reads must be in `record`.
    pub fn holds(&self, record: &Map<String, Value>) -> Result<bool, String> {
        match self {
            Self::Cmp(l, op, r) => compare(&value(l, record)?, *op, &value(r, record)?),
            Self::Not(e) => Ok(!e.holds(record)?),
            Self::And(es) => {
                for e in es {
                    if !e.holds(record)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Self::Or(es) => {
                for e in es {
                    if e.holds(record)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }
}

fn value(o: &Operand, record: &Map<String, Value>) -> Result<Value, String> {
    Ok(match o {
        Operand::Field(f) => record
            .get(f)
            .cloned()
            .ok_or_else(|| format!("{f} has no value"))?,
        Operand::Number(n) => serde_json::Number::from_f64(*n).map_or(Value::Null, Value::Number),
        Operand::Text(t) => Value::String(t.clone()),
        Operand::Bool(b) => Value::Bool(*b),
    })
}

fn compare(l: &Value, op: Op, r: &Value) -> Result<bool, String> {
    let ordering = match (l, r) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            a.partial_cmp(&b).ok_or("a number is not comparable")?
        }
        (Value::String(a), Value::String(b)) => a.cmp(b),
        (Value::Bool(a), Value::Bool(b)) if matches!(op, Op::Eq | Op::Ne) => a.cmp(b),
        _ => {
            return Err(format!(
                "cannot compare {} with {}",
                super::super::transform::text::kind(l),
                super::super::transform::text::kind(r)
            ));
        }
    };
    Ok(match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn holds(check: &str, record: Value) -> Result<bool, String> {
        let Value::Object(record) = record else {
            unreachable!()
        };
        parse(check)?.holds(&record)
    }

    #[test]
    fn comparisons_of_fields_numbers_dates_and_text() {
        let invoice = json!({"Amount__c": 12.5, "Issue_Date__c": "2026-03-01", "Due_Date__c": "2026-02-28", "Status__c": "Paid"});
        assert_eq!(holds("Amount__c > 0", invoice.clone()), Ok(true));
        assert_eq!(
            holds("Due_Date__c >= Issue_Date__c", invoice.clone()),
            Ok(false)
        );
        assert_eq!(
            holds(
                "Due_Date__c >= Issue_Date__c or Status__c = 'Paid'",
                invoice.clone()
            ),
            Ok(true)
        );
        assert_eq!(
            holds(
                "not (Amount__c <= 12.5) && Status__c != \"Draft\"",
                invoice.clone()
            ),
            Ok(false)
        );
        assert_eq!(holds("Amount__c >= -1", invoice.clone()), Ok(true));
        assert_eq!(
            holds("Amount__c > 'x'", invoice),
            Err("cannot compare a number with text".into())
        );
    }

    #[test]
    fn bad_checks_say_what_is_wrong() {
        assert_eq!(parse("").unwrap_err(), "the check is empty");
        assert_eq!(
            parse("Amount__c").unwrap_err(),
            "expected a comparison (=, !=, <, <=, >, >=)"
        );
        assert_eq!(parse("(A > 1").unwrap_err(), "a \"(\" is not closed");
        assert_eq!(
            parse("A > 1 B").unwrap_err(),
            "unexpected text after the end of the check"
        );
        assert_eq!(parse("A ~ 1").unwrap_err(), "unexpected '~'");
        assert_eq!(
            parse(&format!("{}A > 1{}", "(".repeat(20), ")".repeat(20))).unwrap_err(),
            "nested deeper than 16"
        );
        assert_eq!(
            parse("A > 1 and B = 'x' or not C < 2").unwrap().fields(),
            ["A", "B", "C"]
        );
    }
}
