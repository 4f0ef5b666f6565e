//! What surrounds the digits of an amount: a currency mark before or after (`12 €`,
//! `EUR 1 234,56`, `$1,234.56`, `1 234,56 EUR`, `US$ 5`) and a sign before it or, as SAP and
//! other ERPs write negative amounts, after the number (`1.234,56-`).
//!
//! A mark is an ISO 4217 code (any case, checked against the `iso_currency` crate's table) or a
//! currency symbol (Unicode category Sc: €, $, £, ¥, ₹, …) with at most three capital letters
//! before it (`US$`, `CA$`, `R$`). When the transform names the field's currency, the mark must
//! be that currency: its code, its symbol, or a prefixed symbol whose letters begin its code
//! (`CA$` and `C$` for CAD), so an amount in dollars never lands in a euro field.

use iso_currency::Currency;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::normalize::error::TransformError;

/// An amount's text with its currency mark and any outer sign taken off.
#[derive(Debug, PartialEq, Eq)]
pub struct Bare<'a> {
    /// A sign found outside the number: before a leading mark, or trailing.
    pub negative: bool,
    pub had_sign: bool,
    pub number: &'a str,
}

fn sign(c: char) -> Option<bool> {
    match c {
        '-' | '\u{2212}' => Some(true),
        '+' => Some(false),
        _ => None,
    }
}

fn is_currency_symbol(c: char) -> bool {
    c.general_category() == GeneralCategory::CurrencySymbol
}

/// A leading mark and the rest of the text, which must hold digits: "TBD" is not a currency.
fn leading_mark(s: &str) -> Option<(&str, &str)> {
    let letters = s.chars().take_while(char::is_ascii_alphabetic).count();
    let end = match s[letters..].chars().next() {
        Some(c) if letters <= 3 && is_currency_symbol(c) => {
            let prefix_ok = s[..letters].chars().all(|l| l.is_ascii_uppercase());
            prefix_ok.then_some(letters + c.len_utf8())?
        }
        _ if letters == 3 => 3,
        _ => return None,
    };
    let (mark, rest) = s.split_at(end);
    has_digit(rest).then_some((mark, rest))
}

/// A trailing mark and the text before it, which must hold digits.
fn trailing_mark(s: &str) -> Option<(&str, &str)> {
    let last = s.chars().next_back()?;
    let start = if is_currency_symbol(last) {
        let body = &s[..s.len() - last.len_utf8()];
        let letters = body
            .chars()
            .rev()
            .take_while(char::is_ascii_uppercase)
            .count()
            .min(3);
        body.len() - letters
    } else {
        let letters = s
            .chars()
            .rev()
            .take_while(char::is_ascii_alphabetic)
            .count();
        if letters != 3 {
            return None;
        }
        s.len() - 3
    };
    let (rest, mark) = s.split_at(start);
    has_digit(rest).then_some((mark, rest))
}

