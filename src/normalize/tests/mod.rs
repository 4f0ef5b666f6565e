//! Module-level tests: mapping files, describe checks, record validation, and the example
//! mappings end to end. Describes are built from JSON shaped like Salesforce's answer, mirroring
//! the simulator's schema (src/sim/schema.rs).

mod check;
mod erp_fr;
mod nested;
mod parse;
mod pipeline;
mod real_exports;
mod validate;

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::salesforce::SObjectDescribe;

/// A writable, nillable field of `ty`; `extra` overrides any key.
fn field(name: &str, ty: &str, extra: Value) -> Value {
    let mut f = json!({
        "name": name, "label": name, "type": ty, "length": 0, "nillable": true,
        "createable": true, "updateable": true, "defaultedOnCreate": false,
    });
    if let (Some(f), Value::Object(extra)) = (f.as_object_mut(), extra) {
        f.extend(extra);
    }
    f
}

fn text(name: &str, length: u32) -> Value {
    field(name, "string", json!({"length": length}))
}

fn picklist(name: &str, values: &[&str], restricted: bool) -> Value {
    let values: Vec<Value> = values
        .iter()
        .map(|v| json!({"active": true, "value": v, "label": v}))
        .collect();
    field(
        name,
        "picklist",
        json!({"length": 255, "picklistValues": values, "restrictedPicklist": restricted}),
    )
}

fn external_id(name: &str, length: u32) -> Value {
    field(
        name,
        "string",
        json!({"length": length, "externalId": true, "idLookup": true, "unique": true}),
    )
}

fn lookup(name: &str, to: &str, relationship: &str) -> Value {
    field(
        name,
        "reference",
        json!({"length": 18, "referenceTo": [to], "relationshipName": relationship}),
    )
}

fn system_id() -> Value {
    field(
        "Id",
        "id",
        json!({"length": 18, "nillable": false, "createable": false, "updateable": false, "defaultedOnCreate": true, "idLookup": true}),
    )
}

fn describe(name: &str, fields: Vec<Value>) -> SObjectDescribe {
    serde_json::from_value(json!({"name": name, "label": name, "createable": true, "updateable": true, "fields": fields}))
        .expect("test describe parses")
}

const COUNTRY_CODES: &[&str] = &[
    "AT", "AU", "BE", "BR", "CA", "CH", "CN", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "HU",
    "IE", "IN", "IT", "JP", "KR", "LU", "MX", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "US",
    "ZA",
];

fn account() -> SObjectDescribe {
    describe(
        "Account",
        vec![
            system_id(),
            field(
                "Name",
                "string",
                json!({"length": 255, "nillable": false, "idLookup": true}),
            ),
            text("AccountNumber", 40),
            field("Phone", "phone", json!({"length": 40})),
            field("Website", "url", json!({"length": 255})),
            picklist(
                "Industry",
                &[
                    "Banking",
                    "Consulting",
                    "Healthcare",
                    "Manufacturing",
                    "Retail",
                    "Transportation",
                    "Other",
                ],
                false,
            ),
            field("BillingStreet", "textarea", json!({"length": 255})),
            text("BillingCity", 40),
            text("BillingPostalCode", 20),
            text("BillingCountry", 80),
            picklist("BillingCountryCode", COUNTRY_CODES, true),
            external_id("External_Id__c", 64),
        ],
    )
}

fn contact() -> SObjectDescribe {
    describe(
        "Contact",
        vec![
            system_id(),
            text("FirstName", 40),
            field(
                "LastName",
                "string",
                json!({"length": 80, "nillable": false}),
            ),
            field("Email", "email", json!({"length": 80, "idLookup": true})),
            field("Phone", "phone", json!({"length": 40})),
            field("MobilePhone", "phone", json!({"length": 40})),
            field("Birthdate", "date", json!({})),
            lookup("AccountId", "Account", "Account"),
            picklist("MailingCountryCode", COUNTRY_CODES, true),
            picklist(
                "LeadSource",
                &[
                    "Web",
                    "Phone Inquiry",
                    "Partner Referral",
                    "Purchased List",
                    "Other",
                ],
                false,
            ),
            external_id("External_Id__c", 64),
        ],
    )
}

fn invoice() -> SObjectDescribe {
    describe(
        "Invoice__c",
        vec![
            system_id(),
            field(
                "Name",
                "string",
                json!({"length": 80, "nillable": false, "defaultedOnCreate": true, "idLookup": true}),
            ),
            external_id("Invoice_Number__c", 40),
            field(
                "Amount__c",
                "currency",
                json!({"precision": 16, "scale": 2}),
            ),
            picklist("Currency__c", &["EUR", "USD", "GBP", "CHF"], false),
            picklist("Status__c", &["Draft", "Sent", "Paid", "Cancelled"], true),
            field("Issue_Date__c", "date", json!({})),
            field("Due_Date__c", "date", json!({})),
            lookup("Contact__c", "Contact", "Contact__r"),
            lookup("Account__c", "Account", "Account__r"),
            field(
                "CreatedDate",
                "datetime",
                json!({"nillable": false, "createable": false, "updateable": false, "defaultedOnCreate": true}),
            ),
        ],
    )
}

fn org() -> HashMap<String, SObjectDescribe> {
    [account(), contact(), invoice()]
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect()
}

fn record(v: Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("test records are objects, not {other}"),
    }
}
