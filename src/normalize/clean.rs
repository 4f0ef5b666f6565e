//! The clean step every incoming string goes through before any rule, and the folding that
//! value maps compare keys with.
//!
//! Exports carry characters nobody sees: zero-width spaces and joiners (U+200B/C/D), word
//! joiners (U+2060), byte-order marks (U+FEFF), soft hyphens, bidi marks, tabs and no-break
//! spaces. Left in, an external id no longer matches its children's references and an e-mail is
//! refused at push. So, by default, a string loses its format (Cf) and control (Cc) characters,
//! is put in Unicode normal form C, has every white space (White_Space: tab, CR, LF, NBSP,
//! U+202F, U+3000, …) turned into a space, runs of them collapsed, and the ends trimmed.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// How a field's incoming text is cleaned (`clean` in a field entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clean {
    /// The default: one line of visible text.
    #[default]
    Text,
    /// As `Text` within each line, line breaks kept as `\n` and blank lines dropped, for
    /// multi-line fields such as a street address (`clean = "lines"`).
    Lines,
    /// The value exactly as sent (`clean = false`), for a mapping that truly wants raw bytes.
    Raw,
}

impl Clean {
    pub fn apply(self, s: &str) -> Cow<'_, str> {
        match self {
            Self::Raw => Cow::Borrowed(s),
            _ if is_already_clean(s) => Cow::Borrowed(s),
            Self::Text => Cow::Owned(one_line(s)),
            Self::Lines => Cow::Owned(lines(s)),
        }
    }
}

/// Printable ASCII with single inner spaces is already clean (and NFC): most values are, so
/// they cost no allocation.
fn is_already_clean(s: &str) -> bool {
    // One pass: each space must follow a visible character, and the last byte be one.
    let mut previous = b' ';
    for &b in s.as_bytes() {
        match b {
            0x21..=0x7e => {}
            b' ' if previous != b' ' => {}
            _ => return false,
        }
        previous = b;
    }
    s.is_empty() || previous != b' '
}

/// Invisible characters that carry no text: format characters (Cf) and controls (Cc) other than
/// white space, which becomes a space instead. NUL is kept: no export writes one, so it marks a
/// hostile request, which the hub refuses whole (tests/api/hostile.rs) rather than repairs.
fn is_invisible(c: char) -> bool {
    match c.general_category() {
        GeneralCategory::Format => true,
        GeneralCategory::Control => !c.is_whitespace() && c != '\0',
        _ => false,
    }
}

fn one_line(s: &str) -> String {
    // Invisible characters go first so that a letter and its accent split by one compose.
    let visible: String = s.chars().filter(|c| !is_invisible(*c)).collect();
    let mut out = String::with_capacity(visible.len());
    let mut space = false;
    for c in visible.nfc() {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// Line separators of every convention: LF, CR, CRLF, VT, FF, NEL, U+2028, U+2029.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn lines(s: &str) -> String {
    s.split(is_line_break)
        .map(one_line)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form value-map keys are compared in: cleaned, lower case, accents removed
/// ("  Résilié " and "RESILIE" are both "resilie").
pub(crate) fn fold(s: &str) -> String {
    one_line(s)
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> String {
        Clean::Text.apply(s).into_owned()
    }

    #[test]
    fn invisible_characters_are_removed_and_white_space_collapsed() {
        assert_eq!(text("\u{feff}C-001\u{200b}"), "C-001");
        assert_eq!(text("Du\u{200c}pont\u{200d} \u{2060}SA"), "Dupont SA");
        assert_eq!(
            text("\tJean\u{a0}\u{202f}\r\nDUPONT\u{3000} "),
            "Jean DUPONT"
        );
        assert_eq!(text("in\u{ad}visible\u{200e}"), "invisible");
        assert_eq!(text("bell\u{7}"), "bell");
        assert_eq!(text("nul\0"), "nul\0", "left for the hostile-input check");
    }

    #[test]
    fn text_is_put_in_normal_form_c() {
        // "é" written as e + combining acute, with a zero-width space between them.
        assert_eq!(text("Re\u{200b}\u{301}silie\u{301}"), "Résilié");
        assert_eq!(text("Re\u{301}silie\u{301}").len(), "Résilié".len());
    }

    #[test]
    fn a_value_of_only_invisible_characters_cleans_to_nothing() {
        assert_eq!(text("\u{200b}\u{feff} \u{a0}\u{2060}"), "");
    }

    #[test]
    fn clean_ascii_is_borrowed_and_raw_is_untouched() {
        assert!(matches!(Clean::Text.apply("C-001 ok"), Cow::Borrowed(_)));
        assert_eq!(Clean::Raw.apply(" a\u{200b} "), " a\u{200b} ");
    }

    #[test]
    fn what_is_kept_as_sent_is_what_cleaning_would_give_back() {
        let alphabet = ['a', ' ', '\t', '~', '\u{a0}', 'é', '\u{200b}', '\n'];
        let strings = crate::normalize::every_string(&alphabet, 4);
        for s in &strings {
            if is_already_clean(s) {
                assert_eq!(one_line(s), *s, "{s:?}");
                assert_eq!(lines(s), *s, "{s:?}");
            }
            let ascii = s.bytes().all(|b| matches!(b, 0x21..=0x7e | b' '));
            let expected = ascii && one_line(s) == *s;
            assert_eq!(is_already_clean(s), expected, "{s:?}");
        }
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(
            Clean::Lines.apply(" 12  rue de la\u{a0}Paix \r\n\r\n Bât.\u{200b} B\u{2028}"),
            "12 rue de la Paix\nBât. B"
        );
    }

    #[test]
    fn fold_ignores_case_accents_and_surrounding_space() {
        assert_eq!(fold("  Résilié "), "resilie");
        assert_eq!(fold("RESILIE"), "resilie");
        assert_eq!(fold("Payée\u{200b}"), "payee");
    }
}
