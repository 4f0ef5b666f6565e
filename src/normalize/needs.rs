//! What the mappings write into the org, object by object: the admin's checklist. The README's
//! org-setup table is held to it by a test (`tests/api/org_setup.rs`), so an admin who follows
//! the README gets an org Sluice starts against.

use std::collections::{BTreeMap, BTreeSet};

use super::MappingSet;

/// What the mappings of every source write into one object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectNeeds {
    /// The fields written, by API name.
    pub fields: BTreeSet<String>,
    /// Parents set by their external id: relationship name → (parent object, its key field).
    pub parents: BTreeMap<String, (String, String)>,
    /// The constant values each field can be sent (value-map targets and fallbacks, defaults,
    /// constants): on a picklist field, the values the org must have active.
    pub values: BTreeMap<String, BTreeSet<String>>,
}

impl MappingSet {
    /// Every object the mappings write, with what they write into it.
    pub fn needs(&self) -> BTreeMap<String, ObjectNeeds> {
        let mut out: BTreeMap<String, ObjectNeeds> = BTreeMap::new();
        for m in &self.mappings {
            let needs = out.entry(m.object.clone()).or_default();
            for rule in &m.fields {
                needs.fields.insert(rule.target.clone());
                for (value, _) in rule.constants() {
                    needs
                        .values
                        .entry(rule.target.clone())
                        .or_default()
                        .insert(value);
                }
            }
            for r in &m.references {
                needs.parents.insert(
                    r.relationship.clone(),
                    (r.object.clone(), r.rule.target.clone()),
                );
            }
        }
        out
    }
}
