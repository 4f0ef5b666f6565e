//! The shipped mappings (mappings/*.toml) end to end.

use std::path::Path;

use serde_json::json;

use super::{org, record};
use crate::normalize::{FieldIssue, MappingSet, validate_record};

fn shipped() -> MappingSet {
    MappingSet::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings"))
        .expect("shipped mappings load")
}

#[test]
fn shipped_mappings_load_and_match_the_org() {
    let set = shipped();
    assert_eq!(set.sources().collect::<Vec<_>>(), ["default", "erp-fr"]);
    assert_eq!(set.objects(), ["Account", "Contact", "Invoice__c"]);
    assert_eq!(set.check_against(&org()), Ok(()));
    let invoice = set.get("erp-fr", "Invoice__c").expect("mapped");
    assert_eq!(invoice.external_id_field(), "Invoice_Number__c");
    assert_eq!(
        invoice.parents(),
        [("Account__r", "Account"), ("Contact__r", "Contact")]
    );
    assert!(set.get("erp-fr", "Lead").is_none());
}

#[test]
fn a_french_erp_account_becomes_a_salesforce_account() {
    let set = shipped();
    let input = record(json!({
        "code_client": " c-001 ", "raison_sociale": "  Dupont & Fils SARL ", "siren": "552 100 554",
        "telephone": "01 23 45 67 89", "site_web": "WWW.DUPONT.FR", "secteur": "Industrie",
        "adresse1": "12 rue de la Paix", "adresse2": "", "ville": "PARIS", "code_postal": "75002",
        "pays": "France", "colonne_inutile": "ignored: erp-fr is not strict",
    }));
    let out = set
        .get("erp-fr", "Account")
        .expect("mapped")
        .apply(&input)
        .expect("valid");
    assert_eq!(
        serde_json::Value::Object(out.clone()),
        json!({
            "External_Id__c": "C-001", "Name": "Dupont & Fils SARL", "AccountNumber": "552 100 554",
            "Phone": "+33123456789", "Website": "www.dupont.fr", "Industry": "Manufacturing",
            "BillingStreet": "12 rue de la Paix", "BillingCity": "Paris", "BillingPostalCode": "75002",
            "BillingCountryCode": "FR",
        })
    );
    assert_eq!(validate_record(&org()["Account"], &out, true), []);
}

#[test]
fn a_french_erp_contact_and_invoice_reference_their_parents() {
    let set = shipped();
    let contact = record(json!({
        "code_contact": "ct-9", "code_client": "c-001", "prenom": "jean-pierre", "nom": "DUPONT",
        "email": "  JEAN-PIERRE.DUPONT@DUPONT.FR ", "portable": "06 12 34 56 78",
        "date_naissance": "07/03/1980", "pays": "Allemagne",
    }));
    let out = set
        .get("erp-fr", "Contact")
        .expect("mapped")
        .apply(&contact)
        .expect("valid");
    assert_eq!(
        serde_json::Value::Object(out.clone()),
        json!({
            "External_Id__c": "CT-9", "FirstName": "Jean-Pierre", "LastName": "Dupont",
            "Email": "jean-pierre.dupont@dupont.fr", "MobilePhone": "+33612345678",
            "Birthdate": "1980-03-07", "MailingCountryCode": "DE", "LeadSource": "Other",
            "Account": {"External_Id__c": "C-001"},
        })
    );
    assert_eq!(validate_record(&org()["Contact"], &out, true), []);

    let invoice = record(json!({
        "numero_facture": "f-2026-0042", "code_client": "c-001", "code_contact": "ct-9",
        "montant_ttc": "1\u{202f}234,565", "statut": "Payée", "date_facture": "28/11/2026",
        "date_echeance": "28/12/2026",
    }));
    let out = set
        .get("erp-fr", "Invoice__c")
        .expect("mapped")
        .apply(&invoice)
        .expect("valid");
    assert_eq!(
        serde_json::Value::Object(out.clone()),
        json!({
            "Invoice_Number__c": "F-2026-0042", "Name": "F-2026-0042", "Amount__c": 1234.57,
            "Currency__c": "EUR", "Status__c": "Paid", "Issue_Date__c": "2026-11-28",
            "Due_Date__c": "2026-12-28", "Account__r": {"External_Id__c": "C-001"},
            "Contact__r": {"External_Id__c": "CT-9"},
        })
    );
    assert_eq!(validate_record(&org()["Invoice__c"], &out, true), []);
}

#[test]
fn every_problem_in_a_record_is_reported_at_once() {
    let set = shipped();
    let invoice = record(json!({
        "numero_facture": "F-1", "montant_ttc": "12,3,4", "statut": "payé",
        "date_facture": "31/11/2026", "date_echeance": "2026-12-28",
    }));
    let issues = set
        .get("erp-fr", "Invoice__c")
        .expect("mapped")
        .apply(&invoice)
        .unwrap_err();
    let issue = |field: &str, target: &str, rule: &str, message: &str| {
        FieldIssue::new(field, rule, message).on(target)
    };
    assert_eq!(
        issues,
        [
            issue(
                "montant_ttc",
                "Amount__c",
                "decimal",
                "\"12,3,4\" is not a fr decimal: more than one decimal separator"
            ),
            issue(
                "date_echeance",
                "Due_Date__c",
                "date",
                "\"2026-12-28\" does not match dd/mm/yyyy or dd/mm/yy or dd MMMM yyyy"
            ),
            issue(
                "date_facture",
                "Issue_Date__c",
                "date",
                "\"31/11/2026\" is not a real calendar date"
            ),
            issue(
                "statut",
                "Status__c",
                "map",
                "\"payé\" is not one of: annulée, brouillon, envoyée, payée"
            ),
            issue(
                "code_client",
                "Account__r.External_Id__c",
                "required",
                "a value is required for Account__r.External_Id__c"
            )
            .with_code("REQUIRED_FIELD_MISSING"),
        ]
    );
}

#[test]
fn the_default_mapping_is_the_identity_with_light_cleaning() {
    let set = shipped();
    let contact = set.get("default", "Contact").expect("mapped");
    let input = record(json!({
        "External_Id__c": " CT-9 ", "LastName": "Dupont ", "Email": "J.DUPONT@EXAMPLE.COM",
        "Account": {"External_Id__c": "C-001"}, "Birthdate": "1980-03-07",
    }));
    assert_eq!(
        serde_json::Value::Object(contact.apply(&input).expect("valid")),
        json!({
            "External_Id__c": "CT-9", "LastName": "Dupont", "Email": "j.dupont@example.com",
            "Birthdate": "1980-03-07", "Account": {"External_Id__c": "C-001"},
        })
    );
    let typo = record(json!({"External_Id__c": "CT-9", "LastNmae": "Dupont"}));
    assert_eq!(
        contact.apply(&typo).unwrap_err(),
        [FieldIssue::new(
            "LastNmae",
            "unknown_field",
            "the Contact mapping of source default has no rule for this field"
        )]
    );
    let invoice = set.get("default", "Invoice__c").expect("mapped");
    let out = invoice
        .apply(&record(
            json!({"Invoice_Number__c": "F-1", "Amount__c": 12.5, "Status__c": "Paid"}),
        ))
        .expect("valid");
    assert_eq!(out["Amount__c"], json!(12.5));
}
