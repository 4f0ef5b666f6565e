use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use super::*;

async fn admin(sim: &Simulator, path: &str, body: Option<Value>) -> Reply {
    let req = match body {
        Some(b) => Request::post(path)
            .header("content-type", "application/json")
            .body(Body::from(b.to_string())),
        None => Request::get(path).body(Body::empty()),
    };
    send(sim, req.expect("request builds")).await
}

#[tokio::test]
async fn edits_as_a_user_create_update_and_delete_without_api_calls() {
    let sim = sim();

    let created = admin(&sim, "/__sim/edit/Account", Some(json!({"Name": "Acme"}))).await;
    let id = created.json()["id"].as_str().expect("id").to_string();
    let updated = admin(
        &sim,
        "/__sim/edit/Account",
        Some(json!({"Id": id, "Phone": "123"})),
    )
    .await;
    let deleted = admin(&sim, "/__sim/delete/Account", Some(json!({"ids": [id]}))).await;

    assert_eq!(created.json()["created"], true);
    assert_eq!(updated.json(), json!({"id": id, "created": false}));
    assert_eq!(deleted.json(), json!({"deleted": 1}));
    assert!(sim.records("Account").is_empty());
    assert_eq!(sim.api_calls(), 0);
    let events = admin(&sim, "/__sim/events", None).await.json();
    assert_eq!(
        (
            events["retained"].clone(),
            events["latest_replay_id"].clone()
        ),
        (json!(3), json!(3))
    );
}

#[tokio::test]
async fn edits_are_validated_like_api_writes() {
    let sim = sim();
    for (path, body, status) in [
        (
            "/__sim/edit/Account",
            json!({"Nope": "x"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/__sim/edit/Account",
            json!({"Phone": "1"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/__sim/edit/Nope",
            json!({"Name": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/__sim/edit/Account",
            json!({"Id": "001000000000000AAA", "Name": "x"}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/__sim/delete/Account",
            json!({"ids": ["001000000000000AAA"]}),
            StatusCode::NOT_FOUND,
        ),
        (
            "/__sim/edit/Account",
            json!(["not", "an", "object"]),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = admin(&sim, path, Some(body.clone())).await;
        assert_eq!(reply.status, status, "{path} {body}: {}", reply.text);
    }
    assert_eq!(sim.retained_events(), 0, "refused edits publish nothing");
}

#[tokio::test]
async fn the_clock_the_event_allocation_and_stats_are_reachable_over_http() {
    let sim = sim();
    let before = sim.now();

    let clock = admin(&sim, "/__sim/clock", Some(json!({"advance_secs": 3600})))
        .await
        .json();
    admin(
        &sim,
        "/__sim/event-usage",
        Some(json!({"used": 7, "max": 50})),
    )
    .await;
    let seeded = admin(
        &sim,
        "/__sim/seed/Account",
        Some(json!({"records": [{"Name": "A"}, {"Name": "B"}]})),
    )
    .await;

    let now = crate::sim::clock::parse_stored(clock["now"].as_str().expect("now")).expect("parses");
    assert!(
        now - before >= chrono::Duration::seconds(3599),
        "milliseconds are kept, not nanoseconds"
    );
    assert_eq!(
        admin(&sim, "/__sim/event-usage", None).await.json(),
        json!({"used": 7, "max": 50})
    );
    assert_eq!(seeded.json(), json!({"created": 2}));
    let stats = admin(&sim, "/__sim/stats", None).await.json();
    for family in [
        "queries",
        "query_more_pages",
        "bulk_query_calls",
        "replication_calls",
        "streaming_messages",
        "event_deliveries",
    ] {
        assert_eq!(stats["calls_by_family"][family], 0, "{family}");
    }
    assert_eq!(stats["event_usage"], json!({"used": 7, "max": 50}));
}

#[tokio::test]
async fn picklist_values_changed_in_setup_show_in_describe_and_bind_writes() {
    let sim = sim();
    let token = login(&sim).await;
    let setup = |value: &str, active: bool| {
        admin(
            &sim,
            "/__sim/setup/picklist/Invoice__c/Status__c",
            Some(json!({"value": value, "active": active})),
        )
    };
    let statuses = || async {
        let describe = call(
            &sim,
            &token,
            axum::http::Method::GET,
            &format!("{V}/sobjects/Invoice__c/describe"),
            None,
        )
        .await
        .json();
        let fields = describe["fields"].as_array().expect("fields").clone();
        let status = fields
            .into_iter()
            .find(|f| f["name"] == "Status__c")
            .expect("Status__c");
        status["picklistValues"]
            .as_array()
            .expect("values")
            .iter()
            .map(|v| {
                (
                    v["value"].as_str().unwrap_or("").to_owned(),
                    v["active"] == true,
                )
            })
            .collect::<Vec<_>>()
    };
    let write = |status: &str| {
        admin(
            &sim,
            "/__sim/edit/Invoice__c",
            Some(json!({"Invoice_Number__c": format!("I-{status}"), "Status__c": status})),
        )
    };

    assert_eq!(
        setup("Cancelled", false).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(setup("Disputed", true).await.status, StatusCode::NO_CONTENT);
    let listed = statuses().await;
    assert_eq!(
        listed,
        [
            ("Draft".to_owned(), true),
            ("Sent".to_owned(), true),
            ("Paid".to_owned(), true),
            ("Cancelled".to_owned(), false),
            ("Disputed".to_owned(), true),
        ]
    );
    let refused = write("Cancelled").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    );
    assert_eq!(write("Disputed").await.status, StatusCode::OK);

    assert_eq!(
        setup("Cancelled", true).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(statuses().await[3], ("Cancelled".to_owned(), true));
    assert_eq!(write("Cancelled").await.status, StatusCode::OK);

    let not_a_picklist = admin(
        &sim,
        "/__sim/setup/picklist/Invoice__c/Name",
        Some(json!({"value": "x", "active": true})),
    )
    .await;
    let no_field = admin(
        &sim,
        "/__sim/setup/picklist/Invoice__c/Nope__c",
        Some(json!({"value": "x", "active": true})),
    )
    .await;
    assert_eq!(
        (not_a_picklist.status, no_field.status),
        (StatusCode::BAD_REQUEST, StatusCode::NOT_FOUND)
    );
}
