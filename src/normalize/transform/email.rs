//! E-mail addresses, checked as Salesforce checks them, so none is refused at push with
//! `INVALID_EMAIL_ADDRESS`.
//!
//! Salesforce's rules (Knowledge Articles 000001145 "How does Salesforce qualify an email
//! address?" and 000384328 "Email Address Format Technical Standards Validation"):
//! - the name part (before the `@`) takes ASCII letters, digits and
//!   `! # $ % & ' * + - / = ? ^ _ ` { | } ~ .`, and may not start with a dot;
//! - the domain takes letters, digits and hyphens, in dot-separated labels;
//! - with Email Address Internationalization (EAI) on, both parts may also hold non-ASCII
//!   characters (the mapping says so with `internationalized_email = true`);
//! - addresses are stored in lower case.
//!
//! Two choices are stricter than Salesforce, on purpose. Two dots in a row or a final dot in the
//! name part are accepted by Salesforce but stored rewritten in quotes (`"a..b"@x.com`, Spring
//! '25), so the address would not be kept as sent: refused. Comments in parentheses, which
//! Salesforce tolerates and drops when sending, are refused too. Each refusal says why.
//! Labels may not start or end with a hyphen and the last one is at least two letters (as DNS
//! requires; Salesforce's own check of it is not documented).

use std::fmt;

use serde_json::Value;
use unicode_normalization::char::is_combining_mark;

use super::text::kind;
use crate::normalize::error::TransformError;

/// The specials Salesforce lists for the name part, besides letters, digits and the dot.
const NAME_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

/// Why an address is not one Salesforce stores as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailProblem {
    NoAt,
    SeveralAt,
    EmptyName,
    LeadingDot,
    RewrittenDots,
    NonAscii(char),
    BadCharacter(char),
    BadDomain,
    HyphenEdge,
    BadTopLevel,
}

impl fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoAt => f.write_str("there is no @"),
            Self::SeveralAt => f.write_str("there is more than one @"),
            Self::EmptyName => f.write_str("nothing comes before the @"),
            Self::LeadingDot => f.write_str("the part before the @ starts with a dot"),
            Self::RewrittenDots => f.write_str(
                "two dots in a row or a dot just before the @: Salesforce would store the address rewritten in quotes",
            ),
            Self::NonAscii(c) => write!(
                f,
                "'{c}' is not ASCII, which Salesforce takes only when the org has Email Address Internationalization on (internationalized_email = true)"
            ),
            Self::BadCharacter(c) => write!(f, "'{}' cannot be in an e-mail address", c.escape_debug()),
            Self::BadDomain => {
                f.write_str("the domain needs at least two non-empty labels (name@domain.tld)")
            }
            Self::HyphenEdge => f.write_str("a domain label starts or ends with a hyphen"),
            Self::BadTopLevel => {
                f.write_str("the last domain label must be at least two letters")
            }
        }
    }
}

/// Checks an address (already lower-cased or not) as Salesforce would.
pub fn check(address: &str, internationalized: bool) -> Result<(), EmailProblem> {
    let mut parts = address.split('@');
    let (Some(name), Some(domain)) = (parts.next(), parts.next()) else {
        return Err(EmailProblem::NoAt);
    };
    if parts.next().is_some() {
        return Err(EmailProblem::SeveralAt);
    }
    check_name(name, internationalized)?;
    check_domain(domain, internationalized)
}

fn allowed(
    c: char,
    internationalized: bool,
    ascii: impl Fn(char) -> bool,
) -> Result<(), EmailProblem> {
    if c.is_ascii() {
        return if ascii(c) {
            Ok(())
        } else {
            Err(EmailProblem::BadCharacter(c))
        };
    }
    if !internationalized {
        return Err(EmailProblem::NonAscii(c));
    }
    // Combining marks are part of letters in many scripts (Devanagari, Thai, …).
    if c.is_alphanumeric() || is_combining_mark(c) {
        Ok(())
    } else {
        Err(EmailProblem::BadCharacter(c))
    }
}

fn check_name(name: &str, internationalized: bool) -> Result<(), EmailProblem> {
    if name.is_empty() {
        return Err(EmailProblem::EmptyName);
    }
    if name.starts_with('.') {
        return Err(EmailProblem::LeadingDot);
    }
    for c in name.chars() {
        allowed(c, internationalized, |c| {
            c.is_ascii_alphanumeric() || c == '.' || NAME_SPECIALS.contains(c)
        })?;
    }
    // Bytes, not a substring search: its set-up costs more than these few bytes.
    if name.as_bytes().windows(2).any(|w| w == b"..") || name.ends_with('.') {
        return Err(EmailProblem::RewrittenDots);
    }
    Ok(())
}

