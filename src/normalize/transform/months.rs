//! Month names, by locale, for the `MMM` and `MMMM` date tokens.
//!
//! Source: Unicode CLDR 47, `common/main/{fr,en,de,es,it,nl,pt}.xml`, Gregorian calendar, months
//! in the format and stand-alone contexts, wide and abbreviated widths, typed here without their
//! trailing dots (a dot after any name is accepted). Regional variants from the same release are
//! marked: en_GB "Sept", de_AT "Jänner"/"Jän", es_PE "setiembre"/"set". Marked "legacy" are
//! abbreviations that older, pre-CLDR Java runtimes wrote and that exports still carry.
//! Names are compared after folding (lower case, accents removed), so "FÉVR." and "fevr" are
//! February in `fr`; no two months of one locale fold to the same name (tested below).

use std::collections::HashMap;
use std::sync::LazyLock;

use super::locale::Locale;
use crate::normalize::clean::fold;

type Names = [&'static [&'static str]; 12];

const FR: Names = [
    &["janvier", "janv"],
    &["février", "févr"],
    &["mars"],
    &["avril", "avr"],
    &["mai"],
    &["juin"],
    &["juillet", "juil"],
    &["août"],
    &["septembre", "sept"],
    &["octobre", "oct"],
    &["novembre", "nov"],
    &["décembre", "déc"],
];

const EN: Names = [
    &["January", "Jan"],
    &["February", "Feb"],
    &["March", "Mar"],
    &["April", "Apr"],
    &["May"],
    &["June", "Jun"],
    &["July", "Jul"],
    &["August", "Aug"],
    &["September", "Sep", "Sept"], // Sept: en_GB
    &["October", "Oct"],
    &["November", "Nov"],
    &["December", "Dec"],
];

const DE: Names = [
    &["Januar", "Jan", "Jänner", "Jän"], // Jänner, Jän: de_AT
    &["Februar", "Feb"],
    &["März", "Mär", "Mrz"], // Mrz: legacy
    &["April", "Apr"],
    &["Mai"],
    &["Juni", "Jun"],
    &["Juli", "Jul"],
    &["August", "Aug"],
    &["September", "Sept", "Sep"],
    &["Oktober", "Okt"],
    &["November", "Nov"],
    &["Dezember", "Dez"],
];

const ES: Names = [
    &["enero", "ene"],
    &["febrero", "feb"],
    &["marzo", "mar"],
    &["abril", "abr"],
    &["mayo", "may"],
    &["junio", "jun"],
    &["julio", "jul"],
    &["agosto", "ago"],
    &["septiembre", "sept", "setiembre", "set", "sep"], // setiembre, set: es_PE; sep: legacy
    &["octubre", "oct"],
    &["noviembre", "nov"],
    &["diciembre", "dic"],
];

const IT: Names = [
    &["gennaio", "gen"],
    &["febbraio", "feb"],
    &["marzo", "mar"],
    &["aprile", "apr"],
    &["maggio", "mag"],
    &["giugno", "giu"],
    &["luglio", "lug"],
    &["agosto", "ago"],
    &["settembre", "set"],
    &["ottobre", "ott"],
    &["novembre", "nov"],
    &["dicembre", "dic"],
];

const NL: Names = [
    &["januari", "jan"],
    &["februari", "feb"],
    &["maart", "mrt"],
    &["april", "apr"],
    &["mei"],
    &["juni", "jun"],
    &["juli", "jul"],
    &["augustus", "aug"],
    &["september", "sep", "sept"],
    &["oktober", "okt"],
    &["november", "nov"],
    &["december", "dec"],
];

const PT: Names = [
    &["janeiro", "jan"],
    &["fevereiro", "fev"],
    &["março", "mar"],
    &["abril", "abr"],
    &["maio", "mai"],
    &["junho", "jun"],
    &["julho", "jul"],
    &["agosto", "ago"],
    &["setembro", "set"],
    &["outubro", "out"],
    &["novembro", "nov"],
    &["dezembro", "dez"],
];

fn names(locale: Locale) -> &'static Names {
    match locale {
        Locale::Fr => &FR,
        Locale::En => &EN,
        Locale::De => &DE,
        Locale::Es => &ES,
        Locale::It => &IT,
        Locale::Nl => &NL,
        Locale::Pt => &PT,
    }
}

/// Every folded name of every locale, with its month.
static INDEX: LazyLock<HashMap<(Locale, String), u32>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for locale in Locale::ALL {
        for (names, month) in names(locale).iter().zip(1..) {
            for name in *names {
                index.insert((locale, fold(name)), month);
            }
        }
    }
    index
});

/// The month (1–12) `word` names in `locale`, full or abbreviated, without its trailing dot.
pub fn month(word: &str, locale: Locale) -> Option<u32> {
    INDEX.get(&(locale, fold(word))).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_abbreviated_names_in_every_locale() {
        let cases = [
            ("janvier", Locale::Fr, 1),
            ("FÉVR", Locale::Fr, 2),
            ("fevr", Locale::Fr, 2),
            ("aout", Locale::Fr, 8),
            ("March", Locale::En, 3),
            ("sept", Locale::En, 9),
            ("März", Locale::De, 3),
            ("Marz", Locale::De, 3),
            ("Jänner", Locale::De, 1),
            ("ene", Locale::Es, 1),
            ("setiembre", Locale::Es, 9),
            ("mag", Locale::It, 5),
            ("mrt", Locale::Nl, 3),
            ("out", Locale::Pt, 10),
            ("marco", Locale::Pt, 3),
        ];
        for (word, locale, want) in cases {
            assert_eq!(month(word, locale), Some(want), "{word} in {locale:?}");
        }
        assert_eq!(month("mars", Locale::En), None);
        assert_eq!(month("juil", Locale::En), None);
        assert_eq!(month("ju", Locale::Fr), None);
    }

    #[test]
    fn no_two_months_of_a_locale_fold_to_the_same_name() {
        for locale in Locale::ALL {
            let mut seen: Vec<(String, usize)> = Vec::new();
            for (i, names) in names(locale).iter().enumerate() {
                for name in *names {
                    let f = fold(name);
                    if let Some((_, other)) = seen.iter().find(|(s, m)| *s == f && *m != i) {
                        panic!("{locale:?}: {name} is month {} and {}", i + 1, other + 1);
                    }
                    seen.push((f, i));
                }
            }
        }
    }
}
