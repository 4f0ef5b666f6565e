//! `validate_record`: one test per rule, with Salesforce's code and message.

use serde_json::json;

use super::{account, contact, invoice, record};
use crate::normalize::{FieldIssue, validate_record};

fn issue(field: &str, rule: &str, message: &str, code: &str) -> FieldIssue {
    FieldIssue::new(field, rule, message)
        .on(field)
        .with_code(code)
}

#[test]
fn unknown_fields_and_relationships() {
    let r = record(json!({"LastName": "D", "XName": "x", "Acount": {"External_Id__c": "A"}}));
    assert_eq!(
        validate_record(&contact(), &r, true),
        [
            issue(
                "Acount",
                "unknown_field",
                "No such column 'Acount' on sobject of type Contact",
                "INVALID_FIELD"
            ),
            issue(
                "XName",
                "unknown_field",
                "No such column 'XName' on sobject of type Contact",
                "INVALID_FIELD"
            ),
        ]
    );
}

#[test]
fn read_only_fields() {
    let r = record(json!({"Invoice_Number__c": "F-1", "CreatedDate": "2026-11-28T00:00:00Z"}));
    assert_eq!(
        validate_record(&invoice(), &r, false),
        [issue(
            "CreatedDate",
            "not_writable",
            "Unable to create/update fields: CreatedDate. Please check the security settings of this field and verify that it is read/write for your profile or permission set.",
            "INVALID_FIELD_FOR_INSERT_UPDATE"
        )]
    );
}

#[test]
fn text_longer_than_its_length() {
    let r = record(json!({"Name": "A", "BillingPostalCode": "x".repeat(21)}));
    assert_eq!(
        validate_record(&account(), &r, true),
        [issue(
            "BillingPostalCode",
            "too_long",
            &format!(
                "BillingPostalCode: data value too large: {} (max length=20)",
                "x".repeat(21)
            ),
            "STRING_TOO_LONG"
        )]
    );
}

#[test]
fn bad_email() {
    let r = record(json!({"LastName": "D", "Email": "Not a real email address"}));
    assert_eq!(
        validate_record(&contact(), &r, true),
        [issue(
            "Email",
            "email",
            "Email: invalid email address: Not a real email address (there is no @)",
            "INVALID_EMAIL_ADDRESS"
        )]
    );
}

#[test]
fn restricted_picklists_are_case_sensitive_and_open_ones_are_not_checked() {
    let r = record(json!({"Status__c": "paid", "Currency__c": "XAF"}));
    assert_eq!(
        validate_record(&invoice(), &r, true),
        [issue(
            "Status__c",
            "picklist",
            "Status__c: bad value for restricted picklist field: paid",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        )]
    );
}

#[test]
fn wrong_json_types() {
    let r = record(
        json!({"Amount__c": "12,50", "Issue_Date__c": "28/11/2026", "Due_Date__c": "2026-11-28"}),
    );
    assert_eq!(
        validate_record(&invoice(), &r, true),
        [
            FieldIssue::new(
                "Amount__c",
                "type",
                "Amount__c: expected a number for a currency field, got \"12,50\""
            )
            .on("Amount__c"),
            FieldIssue::new(
                "Issue_Date__c",
                "type",
                "Issue_Date__c: expected a date YYYY-MM-DD for a date field, got \"28/11/2026\""
            )
            .on("Issue_Date__c"),
        ]
    );
}

#[test]
fn numbers_beyond_precision() {
    // precision 16, scale 2: 14 integer digits at most. Extra decimals are rounded by Salesforce.
    let ok = record(json!({"Amount__c": 99_999_999_999_999.0_f64, "Due_Date__c": "2026-11-28"}));
    assert_eq!(validate_record(&invoice(), &ok, true), []);
    let r = record(json!({"Amount__c": 1.0e14}));
    assert_eq!(
        validate_record(&invoice(), &r, true),
        [issue(
            "Amount__c",
            "number_range",
            "Amount__c: value outside of valid range on numeric field: 100000000000000.0",
            "NUMBER_OUTSIDE_VALID_RANGE"
        )]
    );
}

#[test]
fn required_fields_only_on_insert_unless_nulled() {
    let r = record(json!({"FirstName": "Jean"}));
    let missing = issue(
        "LastName",
        "required",
        "Required fields are missing: [LastName]",
        "REQUIRED_FIELD_MISSING",
    );
    assert_eq!(
        validate_record(&contact(), &r, true),
        std::slice::from_ref(&missing)
    );
    assert_eq!(validate_record(&contact(), &r, false), []);
    // Nulling a required field fails on update too; a defaulted-on-create Name is not required.
    assert_eq!(
        validate_record(&contact(), &record(json!({"LastName": null})), false),
        [missing]
    );
    assert_eq!(validate_record(&invoice(), &record(json!({})), true), []);
}

#[test]
fn parents_by_external_id_stand_for_the_lookup_field() {
    let r = record(json!({"LastName": "D", "Account": {"External_Id__c": "C-001"}}));
    assert_eq!(validate_record(&contact(), &r, true), []);
    let bad = record(json!({"LastName": "D", "Account": {"External_Id__c": "C-001", "Name": "x"}}));
    assert_eq!(validate_record(&contact(), &bad, true)[0].rule, "type");
}
