//! Reads one mapping file (the format is documented in `mod.rs` and `mappings/README.md`).
//! The TOML is walked by hand rather than through serde derive so every error can say which
//! file, source, object and field it is about.

use toml::{Table, Value as Toml};

use super::clean::Clean;
use super::error::{Location, MappingError, SpecProblem};
use super::mapping::{FieldRule, Input, Mapping, Reference};
use super::path::{self, PathError};
use super::rules;
use super::transform::locale::Locale;
use super::transform::{Defaults, Transform, phone, to_json, wrong_type};
use super::validate::OrgRules;

const FILE_KEYS: &[&str] = &[
    "source",
    "country",
    "timezone",
    "locale",
    "internationalized_email",
    "strict",
    "objects",
    // How the source's records arrive, read by `crate::config::sources`, not here.
    "webhook",
    "pull",
];
const OBJECT_KEYS: &[&str] = &[
    "external_id",
    "fields",
    "references",
    "rules",
    "records",
    "on",
];
const FIELD_KEYS: &[&str] = &[
    "from",
    "value",
    "required",
    "default",
    "transforms",
    "clean",
];
const REFERENCE_KEYS: &[&str] = &[
    "object",
    "field",
    "from",
    "value",
    "required",
    "default",
    "transforms",
    "clean",
];

fn check_keys(table: &Table, allowed: &[&str]) -> Result<(), SpecProblem> {
    match table.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(SpecProblem::UnknownKey(k.clone())),
        None => Ok(()),
    }
}

fn str_key<'a>(table: &'a Table, key: &'static str) -> Result<Option<&'a str>, SpecProblem> {
    match table.get(key) {
        None => Ok(None),
        Some(Toml::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(key, "text")),
    }
}

fn required_str<'a>(table: &'a Table, key: &'static str) -> Result<&'a str, SpecProblem> {
    str_key(table, key)?.ok_or(SpecProblem::MissingKey(key))
}

fn table_key<'a>(table: &'a Table, key: &'static str) -> Result<Option<&'a Table>, SpecProblem> {
    match table.get(key) {
        None => Ok(None),
        Some(Toml::Table(t)) => Ok(Some(t)),
        Some(_) => Err(wrong_type(key, "a table")),
    }
}

fn bool_key(table: &Table, key: &'static str) -> Result<bool, SpecProblem> {
    match table.get(key) {
        None => Ok(false),
        Some(Toml::Boolean(b)) => Ok(*b),
        Some(_) => Err(wrong_type(key, "true or false")),
    }
}

/// Parses a file into one [`Mapping`] per object.
pub(crate) fn parse_file(file: &str, text: &str) -> Result<Vec<Mapping>, MappingError> {
    let root: Table = toml::from_str(text).map_err(|source| MappingError::Toml {
        file: file.to_owned(),
        source,
    })?;
    let mut at = Location {
        file: file.to_owned(),
        ..Location::default()
    };
    let fail = |at: &Location, problem| MappingError::Spec {
        at: Box::new(at.clone()),
        problem,
    };
    check_keys(&root, FILE_KEYS).map_err(|p| fail(&at, p))?;
    let source = required_str(&root, "source").map_err(|p| fail(&at, p))?;
    at.source = Some(source.to_owned());
    let defaults = file_defaults(&root).map_err(|p| fail(&at, p))?;
    let strict = bool_key(&root, "strict").map_err(|p| fail(&at, p))?;
    let objects = table_key(&root, "objects")
        .and_then(|o| o.filter(|o| !o.is_empty()).ok_or(SpecProblem::NoObjects))
        .map_err(|p| fail(&at, p))?;

    let mut mappings = Vec::new();
    for (object, spec) in objects {
        at.object = Some(object.clone());
        at.field = None;
        let Toml::Table(spec) = spec else {
            return Err(fail(&at, wrong_type(object, "a table")));
        };
        check_keys(spec, OBJECT_KEYS).map_err(|p| fail(&at, p))?;
        let external_id = required_str(spec, "external_id").map_err(|p| fail(&at, p))?;
        let field_specs = table_key(spec, "fields")
            .and_then(|f| f.ok_or(SpecProblem::MissingKey("fields")))
            .map_err(|p| fail(&at, p))?;
        let mut fields = Vec::new();
        for (target, fspec) in field_specs {
            at.field = Some(target.clone());
            let rule =
                field_rule(target, fspec, FIELD_KEYS, &defaults).map_err(|p| fail(&at, p))?;
            fields.push(rule);
        }
        let mut references = Vec::new();
        for (relationship, rspec) in table_key(spec, "references")
            .map_err(|p| fail(&at, p))?
            .into_iter()
            .flatten()
        {
            at.field = Some(relationship.clone());
            let reference = reference(relationship, rspec, &defaults).map_err(|p| fail(&at, p))?;
            references.push(reference);
        }
        at.field = None;
        // The key is what upserts match on: a record without it cannot be sent.
        let Some(key_rule) = fields.iter_mut().find(|f| f.target == external_id) else {
            return Err(fail(
                &at,
                SpecProblem::ExternalIdNotMapped(external_id.to_owned()),
            ));
        };
        key_rule.required = true;
        let targets: Vec<&str> = fields.iter().map(|f| f.target.as_str()).collect();
        let rules = match table_key(spec, "rules").map_err(|p| fail(&at, p))? {
            Some(table) => rules::parse(table, &targets).map_err(|p| fail(&at, p))?,
            None => Vec::new(),
        };
        let records = match str_key(spec, "records").map_err(|p| fail(&at, p))? {
            Some(records) => {
                path::check(records, true)
                    .map_err(|e| fail(&at, SpecProblem::BadPath(e.to_string())))?;
                Some(records.to_owned())
            }
            None => None,
        };
        let on = event_types(spec).map_err(|p| fail(&at, p))?;
        mappings.push(Mapping {
            read: Mapping::reads(&fields, &references),
            file: file.to_owned(),
            source: source.to_owned(),
            object: object.clone(),
            external_id: external_id.to_owned(),
            fields,
            references,
            strict,
            rules,
            org: OrgRules {
                internationalized_email: defaults.internationalized_email,
            },
            records,
            on,
        });
    }
    Ok(mappings)
}

