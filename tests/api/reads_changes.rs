//! Internal apps hear of changes: `GET /v1/objects/{object}/changes?since=` with a cursor that
//! outlives the process, and `NOTIFY sluice_changes_<object>` for SQL listeners.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use sqlx::postgres::PgListener;

use crate::helpers::{TestHub, eventually, token};
use crate::reads_support::{
    Dyno, contact, contact_reads, edit_in_salesforce, first_load_done, hub,
};

async fn changes(hub: &TestHub, since: Option<&str>, limit: u32) -> Value {
    let mut path = format!("/v1/objects/Contact/changes?limit={limit}");
    if let Some(s) = since {
        path.push_str(&format!("&since={s}"));
    }
    let answer = hub.get(&path).await;
    assert_eq!(answer.status(), 200);
    answer.json().await.expect("json")
}

fn ids(page: &Value) -> Vec<String> {
    page["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["external_id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[sqlx::test]
async fn changes_page_by_a_cursor_that_survives_a_restart(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), true).await;
    let records: Vec<Value> = (0..3)
        .map(|i| contact(&format!("H-{i}"), "From the hub"))
        .collect();
    assert_eq!(
        hub.post_records("Contact", &Value::Array(records))
            .await
            .status(),
        202
    );

    // The feed never passes a transaction still running anywhere in the cluster (tests running
    // beside this one hold some open for seconds): wait until it shows the committed records.
    let mut first = changes(&hub, None, 2).await;
    for _ in 0..100 {
        if !ids(&first).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        first = changes(&hub, None, 2).await;
    }
    assert_eq!(ids(&first), ["H-0", "H-1"]);
    assert_eq!(first["more"], true);
    assert_eq!(first["changes"][0]["origin"], "hub");
    let second = changes(&hub, first["next"].as_str(), 2).await;
    assert_eq!(ids(&second), ["H-2"]);
    assert_eq!(second["more"], false);
    let cursor = second["next"].as_str().expect("next").to_owned();
    let pool = hub.pool.clone();
    hub.stop().await.expect("stopped");

    // Another process, the same database: the cursor goes on where it was.
    let hub = TestHub::start_with(
        pool,
        &[
            ("PUSH_ENABLED", "false"),
            ("READ_ENABLED", "false"),
            ("SLUICE_READS_FILE", &contact_reads(1)),
        ],
    )
    .await;
    assert!(ids(&changes(&hub, Some(&cursor), 10).await).is_empty());
    let dyno = Dyno::start(&hub, "web.1");
    first_load_done(&hub.pool, "Contact").await;
    edit_in_salesforce(&hub, contact("S-1", "From Salesforce"));
    eventually(Duration::from_secs(15), || async {
        !ids(&changes(&hub, Some(&cursor), 10).await).is_empty()
    })
    .await;
    let page = changes(&hub, Some(&cursor), 10).await;
    assert_eq!(ids(&page), ["S-1"]);
    assert_eq!(page["changes"][0]["origin"], "salesforce");
    assert_eq!(page["changes"][0]["fields"]["LastName"], "From Salesforce");
    assert!(page["changes"][0]["salesforce_id"].is_string());
    dyno.halt().await;
}

#[sqlx::test]
async fn bad_cursors_and_limits_are_named_and_the_scope_is_records_read(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), false).await;
    for (query, field) in [
        ("since=banana", "since"),
        ("since=1-2-3", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
    ] {
        let answer = hub
            .get(&format!("/v1/objects/Contact/changes?{query}"))
            .await;
        assert_eq!(answer.status(), 400, "{query}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }
    let answer = hub
        .http
        .get(format!("{}/v1/objects/Contact/changes", hub.url))
        .bearer_auth(token("records:write"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);
    assert_eq!(hub.get("/v1/objects/Lead/changes").await.status(), 404);
}

#[sqlx::test]
async fn sql_listeners_hear_of_changes_on_the_objects_channel(pool: PgPool) {
    let hub = hub(pool, &contact_reads(1), true).await;
    let mut listener = PgListener::connect_with(&hub.pool).await.expect("listener");
    listener
        .listen("sluice_changes_contact")
        .await
        .expect("listen");

    assert_eq!(
        hub.post_records("Contact", &json!([contact("N-1", "Hub")]))
            .await
            .status(),
        202
    );
    let heard = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a notification")
        .expect("received");
    assert_eq!(heard.payload(), "hub");

    let dyno = Dyno::start(&hub, "web.1");
    edit_in_salesforce(&hub, contact("N-2", "Salesforce"));
    let heard = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            let n = listener.recv().await.expect("received");
            if n.payload() == "salesforce" {
                return n;
            }
        }
    })
    .await
    .expect("a notification of the read");
    assert_eq!(heard.channel(), "sluice_changes_contact");
    dyno.halt().await;
}
