//! Nested payloads (webhook events, pulled API items): paths into objects and arrays, one record
//! per array element with the event's fields at hand, and the event types an object is made from.

use serde_json::{Value, json};

use crate::normalize::MappingSet;

/// The example of mappings/README.md: an order event makes the order and one line per element.
const ORDERS: &str = r#"
source = "shop"

[objects.Order]
external_id = "External_Id__c"
on = ["order.created", "order.updated"]
records = "data.object"

[objects.Order.fields]
External_Id__c = { from = "id" }
Status = { from = "status", transforms = [{ rule = "map", values = { "paid" = "Activated" } }] }
EffectiveDate = { from = "created", transforms = [{ rule = "date", format = "yyyy-mm-dd" }] }
BillToContactEmail__c = { from = "customer.email", transforms = ["email"] }

[objects.Order.references]
Account = { object = "Account", field = "External_Id__c", from = "customer.id" }

[objects.OrderItem]
external_id = "External_Id__c"
on = "order.*"
records = "data.object.lines[*]"

[objects.OrderItem.fields]
External_Id__c = { from = ["$.data.object.id", "sku"], transforms = [{ rule = "concat", separator = "-" }] }
Quantity = { from = "quantity", transforms = ["integer"] }
UnitPrice = { from = "price.amount", transforms = [{ rule = "decimal", locale = "en" }] }
First_Line_Sku__c = { from = "$.data.object.lines[0].sku" }

[objects.OrderItem.references]
Order = { object = "Order", field = "External_Id__c", from = "$.data.object.id" }
"#;

fn event(kind: &str) -> Value {
    json!({
        "id": "evt_1", "type": kind,
        "data": {"object": {
            "id": "O-1", "status": "PAID", "created": "2026-12-07",
            "customer": {"id": "C-9", "email": "Marie@Example.com"},
            "lines": [
                {"sku": "A", "quantity": "2", "price": {"amount": "1,234.50"}},
                {"sku": "B", "quantity": 1, "price": {"amount": 3}},
            ],
        }},
    })
}

fn normalized(set: &MappingSet, object: &str, payload: &Value) -> Vec<Value> {
    let mapping = set.get("shop", object).expect("mapped");
    mapping
        .records_of(payload)
        .iter()
        .map(|r| {
            let Value::Object(r) = r else { panic!("{r}") };
            Value::Object(mapping.apply(r).expect("valid"))
        })
        .collect()
}

#[test]
fn one_event_makes_the_order_and_one_record_per_line_with_the_orders_fields() {
    let set = MappingSet::from_toml_str("shop.toml", ORDERS).expect("loads");
    let order = normalized(&set, "Order", &event("order.created"));
    assert_eq!(
        order,
        [
            json!({"External_Id__c": "O-1", "Status": "Activated", "EffectiveDate": "2026-12-07",
                "BillToContactEmail__c": "marie@example.com", "Account": {"External_Id__c": "C-9"}})
        ]
    );
    let lines = normalized(&set, "OrderItem", &event("order.created"));
    assert_eq!(
        lines,
        [
            json!({"External_Id__c": "O-1-A", "Quantity": 2, "UnitPrice": 1234.5,
                   "First_Line_Sku__c": "A", "Order": {"External_Id__c": "O-1"}}),
            json!({"External_Id__c": "O-1-B", "Quantity": 1, "UnitPrice": 3,
                   "First_Line_Sku__c": "A", "Order": {"External_Id__c": "O-1"}}),
        ]
    );
    assert_eq!(
        set.of_source("shop")
            .iter()
            .map(|m| m.object())
            .collect::<Vec<_>>(),
        ["Order", "OrderItem"],
        "parents first"
    );
}

#[test]
fn objects_take_the_event_types_they_list() {
    let set = MappingSet::from_toml_str("shop.toml", ORDERS).expect("loads");
    let (order, line) = (
        set.get("shop", "Order").unwrap(),
        set.get("shop", "OrderItem").unwrap(),
    );
    assert!(order.takes(Some("order.updated")));
    assert!(!order.takes(Some("order.deleted")));
    assert!(line.takes(Some("order.deleted")), "order.*");
    assert!(!line.takes(Some("customer.created")));
    assert!(!order.takes(None), "no type, no match when `on` is set");
    let default = MappingSet::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/mappings"
    )))
    .unwrap();
    assert!(default.get("default", "Contact").unwrap().takes(None));
}

#[test]
fn an_event_without_the_array_makes_no_line_and_a_missing_object_no_record() {
    let set = MappingSet::from_toml_str("shop.toml", ORDERS).expect("loads");
    let mut bare = event("order.created");
    bare["data"]["object"]
        .as_object_mut()
        .unwrap()
        .remove("lines");
    assert!(
        set.get("shop", "OrderItem")
            .unwrap()
            .records_of(&bare)
            .is_empty()
    );
    assert!(
        set.get("shop", "Order")
            .unwrap()
            .records_of(&json!({"type": "ping"}))
            .is_empty()
    );
}

#[test]
fn flat_records_read_dotted_and_indexed_paths_as_before() {
    let set = MappingSet::from_toml_str(
        "f.toml",
        r#"
source = "f"
[objects.Contact]
external_id = "External_Id__c"
[objects.Contact.fields]
External_Id__c = { from = "ids[0]" }
LastName = { from = "name.last" }
Email = { from = "Amount [EUR]" }
"#,
    )
    .expect("a name with brackets is still a name");
    let m = set.get("f", "Contact").unwrap();
    let record = json!({"ids": ["K-1"], "name": {"last": "Durand"}, "Amount [EUR]": "x@y.fr"});
    let Value::Object(record) = record else {
        unreachable!()
    };
    assert_eq!(
        Value::Object(m.apply(&record).unwrap()),
        json!({"External_Id__c": "K-1", "LastName": "Durand", "Email": "x@y.fr"})
    );
}

#[test]
fn bad_paths_and_event_types_are_refused_with_their_place() {
    for (bad, says) in [
        (r#"records = "lines[x]""#, "path"),
        (r#"on = []"#, "\"on\""),
        (r#"on = [1]"#, "\"on\""),
    ] {
        let text = format!(
            "source = \"s\"\n[objects.Contact]\nexternal_id = \"E__c\"\n{bad}\n[objects.Contact.fields]\nE__c = {{ from = \"e\" }}\n"
        );
        let err = MappingSet::from_toml_str("s.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("object \"Contact\"") && err.contains(says),
            "{bad}: {err}"
        );
    }
    let several = "source = \"s\"\n[objects.Contact]\nexternal_id = \"E__c\"\n[objects.Contact.fields]\nE__c = { from = \"lines[*].id\" }\n";
    let err = MappingSet::from_toml_str("s.toml", several)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field \"E__c\"") && err.contains("records"),
        "{err}"
    );
}
