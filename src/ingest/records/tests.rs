use serde_json::json;

use super::*;

fn contact() -> ObjectSpec {
    ObjectSpec {
        name: "Contact".into(),
        external_id_field: "External_Id__c".into(),
    }
}

fn parse(value: serde_json::Value) -> ParsedBatch {
    parse_batch(value.to_string().as_bytes(), &contact()).expect("a batch")
}

fn rules(batch: &ParsedBatch) -> Vec<(Option<usize>, &str, &str)> {
    batch
        .problems
        .iter()
        .map(|p| (p.index, p.field.as_str(), p.rule.as_str()))
        .collect()
}

#[test]
fn a_body_that_is_not_a_batch_is_refused_whole() {
    let spec = contact();
    assert_eq!(parse_batch(b"{not json", &spec).unwrap_err().rule, "json");
    assert_eq!(parse_batch(b"{\"a\":1}", &spec).unwrap_err().rule, "type");
    assert_eq!(parse_batch(b"[]", &spec).unwrap_err().rule, "empty");
    let many = serde_json::to_vec(&vec![json!({}); MAX_RECORDS_PER_REQUEST + 1]).unwrap();
    assert_eq!(parse_batch(&many, &spec).unwrap_err().rule, "too_many");
}

#[test]
fn valid_records_are_trimmed_and_keep_the_external_id() {
    let batch = parse(json!([{"External_Id__c": "  C-1 ", "LastName": " Durand ", "Age__c": 4}]));
    assert!(batch.problems.is_empty());
    let (row, indexes) = &batch.rows[0];
    assert_eq!(row.external_id, "C-1");
    assert_eq!(indexes, &[0]);
    assert_eq!(row.fields["LastName"], json!("Durand"));
    assert_eq!(row.fields["External_Id__c"], json!("C-1"));
    assert_eq!(row.fields["Age__c"], json!(4));
}

#[test]
fn an_integer_external_id_becomes_a_string() {
    let batch = parse(json!([{"External_Id__c": 42, "LastName": "X"}]));
    assert_eq!(batch.rows[0].0.external_id, "42");
}

#[test]
fn each_bad_record_is_reported_with_its_index_field_and_rule() {
    let batch = parse(json!([
        {"External_Id__c": "ok", "LastName": "A"},
        "not an object",
        {"LastName": "no id"},
        {"External_Id__c": "   "},
        {"External_Id__c": ["x"]},
        {"External_Id__c": "x".repeat(256)},
        {"External_Id__c": "C-5", "Id": "003000000000001AAA"},
        {"External_Id__c": "C-6", "bad name": 1},
        {"External_Id__c": "C-7", "Tags__c": ["a"]},
        {"External_Id__c": "C-8", "Account": {"External_Id__c": "A-1", "Other": "x"}},
        {"External_Id__c": "C-9", "Account": {"External_Id__c": 5}},
    ]));
    assert_eq!(batch.total, 11);
    assert_eq!(batch.rows.len(), 1);
    assert_eq!(
        rules(&batch),
        vec![
            (Some(1), "record", "type"),
            (Some(2), "External_Id__c", "required"),
            (Some(3), "External_Id__c", "required"),
            (Some(4), "External_Id__c", "type"),
            (Some(5), "External_Id__c", "too_long"),
            (Some(6), "Id", "not_allowed"),
            (Some(7), "bad name", "field_name"),
            (Some(8), "Tags__c", "type"),
            (Some(9), "Account", "reference"),
            (Some(10), "Account", "reference"),
        ]
    );
    assert_eq!(batch.problems[5].external_id.as_deref(), Some("C-5"));
}

#[test]
fn a_parent_reference_by_external_id_is_kept() {
    let batch = parse(json!([{"External_Id__c": "C-1", "Account": {"External_Id__c": " A-1 "}}]));
    assert_eq!(
        batch.rows[0].0.fields["Account"],
        json!({"External_Id__c": "A-1"})
    );
}

#[test]
fn repeated_external_ids_merge_field_by_field_last_wins() {
    let batch = parse(json!([
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
