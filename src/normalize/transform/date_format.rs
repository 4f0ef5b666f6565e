//! Date format patterns (`dd/mm/yyyy`, `d MMMM yyyy`, `MMMM dd, yyyy`, …) and reading a text
//! with one.
//!
//! Tokens: `dd` day, `mm` month number, `MMM`/`MMMM` month name (either accepts the full and the
//! abbreviated name, with or without its trailing dot, in the format's locale), `yyyy` a four-digit
//! year, `yy` a two-digit year, `hh` hour (00-23), `mi` minute, `ss` second. Day, month, hour,
//! minute and second take one or two digits, since exports often drop the leading zero.
//! Text in single quotes is literal (`dd 'de' MMMM 'de' yyyy`); other characters that are not
//! letters are literal too. A space matches one or more spaces, or none right after a month
//! name's dot ("27 févr.2010"). Letters compare without regard to case.
//!
//! Days may carry their locale's ordinal mark: `1er` in fr, `1st`/`2nd`/`3rd`/`4th` in en,
//! `1º`/`1°` in es, it and pt.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::locale::Locale;
use super::months::month;

/// Two-digit years below this are 20xx, the others 19xx, as RFC 5322 §4.3 reads them
/// (00-49 → 2000-2049, 50-99 → 1950-1999). A transform can set its own `pivot`.
pub const DEFAULT_PIVOT: u32 = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Day,
    Month,
    MonthName,
    Year,
    ShortYear,
    Hour,
    Minute,
    Second,
    Space,
    Literal(char),
}

const TOKENS: [(&str, Token); 9] = [
    ("yyyy", Token::Year),
    ("yy", Token::ShortYear),
    ("MMMM", Token::MonthName),
    ("MMM", Token::MonthName),
    ("dd", Token::Day),
    ("mm", Token::Month),
    ("hh", Token::Hour),
    ("mi", Token::Minute),
    ("ss", Token::Second),
];

/// A parsed format pattern, or RFC 3339 (`iso`, for date-times).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    name: String,
    tokens: Option<Vec<Token>>,
    locale: Option<Locale>,
    pivot: u32,
}

/// What reading a text with one format found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reading {
    /// Not this format's shape.
    NoMatch,
    /// This shape, but the word where the month name goes names no month in the locale.
    UnknownMonth(String),
    /// This shape, but no real date or time (31/02, 25:00).
    Impossible,
    Found(NaiveDateTime),
}

