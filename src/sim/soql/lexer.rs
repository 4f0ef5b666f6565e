//! SOQL tokens. Date and dateTime literals are unquoted and strictly shaped: `YYYY-MM-DD`, and
//! `YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm|-hh:mm)`
//! (<https://developer.salesforce.com/docs/platform/salesforce-soql-sosl/guide/sforce-api-calls-soql-select-dateformats.html>).
//! A dateTime without a zone, or with `+0000` (the form Salesforce *returns*), is refused the way
//! Salesforce's lexer refuses it, "no viable alternative at character" ([OBS] for the missing zone).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::error::SoqlError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    DateTime(DateTime<Utc>),
    Date(NaiveDate),
    /// `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    Comma,
    LParen,
    RParen,
    /// `.`, `:` and other punctuation the subset has no use for.
    Other(char),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// Byte offset in the query.
    pub at: usize,
    /// The source text, for messages.
    pub text: String,
}

pub fn tokenize(query: &str) -> Result<Vec<Token>, SoqlError> {
    let mut lexer = Lexer {
        query,
        bytes: query.as_bytes(),
        pos: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next()?;
        let end = token.tok == Tok::Eof;
        tokens.push(token);
        if end {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    query: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn token(&self, tok: Tok, start: usize) -> Token {
        Token {
            tok,
            at: start,
            text: self.query[start..self.pos].to_string(),
        }
    }

    /// Salesforce's lexer message for a character it can't continue with.
    fn no_viable(&self, at: usize) -> SoqlError {
        let found = self.query[at..]
            .chars()
            .next()
            .map_or("<EOF>".to_string(), |c| c.to_string());
        let (row, col) = row_col(self.query, at);
        SoqlError::malformed(
            self.query,
            at,
            format!("line {row}:{col} no viable alternative at character '{found}'"),
        )
    }

    fn next(&mut self) -> Result<Token, SoqlError> {
        while self.peek(0).is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(b) = self.peek(0) else {
            return Ok(Token {
                tok: Tok::Eof,
                at: start,
                text: "<EOF>".into(),
            });
        };
        let single = |tok| (tok, 1);
        let (tok, len) = match b {
            b'\'' => return self.string(start),
            b'0'..=b'9' if self.is_temporal() => return self.temporal(start),
            b'0'..=b'9' => return self.number(start),
            b'-' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                return self.number(start);
            }
            b if b.is_ascii_alphabetic() || b == b'_' => return Ok(self.ident(start)),
            b',' => single(Tok::Comma),
            b'(' => single(Tok::LParen),
            b')' => single(Tok::RParen),
            b'=' => single(Tok::Op("=")),
            b'!' if self.peek(1) == Some(b'=') => (Tok::Op("!="), 2),
            b'<' if self.peek(1) == Some(b'>') => (Tok::Op("!="), 2),
            b'<' if self.peek(1) == Some(b'=') => (Tok::Op("<="), 2),
            b'>' if self.peek(1) == Some(b'=') => (Tok::Op(">="), 2),
            b'<' => single(Tok::Op("<")),
            b'>' => single(Tok::Op(">")),
            b'.' | b':' => single(Tok::Other(char::from(b))),
            _ => return Err(self.no_viable(start)),
        };
        self.pos += len;
        Ok(self.token(tok, start))
    }

    fn ident(&mut self, start: usize) -> Token {
        while self
            .peek(0)
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pos += 1;
        }
        let text = self.query[start..self.pos].to_string();
        self.token(Tok::Ident(text), start)
    }

    fn number(&mut self, start: usize) -> Result<Token, SoqlError> {
        self.pos += 1;
        while self
            .peek(0)
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        {
            self.pos += 1;
        }
        let text = &self.query[start..self.pos];
        let value = text.parse::<f64>().map_err(|_| self.no_viable(start))?;
        Ok(self.token(Tok::Num(value), start))
    }

    /// `'…'` with SOQL's backslash escapes.
    fn string(&mut self, start: usize) -> Result<Token, SoqlError> {
        let mut value = String::new();
        let mut chars = self.query[start + 1..].char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos = start + 1 + i + 1;
                    return Ok(self.token(Tok::Str(value), start));
                }
                '\\' => {
                    let escaped = match chars.next().map(|(_, e)| e) {
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('b') => '\u{8}',
                        Some('f') => '\u{c}',
                        Some(e @ ('\'' | '"' | '\\' | '_' | '%')) => e,
                        other => {
                            let seq = other.map_or(String::from("\\"), |e| format!("\\{e}"));
                            let literal = &self.query[start..];
                            return Err(SoqlError::malformed(
                                self.query,
                                start,
                                format!(
                                    "Invalid string literal '{literal}'. Illegal character sequence '{seq}' in string literal."
                                ),
                            ));
                        }
                    };
                    value.push(escaped);
                }
                c => value.push(c),
            }
        }
        let (row, col) = row_col(self.query, self.query.len());
        Err(SoqlError::malformed(
            self.query,
            self.query.len(),
            format!("line {row}:{col} mismatched character '<EOF>' expecting '''"),
        ))
    }

    /// Four digits then `-`: a date or dateTime literal.
    fn is_temporal(&self) -> bool {
        (0..4).all(|i| self.peek(i).is_some_and(|b| b.is_ascii_digit()))
            && self.peek(4) == Some(b'-')
    }

    fn expect(&mut self, accept: impl Fn(u8) -> bool) -> Result<(), SoqlError> {
        match self.peek(0) {
            Some(b) if accept(b) => {
                self.pos += 1;
                Ok(())
            }
            _ => Err(self.no_viable(self.pos)),
        }
    }

    fn digits(&mut self, n: usize) -> Result<(), SoqlError> {
        for _ in 0..n {
            self.expect(|b| b.is_ascii_digit())?;
        }
        Ok(())
    }

    fn temporal(&mut self, start: usize) -> Result<Token, SoqlError> {
        self.digits(4)?;
        self.expect(|b| b == b'-')?;
        self.digits(2)?;
        self.expect(|b| b == b'-')?;
        self.digits(2)?;
        if self.peek(0) != Some(b'T') {
            let text = &self.query[start..self.pos];
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| invalid_temporal(self.query, start, "date", text))?;
            return Ok(self.token(Tok::Date(date), start));
        }
        self.pos += 1;
        self.digits(2)?;
        self.expect(|b| b == b':')?;
        self.digits(2)?;
        self.expect(|b| b == b':')?;
        self.digits(2)?;
        if self.peek(0) == Some(b'.') {
            self.pos += 1;
            self.digits(1)?;
            while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
            }
        }
        let local_end = self.pos;
        match self.peek(0) {
            Some(b'Z') => self.pos += 1,
            Some(b'+' | b'-') => {
                self.pos += 1;
                self.digits(2)?;
                self.expect(|b| b == b':')?;
                self.digits(2)?;
            }
            _ => return Err(self.no_viable(self.pos)),
        }
        let text = &self.query[start..self.pos];
        let local =
            NaiveDateTime::parse_from_str(&self.query[start..local_end], "%Y-%m-%dT%H:%M:%S%.f")
                .map_err(|_| invalid_temporal(self.query, start, "datetime", text))?;
        let offset = match &self.query[local_end..self.pos] {
            "Z" => 0,
            zone => {
                let sign = if zone.starts_with('-') { -1 } else { 1 };
                let hours: i64 = zone[1..3].parse().unwrap_or(0);
                let minutes: i64 = zone[4..6].parse().unwrap_or(0);
                sign * (hours * 60 + minutes)
            }
        };
        let utc = local.and_utc() - chrono::Duration::minutes(offset);
        Ok(self.token(Tok::DateTime(utc), start))
    }
}

