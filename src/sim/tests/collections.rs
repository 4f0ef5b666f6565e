use axum::http::{Method, StatusCode};
use serde_json::json;

use super::*;

fn contact(ext: &str, extra: Value) -> Value {
    let mut c =
        json!({"attributes": {"type": "Contact"}, "External_Id__c": ext, "LastName": "Doe"});
    for (k, v) in extra.as_object().expect("object") {
        c[k] = v.clone();
    }
    c
}

async fn first_error(sim: &Simulator, token: &str, record: Value) -> Value {
    let res = upsert(sim, token, "Contact", "External_Id__c", false, vec![record]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let row = &res.json()[0];
    assert_eq!(row["success"], false, "{row}");
    row["errors"][0].clone()
}

#[tokio::test]
async fn upsert_inserts_then_updates_with_merged_fields() {
    let sim = sim();
    let token = login(&sim).await;
    let res = upsert(&sim, &token, "Account", "External_Id__c", false, vec![json!({"attributes": {"type": "Account"}, "External_Id__c": "A-1", "Name": "Acme", "Phone": "1"})]).await;
    assert_eq!(res.status, StatusCode::OK);
    let row = &res.json()[0];
    let id = row["id"].as_str().expect("id");
    assert_eq!((id.len(), &id[..3]), (18, "001"));
    assert_eq!(
        row,
        &json!({"id": id, "success": true, "errors": [], "created": true})
    );
    let res = upsert(
        &sim,
        &token,
        "Account",
        "external_id__c",
        false,
        vec![json!({"attributes": {"type": "Account"}, "External_Id__c": "a-1", "Name": "Acme 2"})],
    )
    .await;
    assert_eq!(
        res.json()[0],
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let stored = sim
        .record_by_external_id("Account", "External_Id__c", "A-1")
        .expect("stored");
    assert_eq!(
        (stored["Name"].as_str(), stored["Phone"].as_str()),
        (Some("Acme 2"), Some("1"))
    );
}

#[tokio::test]
async fn per_record_validation_uses_salesforce_status_codes() {
    let sim = sim();
    let token = login(&sim).await;
    let cases = [
        (
            contact("C-1", json!({"Nickname__c": "x"})),
            "INVALID_FIELD",
            "No such column 'Nickname__c' on sobject of type Contact",
        ),
        (
            contact("C-1", json!({"CreatedDate": "2020-01-01T00:00:00Z"})),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            "",
        ),
        (
            contact("C-1", json!({"Id": "003000000000001"})),
            "INVALID_FIELD",
            "The Id field should not be specified in the sobject data.",
        ),
        (
            json!({"attributes": {"type": "Contact"}, "External_Id__c": "C-1"}),
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LastName]",
        ),
        (
            contact("C-1", json!({"FirstName": "x".repeat(41)})),
            "STRING_TOO_LONG",
            "",
        ),
        (
            contact("C-1", json!({"Email": "Not a real email address"})),
            "INVALID_EMAIL_ADDRESS",
            "Email: invalid email address: Not a real email address",
        ),
        (
            contact("C-1", json!({"MailingCountryCode": "de"})),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "Mailing Country Code: bad value for restricted picklist field: de",
        ),
        (
            json!({"attributes": {"type": "Contact"}, "LastName": "Doe"}),
            "MISSING_ARGUMENT",
            "External_Id__c not specified",
        ),
        (
            contact("C-1", json!({"AccountId": "001abc"})),
            "MALFORMED_ID",
            "Account ID: id value of incorrect type: 001abc",
        ),
        (
            contact("C-1", json!({"Account": {"External_Id__c": "A-404"}})),
            "INVALID_FIELD",
            "Foreign key external ID: A-404 not found for field External_Id__c in entity Account",
        ),
    ];
    for (record, code, message) in cases {
        let err = first_error(&sim, &token, record).await;
        assert_eq!(err["statusCode"], code, "{err}");
        if !message.is_empty() {
            assert_eq!(err["message"], message);
        }
        assert!(err["fields"].is_array());
    }
    assert!(sim.records("Contact").is_empty());
}

#[tokio::test]
async fn parent_references_by_external_id_resolve_to_the_parent_id() {
    let sim = sim();
    let token = login(&sim).await;
    let acc = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "Acme")],
    )
    .await
    .json();
    let res = upsert(
        &sim,
        &token,
        "Contact",
        "External_Id__c",
        false,
        vec![contact(
            "C-1",
            json!({"Account": {"External_Id__c": "A-1"}}),
        )],
    )
    .await
    .json();
    assert_eq!(res[0]["success"], true, "{res}");
    let c = sim
        .record_by_external_id("Contact", "External_Id__c", "C-1")
        .expect("contact");
    assert_eq!(c["AccountId"], acc[0]["id"]);
    let inv = json!({"attributes": {"type": "Invoice__c"}, "Invoice_Number__c": "INV-1", "Amount__c": 12.345, "Status__c": "Paid",
        "Issue_Date__c": "2026-01-31", "Contact__r": {"External_Id__c": "C-1"}, "Account__r": {"External_Id__c": "A-1"}});
    let res = upsert(
        &sim,
        &token,
        "Invoice__c",
        "Invoice_Number__c",
        false,
        vec![inv],
    )
    .await
    .json();
    assert_eq!(res[0]["success"], true, "{res}");
    let stored = sim
        .record_by_external_id("Invoice__c", "Invoice_Number__c", "INV-1")
        .expect("invoice");
    assert_eq!(
        (stored["Amount__c"].as_f64(), stored["Contact__c"].clone()),
        (Some(12.35), c["Id"].clone())
    );
    assert!(stored["Id"].as_str().expect("id").starts_with("a0X"));
}

