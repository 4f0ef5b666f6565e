//! The start-up refusal, written for the admin who fixes the org: the problems of every mapping
//! grouped so that each thing the org lacks is named once, on one line, with the sources that
//! need it and, for a picklist value, the words they send it for.

use std::fmt;

use super::error::{MappingProblem, ProblemKind, ValueOrigin};

/// One thing the org lacks or refuses, and who needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub object: String,
    /// The Salesforce field (or `Relationship.Key__c`) concerned, if any.
    pub field: Option<String>,
    /// What is wrong; for a picklist value, `from` is empty: see `needed_by`.
    pub kind: ProblemKind,
    /// Each source that needs it, in load order, with what makes it send a picklist value.
    pub needed_by: Vec<(String, Vec<ValueOrigin>)>,
}

/// Every misfit, in the order the mappings first met them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Misfits(Vec<Misfit>);

impl Misfits {
    /// Merges the problems that name the same thing (same object, field and problem) found
    /// through several sources, or several words of one source.
    pub fn group(problems: impl IntoIterator<Item = MappingProblem>) -> Self {
        let mut out: Vec<Misfit> = Vec::new();
        for p in problems {
            let (kind, from) = match p.kind {
                ProblemKind::InactivePicklistValue {
                    value,
                    allowed,
                    from,
                } => (
                    ProblemKind::InactivePicklistValue {
                        value,
                        allowed,
                        from: Vec::new(),
                    },
                    from,
                ),
                kind => (kind, Vec::new()),
            };
            let index = out
                .iter()
                .position(|m| m.object == p.object && m.field == p.field && m.kind == kind)
                .unwrap_or_else(|| {
                    out.push(Misfit {
                        object: p.object,
                        field: p.field,
                        kind,
                        needed_by: Vec::new(),
                    });
                    out.len() - 1
                });
            let needed_by = &mut out[index].needed_by;
            let at = needed_by
                .iter()
                .position(|(s, _)| *s == p.source_name)
                .unwrap_or_else(|| {
                    needed_by.push((p.source_name, Vec::new()));
                    needed_by.len() - 1
                });
            let origins = &mut needed_by[at].1;
            for origin in from {
                if !origins.contains(&origin) {
                    origins.push(origin);
                }
            }
        }
        Self(out)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Misfit> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One line per misfit.
impl fmt::Display for Misfits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}.{field}", self.object)?,
            None => f.write_str(&self.object)?,
        }
        if let ProblemKind::InactivePicklistValue { value, allowed, .. } = &self.kind {
            let senders: Vec<String> = self
                .needed_by
                .iter()
                .map(|(source, from)| format!("{} by {source}", sent_for(from)))
                .collect();
            let allowed = if allowed.is_empty() { "none" } else { allowed };
            return write!(
                f,
                " lacks the picklist value \"{value}\" ({}); active values: {allowed}",
                senders.join("; ")
            );
        }
        let sources: Vec<&str> = self.needed_by.iter().map(|(s, _)| s.as_str()).collect();
        write!(f, ": {} (needed by {})", self.kind, sources.join(", "))
    }
}

/// `mapped from "annulée", any other word and sent as the default`.
fn sent_for(from: &[ValueOrigin]) -> String {
    let words: Vec<String> = from
        .iter()
        .filter(|o| matches!(o, ValueOrigin::Word(_) | ValueOrigin::Fallback))
        .map(ToString::to_string)
        .collect();
    let mut parts = Vec::new();
    if !words.is_empty() {
        parts.push(format!("mapped from {}", words.join(", ")));
    }
    for other in [ValueOrigin::Default, ValueOrigin::Constant] {
        if from.contains(&other) {
            parts.push(format!("sent as {other}"));
        }
    }
    parts.join(" and ")
}