fn check_domain(domain: &str, internationalized: bool) -> Result<(), EmailProblem> {
    for c in domain.chars() {
        allowed(c, internationalized, |c| {
            c.is_ascii_alphanumeric() || c == '-' || c == '.'
        })?;
    }
    let (mut labels, mut empty, mut hyphen, mut top) = (0, false, false, "");
    for label in domain.split('.') {
        labels += 1;
        empty |= label.is_empty();
        hyphen |= label.starts_with('-') || label.ends_with('-');
        top = label;
    }
    if labels < 2 || empty {
        return Err(EmailProblem::BadDomain);
    }
    if hyphen {
        return Err(EmailProblem::HyphenEdge);
    }
    let letters = top.chars().count() >= 2 && top.chars().all(char::is_alphabetic);
    // An internationalized top-level domain in its ASCII (punycode) form: "xn--p1ai".
    let punycode = top.starts_with("xn--") && top.len() > 4;
    if letters || punycode {
        Ok(())
    } else {
        Err(EmailProblem::BadTopLevel)
    }
}

/// Lower-cases (Salesforce stores addresses so) and checks.
pub fn email(v: Value, internationalized: bool) -> Result<Value, TransformError> {
    let Value::String(s) = v else {
        return Err(TransformError::NotText(kind(&v)));
    };
    let address = s.trim().to_lowercase();
    match check(&address, internationalized) {
        Ok(()) => Ok(Value::String(address)),
        Err(problem) => Err(TransformError::Email {
            value: s,
            problem: problem.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn addresses_are_lower_cased_and_checked() {
        assert_eq!(
            email(json!(" JEAN.DUPONT@EXEMPLE.FR "), false).unwrap(),
            json!("jean.dupont@exemple.fr")
        );
        for good in [
            "a.b+c@example.co.uk",
            "o'neil@example.ie",
            "x_y-z@sub-domain.example.com",
            "a!#$%&*/=?^`{|}~@example.com",
            "a@xn--80ak6aa92e.xn--p1ai",
        ] {
            assert_eq!(check(good, false), Ok(()), "{good}");
        }
    }

    #[test]
    fn what_salesforce_refuses_is_refused_with_a_reason() {
        let cases = [
            ("jean.dupont@exemple", EmailProblem::BadDomain),
            ("a@b.c1", EmailProblem::BadTopLevel),
            ("a@b.1", EmailProblem::BadTopLevel),
            ("a@@b.fr", EmailProblem::SeveralAt),
            ("a b@c.fr", EmailProblem::BadCharacter(' ')),
            ("jean,dupont@c.fr", EmailProblem::BadCharacter(',')),
            ("\"a\"@c.fr", EmailProblem::BadCharacter('"')),
            ("john(comment)@c.fr", EmailProblem::BadCharacter('(')),
            (".a@b.fr", EmailProblem::LeadingDot),
            ("a..b@c.fr", EmailProblem::RewrittenDots),
            ("a.@c.fr", EmailProblem::RewrittenDots),
            ("@b.fr", EmailProblem::EmptyName),
            ("jean.dupont", EmailProblem::NoAt),
            ("a@-b.fr", EmailProblem::HyphenEdge),
            ("a@b..fr", EmailProblem::BadDomain),
            ("a@b_c.fr", EmailProblem::BadCharacter('_')),
            ("josé@exemple.fr", EmailProblem::NonAscii('é')),
            ("jose@exemplé.fr", EmailProblem::NonAscii('é')),
        ];
        for (address, problem) in cases {
            assert_eq!(check(address, false), Err(problem), "{address}");
        }
        assert_eq!(
            email(json!("Marie Curie@x.fr"), false)
                .unwrap_err()
                .to_string(),
            "\"Marie Curie@x.fr\" is not an e-mail address Salesforce accepts: ' ' cannot be in an e-mail address"
        );
        assert_eq!(
            email(json!(3), false).unwrap_err().to_string(),
            "expected text, got a number"
        );
    }

    #[test]
    fn internationalized_orgs_take_non_ascii_letters() {
        assert_eq!(
            email(json!("JOSÉ@exemple.fr"), true).unwrap(),
            json!("josé@exemple.fr")
        );
        assert_eq!(check("用户@例子.广告", true), Ok(()));
        assert_eq!(check("δοκιμή@παράδειγμα.δοκιμή", true), Ok(()));
        assert_eq!(check("josé@exemple.fr", true), Ok(()));
        assert_eq!(
            check("a\u{a0}b@exemple.fr", true),
            Err(EmailProblem::BadCharacter('\u{a0}'))
        );
    }
}