/// `on = "order.created"` or `on = ["order.created", "customer.*"]`.
fn event_types(spec: &Table) -> Result<Vec<String>, SpecProblem> {
    let expected = || wrong_type("on", "an event type or a list of event types");
    let types: Vec<String> = match spec.get("on") {
        None => return Ok(Vec::new()),
        Some(Toml::String(t)) => vec![t.clone()],
        Some(Toml::Array(list)) => list
            .iter()
            .map(|t| t.as_str().map(str::to_owned).ok_or_else(expected))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(expected()),
    };
    if types.is_empty() || types.iter().any(|t| t.trim().is_empty()) {
        return Err(expected());
    }
    Ok(types)
}

fn file_defaults(root: &Table) -> Result<Defaults, SpecProblem> {
    let country = match str_key(root, "country")? {
        Some(code) => Some(
            phone::region(code).ok_or_else(|| wrong_type("country", "an ISO 3166 alpha-2 code"))?,
        ),
        None => None,
    };
    let timezone = match str_key(root, "timezone")? {
        Some(name) => Some(
            name.parse()
                .map_err(|_| wrong_type("timezone", "an IANA time zone"))?,
        ),
        None => None,
    };
    let locale = match str_key(root, "locale")? {
        Some(name) => Some(
            Locale::parse(name)
                .ok_or_else(|| wrong_type("locale", "one of fr, en, de, es, it, nl or pt"))?,
        ),
        None => None,
    };
    Ok(Defaults {
        country,
        timezone,
        locale,
        internationalized_email: bool_key(root, "internationalized_email")?,
    })
}

fn reference(
    relationship: &str,
    spec: &Toml,
    defaults: &Defaults,
) -> Result<Reference, SpecProblem> {
    let Toml::Table(table) = spec else {
        return Err(wrong_type(relationship, "a table"));
    };
    let object = required_str(table, "object")?;
    let field = required_str(table, "field")?;
    Ok(Reference {
        relationship: relationship.to_owned(),
        object: object.to_owned(),
        rule: field_rule(field, spec, REFERENCE_KEYS, defaults)?,
        salesforce_field: format!("{relationship}.{field}"),
    })
}

fn field_rule(
    target: &str,
    spec: &Toml,
    keys: &[&str],
    defaults: &Defaults,
) -> Result<FieldRule, SpecProblem> {
    let Toml::Table(table) = spec else {
        return Err(wrong_type(
            target,
            "a table such as { from = \"incoming_name\" }",
        ));
    };
    check_keys(table, keys)?;
    let mut steps = match table.get("transforms") {
        None => Vec::new(),
        Some(Toml::Array(steps)) => steps
            .iter()
            .map(|s| Transform::parse(s, defaults))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(wrong_type("transforms", "a list")),
    };
    let input = match (table.get("from"), table.get("value")) {
        (Some(Toml::String(f)), None) => Input::Field(f.clone()),
        (Some(Toml::Array(fs)), None) => {
            let names: Vec<String> = fs
                .iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect();
            if names.len() != fs.len() || names.is_empty() {
                return Err(wrong_type("from", "a field name or a list of field names"));
            }
            match steps.first() {
                Some(Transform::Concat(sep)) if names.len() > 1 => {
                    let sep = sep.clone();
                    steps.remove(0);
                    Input::Concat(names, sep)
                }
                _ if names.len() > 1 => return Err(SpecProblem::InputsNeedConcat),
                _ => Input::Field(names.into_iter().next().unwrap_or_default()),
            }
        }
        (Some(_), None) => return Err(wrong_type("from", "a field name or a list of field names")),
        (None, Some(v)) => Input::Const(to_json(v)),
        (Some(_), Some(_)) => return Err(wrong_type("value", "absent when \"from\" is given")),
        (None, None) => return Err(SpecProblem::NoInput),
    };
    // Any other name is first an incoming field's exact name, so only `[*]` is refused here.
    let several = match &input {
        Input::Field(f) => f.contains("[*]").then(|| f.clone()),
        Input::Concat(fs, _) => fs.iter().find(|f| f.contains("[*]")).cloned(),
        Input::Const(_) => None,
    };
    if let Some(name) = several {
        return Err(SpecProblem::BadPath(PathError::Several(name).to_string()));
    }
    if steps.iter().any(|s| matches!(s, Transform::Concat(_))) {
        return Err(SpecProblem::MisplacedConcat);
    }
    Ok(FieldRule {
        target: target.to_owned(),
        input,
        steps,
        required: bool_key(table, "required")?,
        default: table.get("default").map(to_json),
        clean: clean_key(table)?,
    })
}

/// `clean = true` (the default), `false` (raw) or `"lines"` (keep line breaks).
fn clean_key(table: &Table) -> Result<Clean, SpecProblem> {
    match table.get("clean") {
        None | Some(Toml::Boolean(true)) => Ok(Clean::Text),
        Some(Toml::Boolean(false)) => Ok(Clean::Raw),
        Some(Toml::String(s)) if s == "lines" => Ok(Clean::Lines),
        Some(_) => Err(wrong_type("clean", "true, false or \"lines\"")),
    }
}
