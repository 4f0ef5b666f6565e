use std::collections::HashSet;

use serde_json::json;

use super::*;
use crate::normalize::MappingSet;

fn mappings() -> MappingSet {
    MappingSet::from_toml_str(
        "default.toml",
        include_str!("../../../mappings/default.toml"),
    )
    .expect("the shipped default mapping loads")
}

/// Normalized only: the records the mapping refused still wait for the describe check.
fn prepared(value: serde_json::Value) -> ParsedBatch {
    let set = mappings();
    let mapping = set.get("default", "Contact").expect("Contact mapping");
    let items = parse_array(value.to_string().as_bytes()).expect("an array");
    prepare(items, mapping)
}

/// Normalized and checked without a describe, as before the hub has read it.
fn prepare_json(value: serde_json::Value) -> ParsedBatch {
    let mut batch = prepared(value);
    let set = mappings();
    let mapping = set.get("default", "Contact").expect("Contact mapping");
    validate(&mut batch, mapping, None, &HashSet::new());
    batch
}

fn rules(batch: &ParsedBatch) -> Vec<(Option<usize>, &str, &str)> {
    batch
        .problems
        .iter()
        .map(|p| (p.index, p.field.as_str(), p.rule.as_str()))
        .collect()
}

fn contact_describe() -> SObjectDescribe {
    serde_json::from_value(json!({
        "name": "Contact",
        "fields": [
            {"name": "External_Id__c", "type": "string", "length": 64, "createable": true, "updateable": true, "nillable": true, "externalId": true},
            {"name": "LastName", "type": "string", "length": 80, "createable": true, "updateable": true, "nillable": false},
            {"name": "FirstName", "type": "string", "length": 40, "createable": true, "updateable": true, "nillable": true},
            {"name": "Email", "type": "email", "length": 80, "createable": true, "updateable": true, "nillable": true}
        ]
    }))
    .expect("a describe")
}

#[test]
fn a_body_that_is_not_a_batch_is_refused_whole() {
    assert_eq!(parse_array(b"{not json").unwrap_err().rule, "json");
    assert_eq!(parse_array(b"{\"a\":1}").unwrap_err().rule, "type");
    assert_eq!(parse_array(b"[]").unwrap_err().rule, "empty");
    let many = serde_json::to_vec(&vec![json!({}); MAX_RECORDS_PER_REQUEST + 1]).unwrap();
    assert_eq!(parse_array(&many).unwrap_err().rule, "too_many");
}

#[test]
fn valid_records_are_normalized_and_keep_the_external_id() {
    let batch = prepare_json(
        json!([{"External_Id__c": "  C-1 ", "LastName": " Durand ", "Email": " Marie@Example.COM "}]),
    );
    assert!(batch.problems.is_empty(), "{:?}", batch.problems);
    let (row, indexes) = &batch.rows[0];
    assert_eq!(row.external_id, "C-1");
    assert_eq!(indexes, &[0]);
    assert_eq!(row.fields["LastName"], json!("Durand"));
    assert_eq!(row.fields["Email"], json!("marie@example.com"));
    assert_eq!(row.fields["External_Id__c"], json!("C-1"));
}

#[test]
fn each_bad_record_is_reported_with_its_index_and_field() {
    let batch = prepare_json(json!([
        {"External_Id__c": "ok", "LastName": "A"},
        "not an object",
        {"LastName": "no id"},
        {"External_Id__c": "   "},
        {"External_Id__c": "x".repeat(256)},
        {"External_Id__c": "C-5", "Nickname__c": "unknown field"},
        {"External_Id__c": "C-6", "Email": "not-an-email"},
    ]));
    assert_eq!(batch.total, 7);
    assert_eq!(batch.rows.len(), 1);
    let rules = rules(&batch);
    assert_eq!(rules[0], (Some(1), "record", "type"));
    assert!(
        rules
            .iter()
            .any(|r| r.0 == Some(2) && r.1 == "External_Id__c"),
        "{rules:?}"
    );
    assert!(
        rules
            .iter()
            .any(|r| r.0 == Some(3) && r.1 == "External_Id__c"),
        "{rules:?}"
    );
    assert!(
        rules.contains(&(Some(4), "External_Id__c", "too_long")),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r.0 == Some(5) && r.1 == "Nickname__c"),
        "{rules:?}"
    );
    assert!(
        rules.iter().any(|r| r.0 == Some(6) && r.1 == "Email"),
        "{rules:?}"
    );
}

#[test]
fn an_unreadable_ndjson_line_is_one_record_problem() {
    let set = mappings();
    let mapping = set.get("default", "Contact").unwrap();
    let items = vec![
        (0, Ok(json!({"External_Id__c": "C-1", "LastName": "A"}))),
        strict_json::parse_record(1, b"not json"),
    ];
    let mut batch = prepare(items, mapping);
    validate(&mut batch, mapping, None, &HashSet::new());
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(rules(&batch), vec![(Some(1), "record", "json")]);
}