/// A literal shaped right but naming no real day or time, e.g. `2026-13-01`
/// [UNVERIFIED: Salesforce's wording].
fn invalid_temporal(query: &str, at: usize, kind: &str, text: &str) -> SoqlError {
    SoqlError::malformed(query, at, format!("invalid {kind}: {text}"))
}

/// `(row, column)` as Salesforce's lexer prints them: 1-based row, 0-based column.
fn row_col(query: &str, at: usize) -> (usize, usize) {
    let before = &query[..at.min(query.len())];
    let row = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    (row, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        tokenize(q)
            .expect("lexes")
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn datetimes_are_read_in_every_documented_form() {
        let utc = toks("x > 2026-12-05T10:00:00Z");
        let offset = toks("x > 2026-12-05T11:00:00+01:00");
        let millis = toks("x > 2026-12-05T10:00:00.000Z");
        assert_eq!(utc, offset);
        assert_eq!(utc, millis);
        assert!(matches!(toks("x = 2026-12-05")[2], Tok::Date(_)));
    }

    #[test]
    fn datetimes_without_a_colon_zone_or_with_none_are_refused() {
        for q in [
            "x > 2026-12-05T10:00:00.000+0000",
            "x > 2026-12-05T10:00:00",
            "x > 2026-12-05T10:00",
        ] {
            let e = tokenize(q).expect_err(q);
            assert_eq!(e.code, "MALFORMED_QUERY");
            assert!(e.message.contains("no viable alternative"), "{}", e.message);
        }
    }

    #[test]
    fn strings_unescape_and_operators_normalise() {
        assert_eq!(
            toks(r"Name = 'O\'Brien' AND x <> 1"),
            vec![
                Tok::Ident("Name".into()),
                Tok::Op("="),
                Tok::Str("O'Brien".into()),
                Tok::Ident("AND".into()),
                Tok::Ident("x".into()),
                Tok::Op("!="),
                Tok::Num(1.0),
                Tok::Eof
            ]
        );
        assert!(tokenize("Name = 'open").is_err());
        assert!(tokenize(r"Name = 'a\q'").is_err());
    }
}
