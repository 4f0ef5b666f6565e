//! How a field's rule runs: absent and blank inputs, `default` as a step and as a key,
//! constants, and the transforms that need a mapping around them (split, datetime, concat).

use serde_json::{Value, json};

use super::record;
use crate::normalize::{FieldIssue, MappingSet};

fn apply(fields: &str, input: Value) -> Result<Value, Vec<FieldIssue>> {
    let toml = format!(
        "source = \"s\"\ncountry = \"FR\"\ntimezone = \"Europe/Paris\"\n\
         [objects.Contact]\nexternal_id = \"K\"\n[objects.Contact.fields]\nK = {{ value = \"k-1\" }}\n{fields}"
    );
    let set = MappingSet::from_toml_str("t.toml", &toml).expect("loads");
    set.get("s", "Contact")
        .expect("mapped")
        .apply(&record(input))
        .map(Value::Object)
}

#[test]
fn blank_and_absent_inputs_are_left_out_not_sent_as_null() {
    let out = apply(
        "A = { from = \"a\" }\nB = { from = \"b\" }\nC = { from = \"c\" }",
        json!({"a": "  ", "b": null}),
    );
    assert_eq!(out, Ok(json!({"K": "k-1"})));
}

#[test]
fn default_step_runs_before_later_transforms_and_default_key_after_all() {
    let fields = r#"
        Step = { from = "s", transforms = [{ rule = "default", value = "paris" }, "upper"] }
        Key = { from = "k", default = "paris", transforms = ["upper"] }
    "#;
    assert_eq!(
        apply(fields, json!({})),
        Ok(json!({"K": "k-1", "Step": "PARIS", "Key": "paris"}))
    );
    assert_eq!(
        apply(fields, json!({"s": "lyon", "k": "lyon"})),
        Ok(json!({"K": "k-1", "Step": "LYON", "Key": "LYON"}))
    );
}

#[test]
fn split_feeds_first_and_last_names_from_one_input() {
    let fields = r#"
        FirstName = { from = "nom_complet", transforms = [{ rule = "split", take = "all_but_last" }, "title"] }
        LastName = { from = "nom_complet", required = true, transforms = [{ rule = "split", take = "last" }, "title"] }
    "#;
    assert_eq!(
        apply(fields, json!({"nom_complet": "jean pierre DUPONT"})),
        Ok(json!({"K": "k-1", "FirstName": "Jean Pierre", "LastName": "Dupont"}))
    );
    assert_eq!(
        apply(fields, json!({"nom_complet": "MADONNA"})),
        Ok(json!({"K": "k-1", "LastName": "Madonna"}))
    );
    assert_eq!(
        apply(fields, json!({})),
        Err(vec![
            FieldIssue::new(
                "nom_complet",
                "required",
                "a value is required for LastName"
            )
            .on("LastName")
            .with_code("REQUIRED_FIELD_MISSING")
        ])
    );
}

#[test]
fn datetime_and_phone_use_the_file_defaults() {
    let fields = r#"
        Seen = { from = "vu", transforms = [{ rule = "datetime", format = "dd/mm/yyyy hh:mi" }] }
        Phone = { from = "tel", transforms = ["phone"] }
        UsPhone = { from = "us", transforms = [{ rule = "phone", country = "US" }] }
    "#;
    assert_eq!(
        apply(
            fields,
            json!({"vu": "28/11/2026 14:45", "tel": "01 23 45 67 89", "us": "(415) 555-2671"})
        ),
        Ok(
            json!({"K": "k-1", "Seen": "2026-11-28T13:45:00Z", "Phone": "+33123456789", "UsPhone": "+14155552671"})
        )
    );
    assert_eq!(
        apply(fields, json!({"tel": "12"})),
        Err(vec![
            FieldIssue::new(
                "tel",
                "phone",
                "\"12\" is not a valid FR or international (+…) phone number"
            )
            .on("Phone")
        ])
    );
}

#[test]
fn concat_reports_under_all_its_inputs_and_nested_values_are_refused() {
    let fields = r#"
        Street = { from = ["a1", "a2"], transforms = [{ rule = "concat", separator = ", " }] }
        Tags = { from = "tags" }
        Flag = { from = "flag", transforms = ["boolean"] }
        Count = { from = "n", transforms = ["integer"] }
    "#;
    assert_eq!(
        apply(
            fields,
            json!({"a1": "1 rue A", "a2": "Bât B", "flag": "oui", "n": "3"})
        ),
        Ok(json!({"K": "k-1", "Street": "1 rue A, Bât B", "Flag": true, "Count": 3}))
    );
    assert_eq!(
        apply(fields, json!({"a1": {"x": 1}, "tags": ["a", "b"]})),
        Err(vec![
            FieldIssue::new("a1+a2", "concat", "expected a single value, got an object")
                .on("Street"),
            FieldIssue::new(
                "tags",
                "type",
                "expected a single value for Tags, got a list"
            )
            .on("Tags"),
        ])
    );
}
