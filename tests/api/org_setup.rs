//! The README's org setup (section "Deploying to Heroku") held to the shipped mappings: every
//! field and every picklist value they write is listed in the row of its object, so an admin
//! who follows the README gets an org Sluice starts against.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sluice::normalize::{MappingSet, ObjectNeeds};

const HEADER: &str = "| Object | Fields | Picklist values sent |";

/// One row of the table: the names in backticks of its Fields cell, and its picklist values.
#[derive(Debug, Default)]
struct Row {
    names: BTreeSet<String>,
    values: BTreeMap<String, BTreeSet<String>>,
}

/// Every `name` in backticks.
fn quoted(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split('`').skip(1).step_by(2).map(str::to_owned)
}

/// The org-setup table's rows by object, from README.md.
fn readme_rows() -> BTreeMap<String, Row> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut lines = readme.lines().skip_while(|l| l.trim() != HEADER);
    assert!(lines.next().is_some(), "README has the org-setup table");
    let mut rows = BTreeMap::new();
    for line in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [object, fields, values] = cells[..] else {
            panic!("a row of three cells: {line}");
        };
        let mut row = Row {
            names: quoted(fields).collect(),
            ..Row::default()
        };
        // "`Status__c`: Cancelled, Draft; `Currency__c`: EUR"
        for part in values.split(';').filter(|p| !p.trim().is_empty()) {
            let (field, list) = part.split_once(':').expect("`Field`: values");
            let field = quoted(field).next().expect("the field in backticks");
            row.values.insert(
                field,
                list.split(',').map(|v| v.trim().to_owned()).collect(),
            );
        }
        rows.insert(object.trim_matches('`').to_owned(), row);
    }
    rows
}

/// The lookup field behind a relationship name, by Salesforce's naming: `Account__r` is
/// `Account__c`, a standard `Account` is `AccountId`.
fn lookup_field(relationship: &str) -> String {
    match relationship.strip_suffix("__r") {
        Some(base) => format!("{base}__c"),
        None => format!("{relationship}Id"),
    }
}

/// What the mappings write that the README's table does not list, one line each.
fn unlisted(rows: &BTreeMap<String, Row>, needs: &BTreeMap<String, ObjectNeeds>) -> Vec<String> {
    let mut out = Vec::new();
    for (object, needs) in needs {
        let Some(row) = rows.get(object) else {
            out.push(format!("{object}: no row"));
            continue;
        };
        for field in &needs.fields {
            if !row.names.contains(field) {
                out.push(format!("{object}.{field}: not listed"));
            }
        }
        for (relationship, (parent, key)) in &needs.parents {
            if !row.names.contains(relationship) && !row.names.contains(&lookup_field(relationship))
            {
                out.push(format!(
                    "{object}.{}: not listed",
                    lookup_field(relationship)
                ));
            }
            if !rows.get(parent).is_some_and(|p| p.names.contains(key)) {
                out.push(format!(
                    "{parent}.{key} (the key of {object}.{relationship}): not listed"
                ));
            }
        }
        for (field, values) in &needs.values {
            let listed = row.values.get(field);
            for value in values {
                if !listed.is_some_and(|l| l.contains(value)) {
                    out.push(format!("{object}.{field} value \"{value}\": not listed"));
                }
            }
        }
    }
    out
}

fn shipped() -> MappingSet {
    MappingSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"))
        .expect("the shipped mappings load")
}

#[test]
fn the_readme_org_setup_lists_every_field_and_picklist_value_the_shipped_mappings_write() {
    let needs = shipped().needs();
    assert_eq!(
        needs.keys().map(String::as_str).collect::<Vec<_>>(),
        ["Account", "Contact", "Invoice__c"]
    );
    assert_eq!(unlisted(&readme_rows(), &needs), Vec::<String>::new());
}

#[test]
fn a_field_or_value_a_mapping_gains_without_the_readme_is_caught() {
    let erp =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/erp-fr.toml"))
            .expect("erp-fr.toml");
    let grown = erp
        .replace(
            "[objects.Account.fields]\n",
            "[objects.Account.fields]\nFax = { from = \"fax\" }\n",
        )
        .replace(
            "\"annulée\" = \"Cancelled\"",
            "\"annulée\" = \"Cancelled\", \"litige\" = \"Disputed\"",
        );
    assert_ne!(grown, erp);
    let set = MappingSet::from_toml_str("erp-fr.toml", &grown).expect("loads");
    assert_eq!(
        unlisted(&readme_rows(), &set.needs()),
        [
            "Account.Fax: not listed",
            "Invoice__c.Status__c value \"Disputed\": not listed"
        ]
    );
}
