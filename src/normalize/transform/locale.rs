//! The languages a mapping can read dates and amounts in.

/// A locale named in a mapping (`locale = "fr"`): month names and ordinals for dates, separators
/// for amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Locale {
    Fr,
    En,
    De,
    Es,
    It,
    Nl,
    Pt,
}

impl Locale {
    pub const ALL: [Locale; 7] = [
        Self::Fr,
        Self::En,
        Self::De,
        Self::Es,
        Self::It,
        Self::Nl,
        Self::Pt,
    ];

    /// The names accepted in mapping files, for messages.
    pub const NAMES: &'static str = "fr, en, de, es, it, nl or pt";

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
            Self::De => "de",
            Self::Es => "es",
            Self::It => "it",
            Self::Nl => "nl",
            Self::Pt => "pt",
        }
    }
}