#[test]
fn repeated_external_ids_merge_field_by_field_last_wins() {
    let batch = prepare_json(json!([
        {"External_Id__c": "C-1", "LastName": "Old", "Email": "a@example.com"},
        {"External_Id__c": "C-2", "LastName": "Other"},
        {"External_Id__c": "C-1", "LastName": "New", "Phone": "+33123456789"},
    ]));
    assert_eq!(batch.rows.len(), 2);
    let (row, indexes) = &batch.rows[0];
    assert_eq!(indexes, &[0, 2]);
    assert_eq!(row.fields["LastName"], json!("New"));
    assert_eq!(row.fields["Email"], json!("a@example.com"));
    assert_eq!(row.fields["Phone"], json!("+33123456789"));
}

#[test]
fn describe_checks_refuse_what_salesforce_would_and_only_inserts_need_required_fields() {
    let mut batch = prepared(json!([
        {"External_Id__c": "NEW-1", "FirstName": "No last name"},
        {"External_Id__c": "OLD-1", "FirstName": "Update only"},
        {"External_Id__c": "LONG-1", "LastName": "x".repeat(81)},
    ]));
    let staged: HashSet<String> = ["OLD-1".to_owned()].into();
    let set = mappings();
    let mapping = set.get("default", "Contact").unwrap();
    validate(&mut batch, mapping, Some(&contact_describe()), &staged);
    let staged_ids: Vec<_> = batch
        .rows
        .iter()
        .map(|(r, _)| r.external_id.as_str())
        .collect();
    assert_eq!(staged_ids, ["OLD-1"]);
    let rules = rules(&batch);
    assert!(
        rules.contains(&(Some(0), "LastName", "required")),
        "{rules:?}"
    );
    assert!(
        rules.contains(&(Some(2), "LastName", "too_long")),
        "{rules:?}"
    );
    let too_long = batch
        .problems
        .iter()
        .find(|p| p.rule == "too_long")
        .unwrap();
    assert!(
        too_long.message.contains("STRING_TOO_LONG"),
        "{}",
        too_long.message
    );
}

#[test]
fn a_refused_record_lists_the_mappings_and_the_describes_problems_with_its_external_id() {
    let mut batch = prepared(json!([
        {"External_Id__c": " C-9\u{200b}", "Email": "jean..dupont@exemple.fr", "LastName": "x".repeat(81)},
    ]));
    assert!(batch.problems.is_empty(), "waits for the describe");
    let set = mappings();
    let mapping = set.get("default", "Contact").unwrap();
    validate(
        &mut batch,
        mapping,
        Some(&contact_describe()),
        &HashSet::new(),
    );
    assert!(batch.rows.is_empty());
    let found: Vec<_> = batch
        .problems
        .iter()
        .map(|p| {
            (
                p.index,
                p.external_id.as_deref(),
                p.field.as_str(),
                p.salesforce_field.as_deref(),
                p.rule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (Some(0), Some("C-9"), "Email", Some("Email"), "email"),
            (
                Some(0),
                Some("C-9"),
                "LastName",
                Some("LastName"),
                "too_long"
            ),
        ]
    );
}

#[test]
fn a_record_with_a_key_given_twice_is_refused_alone_naming_the_key() {
    let set = mappings();
    let mapping = set.get("default", "Contact").unwrap();
    let body = br#"[{"External_Id__c": "C-1", "LastName": "A"},
                    {"External_Id__c": "C-2", "LastName": "B", "External_Id__c": "C-1"}]"#;
    let mut batch = prepare(parse_array(body).unwrap(), mapping);
    validate(&mut batch, mapping, None, &HashSet::new());
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(
        rules(&batch),
        vec![(Some(1), "External_Id__c", "duplicate_key")]
    );
}

#[test]
fn an_external_id_must_be_text_without_controls_or_an_exact_integer() {
    let body = br#"[{"External_Id__c": 42, "LastName": "A"},
                    {"External_Id__c": 1.0, "LastName": "A"},
                    {"External_Id__c": 1e3, "LastName": "A"},
                    {"External_Id__c": 18446744073709551616, "LastName": "A"},
                    {"External_Id__c": "C-5\r\n", "LastName": "A"},
                    {"External_Id__c": "C\u00006", "LastName": "A"},
                    {"External_Id__c": true, "LastName": "A"},
                    {"External_Id__c": -8, "LastName": "A"}]"#;
    let set = mappings();
    let mapping = set.get("default", "Contact").unwrap();
    let mut batch = prepare(parse_array(body).unwrap(), mapping);
    validate(&mut batch, mapping, None, &HashSet::new());
    let ids: Vec<&str> = batch
        .rows
        .iter()
        .map(|(r, _)| r.external_id.as_str())
        .collect();
    assert_eq!(ids, vec!["42", "-8"]);
    let field = "External_Id__c";
    assert_eq!(
        rules(&batch),
        vec![
            (Some(1), field, "type"),
            (Some(2), field, "type"),
            (Some(3), field, "type"),
            (Some(4), field, "control_character"),
            (Some(5), field, "control_character"),
            (Some(6), field, "type"),
        ]
    );
    assert!(
        batch.problems[3].message.contains("U+000D"),
        "{:?}",
        batch.problems[3]
    );
}
