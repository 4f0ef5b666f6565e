//! What the read tests share: a hub whose reads the test starts itself (as one or several
//! dynos), against the hub's simulator.

use std::time::Duration;

use serde_json::{Map, Value, json};
use sluice::describe::Describes;
use sluice::read::Reader;
use sluice::salesforce::SalesforceClient;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::helpers::{TestHub, eventually};

/// A reads file for one test.
pub fn reads_file(text: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "sluice-reads-{}.toml",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// Contacts read every `every` seconds: LastName and Email.
pub fn contact_reads(every: u64) -> String {
    reads_file(&format!(
        "[objects.Contact]\nfields = [\"LastName\", \"Email\"]\nevery = {every}\n"
    ))
}

/// A hub without its own scheduler or reads: the test runs them. `notifications` turns change
/// events on for the reads the test starts.
pub async fn hub(pool: PgPool, reads: &str, notifications: bool) -> TestHub {
    let notifications = notifications.to_string();
    TestHub::start_with(
        pool,
        &[
            ("PUSH_ENABLED", "false"),
            ("READ_ENABLED", "false"),
            ("SLUICE_READS_FILE", reads),
            ("READ_NOTIFICATIONS", &notifications),
            ("READ_OVERLAP_SECS", "5"),
            ("READ_LEASE_SECS", "5"),
        ],
    )
    .await
}

/// A reader as a dyno named `owner` would run it.
pub fn reader(hub: &TestHub, owner: &str) -> Reader {
    let client = SalesforceClient::new(hub.config.salesforce.clone()).expect("client");
    Reader::new(
        hub.pool.clone(),
        client,
        Describes::default(),
        hub.config.reads.clone(),
        owner.to_owned(),
    )
}

/// The reads of a dyno named `owner`, running until the token is cancelled.
pub struct Dyno {
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
}

impl Dyno {
    pub fn start(hub: &TestHub, owner: &str) -> Self {
        let stop = CancellationToken::new();
        let task = tokio::spawn(sluice::read::run(reader(hub, owner), stop.clone()));
        Self { stop, task }
    }

    pub async fn halt(mut self) {
        self.stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
    }
}

impl Drop for Dyno {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Waits until the object's first load is done.
pub async fn first_load_done(pool: &PgPool, object: &str) {
    eventually(Duration::from_secs(60), || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT first_load_done FROM salesforce_reads WHERE object = $1",
        )
        .bind(object)
        .fetch_optional(pool)
        .await
        .expect("reads row")
        .unwrap_or(false)
    })
    .await;
}

/// A staged row's field, origin and status.
pub async fn staged(pool: &PgPool, external_id: &str) -> Option<(Value, String, String)> {
    sqlx::query_as::<_, (sqlx::types::Json<Value>, String, String)>(
        "SELECT fields, origin, sync_status FROM staging_records WHERE object = 'Contact' AND external_id = $1",
    )
    .bind(external_id)
    .fetch_optional(pool)
    .await
    .expect("query")
    .map(|(f, o, s)| (f.0, o, s))
}

pub fn fields(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

/// A Contact edited "as a user in Salesforce" (a change event, no API call); its Id.
pub fn edit_in_salesforce(hub: &TestHub, values: Value) -> String {
    hub.sim
        .sim
        .edit_as_user("Contact", &fields(values))
        .expect("the simulator takes the edit")
        .0
}

pub fn contact(external_id: &str, last_name: &str) -> Value {
    json!({"External_Id__c": external_id, "LastName": last_name,
           "Email": format!("{}@example.com", external_id.to_lowercase())})
}