/// The text before a trailing minus ("1.234,56-").
fn trailing_minus(s: &str) -> Option<&str> {
    let last = s.chars().next_back()?;
    let rest = s[..s.len() - last.len_utf8()].trim_end();
    (sign(last) == Some(true) && has_digit(rest)).then_some(rest)
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Checks a mark against ISO 4217 and the field's currency.
fn check_mark(value: &str, mark: &str, expected: Option<Currency>) -> Result<(), TransformError> {
    let symbol = mark.chars().next_back().filter(|c| is_currency_symbol(*c));
    let Some(symbol) = symbol else {
        let code = mark.to_ascii_uppercase();
        let found = Currency::from_code(&code).ok_or_else(|| TransformError::UnknownCurrency {
            value: value.to_owned(),
            code: mark.to_owned(),
        })?;
        return match expected {
            Some(want) if want != found => Err(wrong(value, mark, want)),
            _ => Ok(()),
        };
    };
    let Some(want) = expected else {
        return Ok(());
    };
    let own = want.symbol().symbol;
    let prefix = &mark[..mark.len() - symbol.len_utf8()];
    let same_symbol = own == symbol.to_string();
    let fits = mark == own || (same_symbol && want.code().starts_with(prefix));
    if fits {
        Ok(())
    } else {
        Err(wrong(value, mark, want))
    }
}

fn wrong(value: &str, mark: &str, want: Currency) -> TransformError {
    TransformError::WrongCurrency {
        value: value.to_owned(),
        mark: mark.to_owned(),
        expected: want.code(),
    }
}

fn bad(value: &str, problem: &'static str) -> TransformError {
    TransformError::Amount {
        value: value.to_owned(),
        problem,
    }
}

/// Takes the mark and outer sign off `text` (already trimmed).
pub fn strip(text: &str, expected: Option<Currency>) -> Result<Bare<'_>, TransformError> {
    let mut s = text;
    let mut outer: Option<bool> = None;
    let mut mark: Option<&str> = None;
    // Leading: "-€12" (the sign before the mark), "€-12" and "EUR 12" (the number signed).
    if let Some(c) = s.chars().next()
        && let Some(neg) = sign(c)
        && let Some((m, rest)) = leading_mark(s[c.len_utf8()..].trim_start())
    {
        outer = Some(neg);
        mark = Some(m);
        s = rest.trim_start();
    } else if let Some((m, rest)) = leading_mark(s) {
        mark = Some(m);
        s = rest.trim_start();
    }
    // Trailing, in either order: "12,50 €-" and "12,50- €".
    for _ in 0..2 {
        if let Some(rest) = trailing_minus(s) {
            if outer.is_some() {
                return Err(bad(text, "more than one sign"));
            }
            outer = Some(true);
            s = rest;
        } else if let Some((m, rest)) = trailing_mark(s) {
            if mark.is_some() {
                return Err(bad(text, "more than one currency mark"));
            }
            mark = Some(m);
            s = rest.trim_end();
        }
    }
    if let Some(m) = mark {
        check_mark(text, m, expected)?;
    }
    if outer.is_some() && s.chars().next().and_then(sign).is_some() {
        return Err(bad(text, "more than one sign"));
    }
    Ok(Bare {
        negative: outer == Some(true),
        had_sign: outer.is_some(),
        number: s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> (bool, &str) {
        let bare = strip(text, None).unwrap();
        (bare.negative, bare.number)
    }

    #[test]
    fn marks_before_or_after_and_outer_signs_come_off() {
        assert_eq!(number("12 €"), (false, "12"));
        assert_eq!(number("EUR 1 234,56"), (false, "1 234,56"));
        assert_eq!(number("eur 5"), (false, "5"));
        assert_eq!(number("$1,234.56"), (false, "1,234.56"));
        assert_eq!(number("1 234,56 EUR"), (false, "1 234,56"));
        assert_eq!(number("US$ 5"), (false, "5"));
        assert_eq!(number("-€12,50"), (true, "12,50"));
        assert_eq!(number("€ -12,50"), (false, "-12,50"));
        assert_eq!(number("1.234,56-"), (true, "1.234,56"));
        assert_eq!(number("12,50 €-"), (true, "12,50"));
        assert_eq!(number("-12"), (false, "-12"));
    }

    #[test]
    fn a_mark_must_be_a_currency_and_the_fields_one() {
        let msg = |t: &str, c: Option<Currency>| strip(t, c).unwrap_err().to_string();
        assert_eq!(
            msg("12 XYZ", None),
            "\"12 XYZ\": XYZ is not an ISO 4217 currency code"
        );
        assert_eq!(
            msg("12 $", Some(Currency::EUR)),
            "\"12 $\" is in $, but this field takes EUR"
        );
        assert_eq!(
            msg("USD 12", Some(Currency::EUR)),
            "\"USD 12\" is in USD, but this field takes EUR"
        );
        assert_eq!(
            msg("€12 EUR", None),
            "\"€12 EUR\" is not an amount: more than one currency mark"
        );
        assert_eq!(
            msg("-12-", None),
            "\"-12-\" is not an amount: more than one sign"
        );
        assert!(strip("C$ 12", Some(Currency::CAD)).is_ok());
        assert!(strip("CA$12", Some(Currency::CAD)).is_ok());
        assert!(strip("US$12", Some(Currency::CAD)).is_err());
        assert!(strip("12 eur", Some(Currency::EUR)).is_ok());
    }
}