impl DateFormat {
    /// Refuses patterns without a day, a month and a year, so a typo cannot silently accept
    /// anything, and month names without a locale to read them in.
    pub fn parse(name: &str, locale: Option<Locale>, pivot: u32) -> Result<Self, String> {
        if name == "iso" {
            return Ok(Self {
                name: name.into(),
                tokens: None,
                locale,
                pivot,
            });
        }
        let tokens = tokenize(name)?;
        let has = |wanted: &[Token]| tokens.iter().any(|t| wanted.contains(t));
        if !(has(&[Token::Day])
            && has(&[Token::Month, Token::MonthName])
            && has(&[Token::Year, Token::ShortYear]))
        {
            return Err(format!(
                "date format \"{name}\" needs a day (dd), a month (mm, MMM or MMMM) and a year (yyyy or yy)"
            ));
        }
        if has(&[Token::MonthName]) && locale.is_none() {
            return Err(format!(
                "date format \"{name}\" reads month names: set locale ({})",
                Locale::NAMES
            ));
        }
        Ok(Self {
            name: name.into(),
            tokens: Some(tokens),
            locale,
            pivot,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn is_iso(&self) -> bool {
        self.tokens.is_none()
    }

    pub(crate) fn locale(&self) -> Option<Locale> {
        self.locale
    }

    pub(crate) fn read(&self, text: &str) -> Reading {
        let Some(tokens) = &self.tokens else {
            return Reading::NoMatch;
        };
        let mut fields = Fields::default();
        let mut rest = text;
        let mut after_dot = false;
        for token in tokens {
            let step = match token {
                Token::Space => {
                    let trimmed = rest.trim_start_matches(' ');
                    if trimmed.len() == rest.len() && !after_dot {
                        return Reading::NoMatch;
                    }
                    rest = trimmed;
                    continue;
                }
                Token::Literal(c) => strip_char(rest, *c).ok_or(()),
                Token::MonthName => match self.month_name(rest) {
                    Ok((m, tail, dot)) => {
                        fields.month = m;
                        rest = tail;
                        after_dot = dot;
                        continue;
                    }
                    Err(reading) => return reading,
                },
                Token::Day => self.day(rest, &mut fields.day),
                Token::Year => number(rest, 4, 4, &mut fields.year),
                Token::ShortYear => {
                    let mut yy = 0;
                    let tail = number(rest, 2, 2, &mut yy);
                    fields.year = if yy < self.pivot {
                        2000 + yy
                    } else {
                        1900 + yy
                    };
                    tail
                }
                Token::Month => number(rest, 1, 2, &mut fields.month),
                Token::Hour => number(rest, 1, 2, &mut fields.hour),
                Token::Minute => number(rest, 1, 2, &mut fields.minute),
                Token::Second => number(rest, 1, 2, &mut fields.second),
            };
            match step {
                Ok(tail) => rest = tail,
                Err(()) => return Reading::NoMatch,
            }
            after_dot = false;
        }
        if !rest.is_empty() {
            return Reading::NoMatch;
        }
        fields.to_datetime()
    }

    /// A month name and its optional dot: `(month, rest, had a dot)`.
    fn month_name<'t>(&self, text: &'t str) -> Result<(u32, &'t str, bool), Reading> {
        let end = text
            .char_indices()
            .find(|(_, c)| !c.is_alphabetic())
            .map_or(text.len(), |(i, _)| i);
        let (word, tail) = text.split_at(end);
        if word.is_empty() {
            return Err(Reading::NoMatch);
        }
        let locale = self.locale.ok_or(Reading::NoMatch)?;
        let m = month(word, locale).ok_or_else(|| Reading::UnknownMonth(word.to_owned()))?;
        Ok(match tail.strip_prefix('.') {
            Some(after) => (m, after, true),
            None => (m, tail, false),
        })
    }

    /// A day of one or two digits and the locale's ordinal mark, if any.
    fn day<'t>(&self, text: &'t str, day: &mut u32) -> Result<&'t str, ()> {
        let tail = number(text, 1, 2, day)?;
        let suffixes: &[&str] = match (self.locale, *day) {
            (Some(Locale::Fr), 1) => &["er"],
            (Some(Locale::En), d) => match (d % 10, d % 100) {
                (_, 11..=13) => &["th"],
                (1, _) => &["st"],
                (2, _) => &["nd"],
                (3, _) => &["rd"],
                _ => &["th"],
            },
            (Some(Locale::Es | Locale::It | Locale::Pt), 1) => &["º", "°"],
            _ => &[],
        };
        Ok(suffixes
            .iter()
            .find_map(|s| strip_str(tail, s))
            .unwrap_or(tail))
    }
}

/// Splits a format into tokens. Bounded by the format's length: each turn consumes input.
fn tokenize(name: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = name;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            let Some(end) = rest[1..].find('\'') else {
                return Err(format!("unclosed quote in date format \"{name}\""));
            };
            let quoted = &rest[1..=end];
            if quoted.is_empty() {
                tokens.push(Token::Literal('\''));
            }
            tokens.extend(quoted.chars().map(|c| {
                if c == ' ' {
                    Token::Space
                } else {
                    Token::Literal(c)
                }
            }));
            rest = &rest[end + 2..];
            continue;
        }
        if let Some((pattern, token)) = TOKENS.iter().find(|(p, _)| rest.starts_with(p)) {
            tokens.push(*token);
            rest = &rest[pattern.len()..];
            continue;
        }
        if c.is_alphabetic() {
            let hint = if c == 'M' {
                ": use mm for a month number, MMM or MMMM for a month name"
            } else {
                ": put literal text in single quotes"
            };
            return Err(format!(
                "unknown letter '{c}' in date format \"{name}\"{hint}"
            ));
        }
        tokens.push(if c == ' ' {
            Token::Space
        } else {
            Token::Literal(c)
        });
        rest = &rest[c.len_utf8()..];
    }
    Ok(tokens)
}

/// Reads `min..=max` ASCII digits.
fn number<'t>(text: &'t str, min: usize, max: usize, out: &mut u32) -> Result<&'t str, ()> {
    let len = text
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if len < min {
        return Err(());
    }
    *out = text[..len].parse().map_err(|_| ())?;
    Ok(&text[len..])
}

fn strip_char(text: &str, c: char) -> Option<&str> {
    let first = text.chars().next()?;
    let same = first == c || (c.is_alphabetic() && first.to_lowercase().eq(c.to_lowercase()));
    same.then(|| &text[first.len_utf8()..])
}

fn strip_str<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    prefix.chars().try_fold(text, |rest, c| strip_char(rest, c))
}

