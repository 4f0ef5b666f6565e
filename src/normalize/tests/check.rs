//! `check_against`: mappings compared with describe.

use super::org;
use crate::normalize::{MappingProblem, MappingSet, Misfits, ProblemKind, ValueOrigin};

fn problems(objects: &str) -> Vec<MappingProblem> {
    let set =
        MappingSet::from_toml_str("t.toml", &format!("source = \"s\"\n{objects}")).expect("loads");
    set.check_against(&org()).unwrap_err()
}

fn problem(object: &str, field: Option<&str>, kind: ProblemKind) -> MappingProblem {
    MappingProblem {
        source_name: "s".into(),
        object: object.into(),
        field: field.map(Into::into),
        kind,
        seen_in: object.into(),
    }
}

#[test]
fn fields_the_describe_lacks_or_cannot_write_are_refused() {
    let found = problems(
        r#"
        [objects.Invoice__c]
        external_id = "Invoice_Number__c"
        [objects.Invoice__c.fields]
        Invoice_Number__c = { from = "n" }
        Amount__x = { from = "a" }
        CreatedDate = { from = "c" }
        "#,
    );
    assert_eq!(
        found,
        [
            problem("Invoice__c", Some("Amount__x"), ProblemKind::UnknownField),
            problem(
                "Invoice__c",
                Some("CreatedDate"),
                ProblemKind::NotWritable("createable")
            ),
        ]
    );
    assert_eq!(
        found[0].to_string(),
        "source \"s\", object \"Invoice__c\", field \"Amount__x\": the object has no such field"
    );
}

#[test]
fn objects_keys_and_references_must_exist() {
    let found = problems(
        r#"
        [objects.Lead]
        external_id = "K"
        fields = { K = { from = "k" } }
        [objects.Contact]
        external_id = "LastName"
        fields = { LastName = { from = "n" } }
        [objects.Contact.references]
        Acount = { object = "Account", field = "External_Id__c", from = "a" }
        Account = { object = "Contact", field = "External_Id__c", from = "b" }
        "#,
    );
    assert_eq!(
        found,
        [
            problem("Contact", Some("LastName"), ProblemKind::NotExternalId),
            problem(
                "Contact",
                Some("Account"),
                ProblemKind::WrongParent {
                    expected: "Contact".into(),
                    actual: "Account".into()
                }
            ),
            problem("Contact", Some("Acount"), ProblemKind::UnknownRelationship),
            problem("Lead", None, ProblemKind::UnknownObject),
        ]
    );
}

#[test]
fn parent_keys_must_be_external_ids() {
    let found = problems(
        r#"
        [objects.Contact]
        external_id = "External_Id__c"
        fields = { External_Id__c = { from = "k" } }
        references = { Account = { object = "Account", field = "BillingCity", from = "a" } }
        "#,
    );
    // The parent's describe shows it: that is the one to read again.
    assert_eq!(
        found,
        [MappingProblem {
            seen_in: "Account".into(),
            ..problem(
                "Contact",
                Some("Account.BillingCity"),
                ProblemKind::NotExternalId,
            )
        }]
    );
}

#[test]
fn value_map_targets_must_be_active_restricted_picklist_values() {
    let found = problems(
        r#"
        [objects.Invoice__c]
        external_id = "Invoice_Number__c"
        [objects.Invoice__c.fields]
        Invoice_Number__c = { from = "n" }
        Status__c = { from = "s", transforms = [{ rule = "map", values = { "payée" = "paid", "brouillon" = "Draft" } }] }
        Currency__c = { from = "c", transforms = [{ rule = "map", values = { "euro" = "Euro" } }] }
        "#,
    );
    // Currency__c is not restricted: Salesforce accepts new values there.
    assert_eq!(
        found,
        [problem(
            "Invoice__c",
            Some("Status__c"),
            ProblemKind::InactivePicklistValue {
                value: "paid".into(),
                allowed: "Draft, Sent, Paid, Cancelled".into(),
                from: vec![ValueOrigin::Word("payée".into())],
            }
        )]
    );
}

#[test]
fn the_refusal_names_each_missing_thing_once_with_the_words_that_send_it() {
    let erp = r#"
        source = "erp-fr"
        [objects.Invoice__c]
        external_id = "Invoice_Number__c"
        [objects.Invoice__c.fields]
        Invoice_Number__c = { from = "n" }
        Amount__x = { from = "a" }
        Status__c = { from = "s", transforms = [{ rule = "map", values = { "annulée" = "Voided", "cancelled" = "Voided", "payée" = "Paid" } }] }
        "#;
    let shop = r#"
        source = "shop"
        [objects.Invoice__c]
        external_id = "Invoice_Number__c"
        [objects.Invoice__c.fields]
        Invoice_Number__c = { from = "number" }
        Amount__x = { from = "amount" }
        Status__c = { from = "status", default = "Voided", transforms = [{ rule = "map", fallback = "Voided", values = { "void" = "Voided", "paid" = "Paid" } }] }
        "#;
    let problems = [erp, shop].into_iter().flat_map(|file| {
        let set = MappingSet::from_toml_str("t.toml", file).expect("loads");
        set.check_against(&org()).unwrap_err()
    });
    let misfits = Misfits::group(problems);
    assert_eq!(
        misfits.to_string(),
        "Invoice__c.Amount__x: the object has no such field (needed by erp-fr, shop)\n\
         Invoice__c.Status__c lacks the picklist value \"Voided\" (mapped from \"annulée\", \"cancelled\" by erp-fr; \
         mapped from \"void\", any other word and sent as the default by shop); active values: Draft, Sent, Paid, Cancelled"
    );
}
