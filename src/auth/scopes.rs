//! What a caller may do: scopes, and the sources and objects it may write.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// An operation class granted by the token's `scope` / `scp` claim. No scope implies another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `records:write`: ingest records.
    RecordsWrite,
    /// `records:read`: read staged records and their push status.
    RecordsRead,
    /// `sync:admin`: operate the push scheduler.
    SyncAdmin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::RecordsWrite, Scope::RecordsRead, Scope::SyncAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::RecordsWrite => "records:write",
            Scope::RecordsRead => "records:read",
            Scope::SyncAdmin => "sync:admin",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_owned()))
    }
}

/// The scopes a caller holds. Scopes of other systems in the same token are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Parses an OAuth `scope` value: names separated by spaces.
    pub fn parse_space_separated(value: &str) -> Self {
        value
            .split_ascii_whitespace()
            .filter_map(|name| name.parse().ok())
            .collect()
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Scopes(iter.into_iter().collect())
    }
}

impl Extend<Scope> for Scopes {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

/// Names a caller may write, from `sluice_sources` / `sluice_objects`.
///
/// An absent claim allows nothing; `["*"]` (or the string `"*"`) allows everything. Names compare ignoring ASCII case,
/// as Salesforce API names do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    All,
    Only(BTreeSet<String>),
}

impl Allowed {
    pub fn nothing() -> Self {
        Allowed::Only(BTreeSet::new())
    }

    pub fn from_claim(names: Option<Vec<String>>) -> Self {
        match names {
            Some(names) if names.iter().any(|n| n == "*") => Allowed::All,
            Some(names) => Allowed::Only(names.into_iter().collect()),
            None => Allowed::nothing(),
        }
    }

    pub fn allows(&self, name: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

impl Default for Allowed {
    fn default() -> Self {
        Allowed::nothing()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_from_an_oauth_scope_string_ignoring_foreign_names() {
        let scopes = Scopes::parse_space_separated("openid records:write  sync:admin api");
        assert_eq!(
            scopes.iter().collect::<Vec<_>>(),
            [Scope::RecordsWrite, Scope::SyncAdmin]
        );
    }

    #[test]
    fn allowed_names_ignore_case_and_star_allows_all() {
        let only = Allowed::from_claim(Some(vec!["Account".into()]));
        assert!(only.allows("account") && !only.allows("Contact"));
        assert!(Allowed::from_claim(Some(vec!["*".into()])).allows("Contact"));
        assert!(!Allowed::from_claim(None).allows("Account"));
    }
}