#[derive(Debug, Default)]
struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Fields {
    fn to_datetime(&self) -> Reading {
        let date = i32::try_from(self.year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, self.month, self.day));
        let time = NaiveTime::from_hms_opt(self.hour, self.minute, self.second);
        match date.zip(time) {
            Some((d, t)) => Reading::Found(d.and_time(t)),
            None => Reading::Impossible,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(format: &str, locale: Option<Locale>, text: &str) -> Reading {
        DateFormat::parse(format, locale, DEFAULT_PIVOT)
            .unwrap()
            .read(text)
    }

    fn ymd(y: i32, m: u32, d: u32) -> Reading {
        Reading::Found(NaiveDate::from_ymd_opt(y, m, d).unwrap().into())
    }

    #[test]
    fn month_names_ordinals_and_quoted_words() {
        let fr = Some(Locale::Fr);
        assert_eq!(
            read("dd MMMM yyyy", fr, "1er janvier 2026"),
            ymd(2026, 1, 1)
        );
        assert_eq!(read("dd MMM yyyy", fr, "27 févr. 2010"), ymd(2010, 2, 27));
        assert_eq!(read("dd MMM yyyy", fr, "27 févr.2010"), ymd(2010, 2, 27));
        assert_eq!(read("dd MMM yyyy", fr, "27 FEVR 2010"), ymd(2010, 2, 27));
        assert_eq!(
            read("MMMM dd, yyyy", Some(Locale::En), "March 3rd, 2026"),
            ymd(2026, 3, 3)
        );
        assert_eq!(
            read("dd. MMMM yyyy", Some(Locale::De), "3. März 2026"),
            ymd(2026, 3, 3)
        );
        assert_eq!(
            read(
                "dd 'de' MMMM 'de' yyyy",
                Some(Locale::Es),
                "1º de marzo de 2026"
            ),
            ymd(2026, 3, 1)
        );
        assert_eq!(
            read(
                "dd 'de' MMMM 'de' yyyy",
                Some(Locale::Pt),
                "3 De Março De 2026"
            ),
            ymd(2026, 3, 3)
        );
    }

    #[test]
    fn wrong_ordinals_unknown_months_and_impossible_dates() {
        let en = Some(Locale::En);
        assert_eq!(
            read("MMMM dd, yyyy", en, "March 3th, 2026"),
            Reading::NoMatch
        );
        assert_eq!(
            read("dd MMMM yyyy", Some(Locale::Fr), "2er janvier 2026"),
            Reading::NoMatch
        );
        assert_eq!(
            read("dd MMMM yyyy", en, "3 Mars 2026"),
            Reading::UnknownMonth("Mars".into())
        );
        assert_eq!(
            read("dd MMMM yyyy", en, "31 April 2026"),
            Reading::Impossible
        );
        assert_eq!(read("dd MMMM yyyy", en, "3  March 2026"), ymd(2026, 3, 3));
        assert_eq!(read("dd MMMM yyyy", en, "3March 2026"), Reading::NoMatch);
    }

    #[test]
    fn two_digit_years_pivot_at_50_unless_told() {
        assert_eq!(read("dd/mm/yy", None, "28/11/26"), ymd(2026, 11, 28));
        assert_eq!(read("dd/mm/yy", None, "28/11/49"), ymd(2049, 11, 28));
        assert_eq!(read("dd/mm/yy", None, "28/11/50"), ymd(1950, 11, 28));
        assert_eq!(read("dd/mm/yy", None, "28/11/2026"), Reading::NoMatch);
        let custom = DateFormat::parse("dd/mm/yy", None, 30).unwrap();
        assert_eq!(custom.read("01/01/45"), ymd(1945, 1, 1));
    }

    #[test]
    fn formats_are_checked_when_loaded() {
        let err = |f: &str, l| DateFormat::parse(f, l, DEFAULT_PIVOT).unwrap_err();
        assert_eq!(
            err("dd MMMM yyyy", None),
            "date format \"dd MMMM yyyy\" reads month names: set locale (fr, en, de, es, it, nl or pt)"
        );
        assert_eq!(
            err("dd/MM/yyyy", None),
            "unknown letter 'M' in date format \"dd/MM/yyyy\": use mm for a month number, MMM or MMMM for a month name"
        );
        assert_eq!(
            err("mm/yyyy", None),
            "date format \"mm/yyyy\" needs a day (dd), a month (mm, MMM or MMMM) and a year (yyyy or yy)"
        );
        assert_eq!(
            err("dd 'de MMMM", Some(Locale::Es)),
            "unclosed quote in date format \"dd 'de MMMM\""
        );
    }
}
