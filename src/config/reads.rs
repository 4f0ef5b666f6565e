//! The objects read back from Salesforce: a TOML file beside the mappings (`SLUICE_READS_FILE`,
//! default `reads.toml`) names, per object, the fields to read and how often, and the settings
//! shared by every read come from `READ_*` variables.
//!
//! ```toml
//! [objects.Contact]
//! fields = ["FirstName", "LastName", "Email"]   # the object's external id field is always read
//! every = 5                                      # seconds between two reads, at the least
//! ```

use std::path::Path;
use std::time::Duration;

use toml::{Table, Value as Toml};

use super::sources::{Problem, check_keys};
use super::{ConfigError, Env};
use crate::objects::Catalog;
use crate::staging::{ObjectName, is_api_name};

/// The variable naming the declarations file.
pub const READS_FILE_VAR: &str = "SLUICE_READS_FILE";
const DEFAULT_FILE: &str = "reads.toml";

/// Fields a read always asks for, and never stores: Salesforce's own bookkeeping.
pub const SYSTEM_FIELDS: [&str; 3] = ["Id", "SystemModstamp", "IsDeleted"];

/// One object read from Salesforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadObject {
    pub object: ObjectName,
    /// The hub's key for the object (from the mappings), read with the fields.
    pub external_id_field: String,
    /// Fields stored into `staging_records.fields`, the external id field first.
    pub fields: Vec<String>,
    /// The shortest time between two reads: change events wake a read no sooner.
    pub every: Duration,
}

/// The reads and their settings.
#[derive(Debug, Clone)]
pub struct ReadConfig {
    /// Run the reads in this process (`READ_ENABLED`).
    pub enabled: bool,
    pub objects: Vec<ReadObject>,
    /// Share of the org's daily API allowance the reads may spend, in percent.
    pub budget_percent: u8,
    /// How far before its watermark a read starts again (clock skew, long transactions).
    pub overlap: Duration,
    /// How long a read belongs to one dyno before another may take it over.
    pub lease: Duration,
    /// Listen to Change Data Capture events to read as soon as something changed.
    pub notifications: bool,
    /// The daily allowance assumed when the org's is not known yet.
    pub assumed_daily_allowance: u64,
}

