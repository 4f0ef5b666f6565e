//! The Salesforce objects the hub accepts, with the external id field each is upserted by.
//!
//! Derived from the mappings (`Catalog::from_mappings`); `default_set` matches the shipped
//! mappings, for tests. Objects are pushed in catalog order, so a parent listed before its
//! children reaches Salesforce first when both are staged together.

use crate::staging::{ObjectName, is_api_name};

/// One object the hub accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectSpec {
    /// API name, e.g. `Contact` or `Invoice__c`.
    pub name: ObjectName,
    /// The external id field records are upserted by, e.g. `External_Id__c`.
    pub external_id_field: String,
}

/// The accepted objects, in push order (parents first).
#[derive(Debug, Clone)]
pub struct Catalog {
    objects: Vec<ObjectSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalog is empty")]
    Empty,
    #[error("object {object:?} is keyed by {} in one mapping and by {} in another", fields.0, fields.1)]
    KeyMismatch {
        object: String,
        fields: (String, String),
    },
    #[error("object {0:?} is listed twice")]
    Duplicate(String),
    #[error(
        "{0:?} is not a Salesforce API name (letters, digits and underscores, starting with a letter)"
    )]
    BadName(String),
}

impl ObjectSpec {
    /// An object keyed by `external_id_field`; both must be API names.
    pub fn new(name: &str, external_id_field: &str) -> Result<Self, CatalogError> {
        let name = ObjectName::parse(name).map_err(|_| CatalogError::BadName(name.to_owned()))?;
        if !is_api_name(external_id_field) {
            return Err(CatalogError::BadName(external_id_field.to_owned()));
        }
        Ok(Self {
            name,
            external_id_field: external_id_field.to_owned(),
        })
    }
}

impl Catalog {
    pub fn new(objects: Vec<ObjectSpec>) -> Result<Self, CatalogError> {
        if objects.is_empty() {
            return Err(CatalogError::Empty);
        }
        for (i, spec) in objects.iter().enumerate() {
            if objects[..i].iter().any(|o| o.name == spec.name) {
                return Err(CatalogError::Duplicate(spec.name.to_string()));
            }
        }
        Ok(Self { objects })
    }

    /// The objects the mappings write, parents first. Every mapping of one object must use the
    /// same external id field: it is the object's upsert key.
    pub fn from_mappings(mappings: &crate::normalize::MappingSet) -> Result<Self, CatalogError> {
        let mut objects = Vec::new();
        for object in mappings.objects() {
            let mut fields = mappings
                .sources()
                .filter_map(|source| mappings.get(source, object))
                .map(|m| m.external_id_field());
            let Some(field) = fields.next() else { continue };
            if let Some(other) = fields.find(|f| *f != field) {
                return Err(CatalogError::KeyMismatch {
                    object: object.to_owned(),
                    fields: (field.to_owned(), other.to_owned()),
                });
            }
            objects.push(ObjectSpec::new(object, field)?);
        }
        Self::new(objects)
    }

    pub fn default_set() -> Self {
        let spec = |name: &str, field: &str| ObjectSpec::new(name, field).expect("API names");
        Self::new(vec![
            spec("Account", "External_Id__c"),
            spec("Contact", "External_Id__c"),
            spec("Invoice__c", "Invoice_Number__c"),
        ])
        .expect("the default catalog is valid")
    }

    pub fn get(&self, name: &str) -> Option<&ObjectSpec> {
        self.objects.iter().find(|o| o.name == *name)
    }

    /// Objects in push order.
    pub fn iter(&self) -> impl Iterator<Item = &ObjectSpec> {
        self.objects.iter()
    }
}

/// Salesforce API names: a letter, then letters, digits and single underscores (`__c` suffixes allowed).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_lists_parents_before_children() {
        let names: Vec<_> = Catalog::default_set()
            .iter()
            .map(|o| o.name.clone())
            .collect();
        assert_eq!(names, ["Account", "Contact", "Invoice__c"]);
    }

    #[test]
    fn duplicates_bad_names_and_an_empty_catalog_are_refused() {
        let spec = |name: &str| ObjectSpec::new(name, "X__c");
        let dup = Catalog::new(vec![spec("A").unwrap(), spec("A").unwrap()]);
        assert!(matches!(dup, Err(CatalogError::Duplicate(n)) if n == "A"));
        assert!(matches!(spec("Con tact"), Err(CatalogError::BadName(_))));
        assert!(matches!(Catalog::new(vec![]), Err(CatalogError::Empty)));
    }

    #[test]
    fn default_set_is_what_the_shipped_mappings_declare() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/mappings");
        let mappings = crate::normalize::MappingSet::load_dir(std::path::Path::new(dir))
            .expect("the shipped mappings load");
        let from_mappings = Catalog::from_mappings(&mappings).expect("a catalog");
        let specs = |c: &Catalog| c.iter().cloned().collect::<Vec<_>>();
        assert_eq!(specs(&from_mappings), specs(&Catalog::default_set()));
    }
}
