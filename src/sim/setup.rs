//! What an admin changed in the org's Setup since it was made: picklist values added,
//! deactivated or activated again. `schema.rs` is the org as shipped; describe and writes read it
//! through this overlay, so a test can break the org, watch Sluice refuse to start, fix the org
//! and watch the next start succeed.

use std::collections::{BTreeMap, HashMap};

use super::schema::{Field, Object};

/// Picklist values changed in Setup, per object and field; `true` is active.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    picklists: HashMap<(&'static str, &'static str), BTreeMap<String, bool>>,
}

/// Why a Setup change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("no such object: {0}")]
    UnknownObject(String),
    #[error("{object} has no field {field}")]
    UnknownField { object: String, field: String },
    #[error("{object}.{field} is not a picklist")]
    NotPicklist { object: String, field: String },
}

impl Setup {
    /// Adds `value` to the field's picklist, or changes whether it is active. A picklist value is
    /// never deleted here: Salesforce keeps a deleted value's records, so tests deactivate.
    pub fn set_picklist_value(
        &mut self,
        obj: &'static Object,
        field: &'static Field,
        value: &str,
        active: bool,
    ) {
        self.picklists
            .entry((obj.name, field.name))
            .or_default()
            .insert(value.to_owned(), active);
    }

    /// The field's picklist values as describe lists them: the shipped ones in their order, then
    /// the added ones, each with whether it is active.
    pub fn picklist(&self, obj: &Object, field: &Field) -> Vec<(String, bool)> {
        let changed = self.picklists.get(&(obj.name, field.name));
        let mut values: Vec<(String, bool)> = field
            .picklist
            .iter()
            .map(|v| {
                let active = changed.and_then(|c| c.get(*v)).copied().unwrap_or(true);
                ((*v).to_owned(), active)
            })
            .collect();
        if let Some(changed) = changed {
            for (value, active) in changed {
                if !field.picklist.contains(&value.as_str()) {
                    values.push((value.clone(), *active));
                }
            }
        }
        values
    }

    /// Whether a restricted picklist takes `value`: an active value, spelled exactly (docs/salesforce.md §7.3).
    pub fn accepts(&self, obj: &Object, field: &Field, value: &str) -> bool {
        match self
            .picklists
            .get(&(obj.name, field.name))
            .and_then(|c| c.get(value))
        {
            Some(active) => *active,
            None => field.picklist.contains(&value),
        }
    }
}

/// Finds the picklist field an admin edits, by its API names (case-insensitive, as in Setup).
pub fn picklist_field(
    object: &str,
    field: &str,
) -> Result<(&'static Object, &'static Field), SetupError> {
    let obj = super::schema::object(object)
        .ok_or_else(|| SetupError::UnknownObject(object.to_owned()))?;
    let f = obj.field(field).ok_or_else(|| SetupError::UnknownField {
        object: obj.name.to_owned(),
        field: field.to_owned(),
    })?;
    if f.ty != super::schema::FieldType::Picklist {
        return Err(SetupError::NotPicklist {
            object: obj.name.to_owned(),
            field: f.name.to_owned(),
        });
    }
    Ok((obj, f))
}

impl super::Simulator {
    /// Adds a picklist value or (de)activates one, as an admin would in Setup: the next describe
    /// shows it and the next write is checked against it. Not an API call.
    pub fn set_picklist_value(
        &self,
        object: &str,
        field: &str,
        value: &str,
        active: bool,
    ) -> Result<(), SetupError> {
        let (obj, f) = picklist_field(object, field)?;
        self.lock()
            .store
            .setup
            .set_picklist_value(obj, f, value, active);
        Ok(())
    }
}