impl ReadConfig {
    pub fn from_env(env: &Env, catalog: &Catalog) -> Result<Self, ConfigError> {
        let budget_percent = Env::in_range(
            "READ_BUDGET_PERCENT",
            env.parse_or("READ_BUDGET_PERCENT", 10u8)?,
            1,
            100,
        )?;
        let overlap = Env::in_range(
            "READ_OVERLAP_SECS",
            env.parse_or("READ_OVERLAP_SECS", 60u64)?,
            0,
            3600,
        )?;
        let lease = Env::in_range(
            "READ_LEASE_SECS",
            env.parse_or("READ_LEASE_SECS", 60u64)?,
            5,
            3600,
        )?;
        let (path, explicit) = match env.raw(READS_FILE_VAR) {
            Some(p) => (p.to_owned(), true),
            None => (DEFAULT_FILE.to_owned(), false),
        };
        let objects = match std::fs::read_to_string(Path::new(&path)) {
            Ok(text) => parse(&text, catalog).map_err(|reason| ConfigError::Invalid {
                name: READS_FILE_VAR,
                reason: format!("{path}: {reason}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Vec::new(),
            Err(e) => {
                return Err(ConfigError::Invalid {
                    name: READS_FILE_VAR,
                    reason: format!("{path}: {e}"),
                });
            }
        };
        Ok(Self {
            enabled: env.parse_or("READ_ENABLED", true)?,
            objects,
            budget_percent,
            overlap: Duration::from_secs(overlap),
            lease: Duration::from_secs(lease),
            notifications: env.parse_or("READ_NOTIFICATIONS", true)?,
            assumed_daily_allowance: 15_000,
        })
    }
}

/// The `[objects.<Object>]` tables of a declarations file.
pub fn parse(text: &str, catalog: &Catalog) -> Result<Vec<ReadObject>, String> {
    let root: Table = toml::from_str(text).map_err(|e| e.to_string())?;
    check_keys(&root, &["objects"]).map_err(|p| p.to_string())?;
    let Some(objects) = root.get("objects") else {
        return Ok(Vec::new());
    };
    let Toml::Table(objects) = objects else {
        return Err("\"objects\" must be a table".into());
    };
    let mut out = Vec::new();
    for (name, table) in objects {
        let at = |p: Problem| format!("[objects.{name}]: {p}");
        let Toml::Table(table) = table else {
            return Err(at(Problem::Invalid("must be a table".into())));
        };
        let spec = catalog.get(name).ok_or_else(|| {
            at(Problem::Invalid(
                "no mapping writes this object, so the hub has no external id to key it by".into(),
            ))
        })?;
        out.push(object(spec, table).map_err(at)?);
    }
    Ok(out)
}

fn object(spec: &crate::objects::ObjectSpec, table: &Table) -> Result<ReadObject, Problem> {
    check_keys(table, &["fields", "every"])?;
    let Some(Toml::Array(listed)) = table.get("fields") else {
        return Err(match table.get("fields") {
            None => Problem::Missing("fields"),
            Some(_) => Problem::Invalid("\"fields\" must be a list of field API names".into()),
        });
    };
    let mut fields = vec![spec.external_id_field.clone()];
    for value in listed {
        let Toml::String(field) = value else {
            return Err(Problem::Invalid(
                "\"fields\" must be a list of field API names".into(),
            ));
        };
        if !is_api_name(field) {
            return Err(Problem::Invalid(format!(
                "field {field:?} is not an API name"
            )));
        }
        if SYSTEM_FIELDS.contains(&field.as_str()) {
            return Err(Problem::Invalid(format!(
                "field {field:?} is always read; leave it out"
            )));
        }
        if !fields.contains(field) {
            fields.push(field.clone());
        }
    }
    let every = match table.get("every") {
        None => Duration::from_secs(5),
        Some(Toml::Integer(n)) if (1..=86_400).contains(n) => Duration::from_secs(*n as u64),
        Some(_) => {
            return Err(Problem::Invalid(
                "\"every\" must be a number of seconds, 1..=86400".into(),
            ));
        }
    };
    Ok(ReadObject {
        object: spec.name.clone(),
        external_id_field: spec.external_id_field.clone(),
        fields,
        every,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::ObjectSpec;

    fn catalog() -> Catalog {
        Catalog::new(vec![
            ObjectSpec::new("Contact", "External_Id__c").expect("spec"),
        ])
        .expect("catalog")
    }

    #[test]
    fn a_declaration_reads_its_fields_and_the_key() {
        let reads = parse(
            "[objects.Contact]\nfields = [\"LastName\", \"Email\", \"LastName\"]\nevery = 3\n",
            &catalog(),
        )
        .expect("parses");
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].fields, ["External_Id__c", "LastName", "Email"]);
        assert_eq!(reads[0].every, Duration::from_secs(3));
    }

    #[test]
    fn bad_declarations_name_the_object_and_why() {
        for (text, expected) in [
            (
                "[objects.Lead]\nfields = []\n",
                "[objects.Lead]: no mapping writes",
            ),
            (
                "[objects.Contact]\n",
                "[objects.Contact]: missing key \"fields\"",
            ),
            (
                "[objects.Contact]\nfields = [\"Bad Name\"]\n",
                "is not an API name",
            ),
            ("[objects.Contact]\nfields = [\"Id\"]\n", "is always read"),
            (
                "[objects.Contact]\nfields = []\nevery = 0\n",
                "\"every\" must be",
            ),
            (
                "[objects.Contact]\nfields = []\nhow = 1\n",
                "unknown key \"how\"",
            ),
            ("[reads]\n", "unknown key \"reads\""),
        ] {
            let error = parse(text, &catalog()).expect_err(text);
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