#[tokio::test]
async fn a_key_repeated_in_one_request_fails_every_row_sharing_it() {
    let sim = sim();
    let token = login(&sim).await;
    let res = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![
            account("A-1", "x"),
            account("A-2", "y"),
            account("a-1", "z"),
        ],
    )
    .await
    .json();
    let dup = json!({"success": false, "errors": [{"statusCode": "DUPLICATE_VALUE", "message": "Duplicate external id specified: A-1", "fields": []}]});
    assert_eq!(res[0], dup);
    assert_eq!(res[1]["success"], true);
    assert_eq!(res[2]["errors"][0]["statusCode"], "DUPLICATE_VALUE");
}

#[tokio::test]
async fn all_or_none_rolls_back_the_good_rows() {
    let sim = sim();
    let token = login(&sim).await;
    let res = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        true,
        vec![
            account("A-1", "ok"),
            json!({"attributes": {"type": "Account"}, "External_Id__c": "A-2"}),
        ],
    )
    .await
    .json();
    assert_eq!(
        res[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(res[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert!(sim.records("Account").is_empty());
}

#[tokio::test]
async fn malformed_requests_fail_as_a_whole() {
    let sim = sim();
    let token = login(&sim).await;
    let path = format!("{V}/composite/sobjects/Account/External_Id__c");
    let raw = Request::patch(&path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from("{not json"))
        .expect("request");
    let reply = send(&sim, raw).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR")
    );
    let reply = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![json!({"Name": "x", "External_Id__c": "A"})],
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_TYPE")
    );
    let reply = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![json!({"attributes": {"type": "Contact"}, "External_Id__c": "A"})],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = upsert(
        &sim,
        &token,
        "Contact",
        "External_Id__c",
        false,
        vec![contact("C", json!({"Birthdate": "31/01/2000"}))],
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR")
    );
    let many: Vec<Value> = (0..201).map(|i| account(&format!("A-{i}"), "x")).collect();
    let reply = upsert(&sim, &token, "Account", "External_Id__c", false, many).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "EXCEEDED_ID_LIMIT")
    );
    let reply = upsert(
        &sim,
        &token,
        "Account",
        "Name__c",
        false,
        vec![account("A", "x")],
    )
    .await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::NOT_FOUND, "NOT_FOUND")
    );
    let reply = upsert(
        &sim,
        &token,
        "Account",
        "Phone",
        false,
        vec![account("A", "x")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(sim.records("Account").is_empty());
}

#[tokio::test]
async fn delete_reports_each_id_in_order() {
    let sim = sim();
    let token = login(&sim).await;
    let res = upsert(
        &sim,
        &token,
        "Account",
        "External_Id__c",
        false,
        vec![account("A-1", "x"), account("A-2", "y")],
    )
    .await
    .json();
    let (a, b) = (
        res[0]["id"].as_str().expect("id"),
        res[1]["id"].as_str().expect("id"),
    );
    let never = crate::sim::ids::generate("001", 777);
    let del = |ids: String| format!("{V}/composite/sobjects?ids={ids}&allOrNone=false");
    let out = call(
        &sim,
        &token,
        Method::DELETE,
        &del(format!("{a},bad-id,{never}")),
        None,
    )
    .await
    .json();
    assert_eq!(out[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(out[1]["errors"][0]["statusCode"], "MALFORMED_ID");
    assert_eq!(
        out[2]["errors"][0]["statusCode"],
        "INVALID_CROSS_REFERENCE_KEY"
    );
    let out = call(&sim, &token, Method::DELETE, &del(a.to_string()), None)
        .await
        .json();
    assert_eq!(out[0]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    let reply = call(
        &sim,
        &token,
        Method::DELETE,
        &format!("{V}/composite/sobjects?ids={b},{a}&allOrNone=true"),
        None,
    )
    .await
    .json();
    assert_eq!(
        reply[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(sim.records("Account").len(), 1);
    let ids: Vec<String> = (0..201)
        .map(|i| crate::sim::ids::generate("001", i))
        .collect();
    let reply = call(
        &sim,
        &token,
        Method::DELETE,
        &format!("{V}/composite/sobjects?ids={}", ids.join(",")),
        None,
    )
    .await;
    assert_eq!(reply.error_code(), "EXCEEDED_ID_LIMIT");
}
