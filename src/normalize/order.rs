//! Push order: parents before children, so a child's `Rel__r: {Ext__c: …}` finds its parent.

use std::collections::{BTreeMap, BTreeSet};

use super::error::MappingError;
use super::mapping::Mapping;

/// Objects sorted so every referenced parent comes before its children; ties alphabetical.
/// A self-reference (Account.Parent) is not an ordering constraint: it is ignored here.
pub(crate) fn push_order(mappings: &[Mapping]) -> Result<Vec<String>, MappingError> {
    let nodes: BTreeSet<&str> = mappings.iter().map(|m| m.object.as_str()).collect();
    let mut parents: BTreeMap<&str, BTreeSet<&str>> =
        nodes.iter().map(|n| (*n, BTreeSet::new())).collect();
    for m in mappings {
        for (_, parent) in m.parents() {
            if parent != m.object && nodes.contains(parent) {
                parents.entry(m.object.as_str()).or_default().insert(parent);
            }
        }
    }
    let mut order: Vec<String> = Vec::with_capacity(nodes.len());
    while order.len() < nodes.len() {
        let ready = parents
            .iter()
            .find(|(node, ps)| {
                !order.iter().any(|o| o == *node) && ps.iter().all(|p| order.iter().any(|o| o == p))
            })
            .map(|(node, _)| *node);
        match ready {
            Some(node) => order.push(node.to_owned()),
            None => {
                return Err(MappingError::Cycle {
                    objects: cycle(&parents, &order),
                });
            }
        }
    }
    Ok(order)
}

/// Walks unplaced parents from an unplaced node until one repeats: every unplaced node has one.
fn cycle(parents: &BTreeMap<&str, BTreeSet<&str>>, placed: &[String]) -> Vec<String> {
    let unplaced = |n: &&str| !placed.iter().any(|p| p == n);
    let mut path: Vec<&str> = Vec::new();
    let mut node = parents.keys().copied().find(unplaced);
    while let Some(n) = node {
        if let Some(start) = path.iter().position(|p| *p == n) {
            let mut cycle: Vec<String> = path[start..].iter().map(|s| (*s).to_owned()).collect();
            cycle.push(n.to_owned());
            return cycle;
        }
        path.push(n);
        node = parents
            .get(n)
            .and_then(|ps| ps.iter().copied().find(unplaced));
    }
    path.into_iter().map(str::to_owned).collect()
}
