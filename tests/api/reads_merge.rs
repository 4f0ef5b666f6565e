//! No lost update: a hub change made while a read was in flight is not overwritten by the older
//! Salesforce value the read fetched, field by field; the rest of Salesforce's version is kept.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sluice::config::reads::ReadObject;
use sluice::read::rows::Batch;
use sluice::salesforce::SalesforceClient;
use sluice::staging::{self, ObjectName};
use sqlx::PgPool;

use crate::helpers::{TestHub, drain};
use crate::reads_support::{contact, contact_reads, hub, staged};

async fn db_now(pool: &PgPool) -> DateTime<Utc> {
    sqlx::query_scalar("SELECT now()")
        .fetch_one(pool)
        .await
        .unwrap()
}

fn contact_read(hub: &TestHub) -> ReadObject {
    hub.config.reads.objects[0].clone()
}

/// What a read fetches for `external_id`: the record as Salesforce has it now (one query).
async fn fetch(hub: &TestHub, external_id: &str) -> Batch {
    let client = SalesforceClient::new(hub.config.salesforce.clone()).expect("client");
    let page = client
        .query(&format!(
            "SELECT Id, SystemModstamp, IsDeleted, External_Id__c, LastName, Email FROM Contact \
             WHERE External_Id__c = '{external_id}'"
        ))
        .await
        .expect("query");
    Batch::from_query(&contact_read(hub), page.records)
}

async fn store(hub: &TestHub, batch: &Batch, started_at: DateTime<Utc>) {
    let object = ObjectName::parse("Contact").unwrap();
    let stamp = Batch::stamp(started_at, &batch.live_stamps);
    staging::store_read(&hub.pool, &object, &batch.live, &stamp)
        .await
        .expect("stored");
}

async fn edit_in_hub(hub: &TestHub, external_id: &str, last_name: &str) {
    let mut record = contact(external_id, last_name);
    record["LastName"] = json!(last_name);
    assert_eq!(
        hub.post_records("Contact", &json!([record])).await.status(),
        202
    );
}

fn in_salesforce(hub: &TestHub, external_id: &str) -> serde_json::Map<String, Value> {
    hub.sim
        .sim
        .record_by_external_id("Contact", "External_Id__c", external_id)
        .expect("in Salesforce")
}

#[sqlx::test]
async fn a_hub_edit_not_yet_pushed_survives_a_read_and_salesforces_other_fields_are_kept(
    pool: PgPool,
) {
    let hub = hub(pool, &contact_reads(60), false).await;
    edit_in_hub(&hub, "M-1", "Hub one").await;
    drain(&hub.pusher("t")).await;
    let id = in_salesforce(&hub, "M-1")["Id"].clone();
    hub.sim
        .sim
        .edit_as_user(
            "Contact",
            &crate::reads_support::fields(json!({"Id": id, "Email": "changed@salesforce.example"})),
        )
        .expect("edited");

    let started_at = db_now(&hub.pool).await;
    let fetched = fetch(&hub, "M-1").await;
    edit_in_hub(&hub, "M-1", "Hub two").await; // while the read is in flight
    store(&hub, &fetched, started_at).await;

    let (fields, origin, status) = staged(&hub.pool, "M-1").await.expect("row");
    assert_eq!(fields["LastName"], "Hub two", "the hub's change survives");
    assert_eq!(
        fields["Email"], "changed@salesforce.example",
        "Salesforce's change is kept"
    );
    assert_eq!((origin.as_str(), status.as_str()), ("hub", "pending"));
    drain(&hub.pusher("t")).await;
    let now = in_salesforce(&hub, "M-1");
    assert_eq!(now["LastName"], "Hub two");
    assert_eq!(now["Email"], "changed@salesforce.example");
    assert_eq!(staged(&hub.pool, "M-1").await.expect("row").2, "synced");
}

#[sqlx::test]
async fn a_hub_edit_pushed_while_a_read_was_in_flight_is_not_overwritten(pool: PgPool) {
    let hub = hub(pool, &contact_reads(60), false).await;
    edit_in_hub(&hub, "M-2", "Hub one").await;
    drain(&hub.pusher("t")).await;

    let started_at = db_now(&hub.pool).await;
    let fetched = fetch(&hub, "M-2").await; // sees "Hub one"
    edit_in_hub(&hub, "M-2", "Hub two").await;
    drain(&hub.pusher("t")).await; // Salesforce has "Hub two" before the read stores
    let calls = hub.sim.sim.api_calls();
    store(&hub, &fetched, started_at).await;

    let (fields, _, status) = staged(&hub.pool, "M-2").await.expect("row");
    assert_eq!(
        fields["LastName"], "Hub two",
        "the older value read is not stored"
    );
    assert_eq!(status, "synced");
    drain(&hub.pusher("t")).await;
    assert_eq!(hub.sim.sim.api_calls(), calls, "nothing to push");
    assert_eq!(in_salesforce(&hub, "M-2")["LastName"], "Hub two");
}

#[sqlx::test]
async fn a_version_older_than_the_one_stored_is_ignored(pool: PgPool) {
    let hub = hub(pool, &contact_reads(60), false).await;
    let id = hub
        .sim
        .sim
        .edit_as_user(
            "Contact",
            &crate::reads_support::fields(contact("M-3", "First")),
        )
        .expect("created")
        .0;
    let first = fetch(&hub, "M-3").await;
    hub.sim.sim.advance_clock(std::time::Duration::from_secs(5));
    hub.sim
        .sim
        .edit_as_user(
            "Contact",
            &crate::reads_support::fields(json!({"Id": id, "LastName": "Second"})),
        )
        .expect("edited");
    let second = fetch(&hub, "M-3").await;
    let started_at = db_now(&hub.pool).await;

    store(&hub, &second, started_at).await;
    store(&hub, &first, started_at).await;

    let (fields, origin, _) = staged(&hub.pool, "M-3").await.expect("row");
    assert_eq!(fields["LastName"], "Second");
    assert_eq!(origin, "salesforce");
}
