use axum::http::StatusCode;
use chrono::Duration;

use super::query::{get, names};
use super::*;

fn param(t: chrono::DateTime<chrono::Utc>) -> String {
    url::form_urlencoded::byte_serialize(t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string().as_bytes())
        .collect()
}

#[tokio::test]
async fn get_updated_lists_ids_changed_in_the_window_and_where_to_resume() {
    let sim = sim();
    let token = login(&sim).await;
    let start = sim.now() - Duration::minutes(1);
    let ids = sim.seed("Account", &names("A", 2)).expect("seeds");
    sim.advance_clock(std::time::Duration::from_secs(120));
    let end = sim.now() + Duration::hours(1);

    let reply = get(
        &sim,
        &token,
        &format!(
            "{V}/sobjects/Account/updated/?start={}&end={}",
            param(start),
            param(end)
        ),
    )
    .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["ids"], serde_json::json!(ids));
    let covered = body["latestDateCovered"].as_str().expect("covered");
    assert!(
        covered.ends_with(":00.000+0000"),
        "whole minutes: {covered}"
    );
    assert!(
        covered < crate::sim::clock::format(end).as_str(),
        "not past now"
    );
    assert_eq!(sim.calls_by_kind()["sobject_updated"], 1);
}

#[tokio::test]
async fn get_deleted_lists_deletions_with_their_dates() {
    let sim = sim();
    let token = login(&sim).await;
    let start = sim.now() - Duration::minutes(1);
    let contact = serde_json::json!({"LastName": "Lovelace", "External_Id__c": "C-1"});
    let ids = sim
        .seed(
            "Contact",
            &[contact.as_object().cloned().unwrap_or_default()],
        )
        .expect("seeds");
    sim.delete_as_user("Contact", &ids).expect("deletes");
    sim.advance_clock(std::time::Duration::from_secs(120));
    let end = sim.now();

    let body = get(
        &sim,
        &token,
        &format!(
            "{V}/sobjects/Contact/deleted/?start={}&end={}",
            param(start),
            param(end)
        ),
    )
    .await
    .json();

    assert_eq!(body["deletedRecords"][0]["id"], ids[0].as_str(), "{body}");
    assert!(
        body["deletedRecords"][0]["deletedDate"]
            .as_str()
            .is_some_and(|d| d.ends_with("+0000"))
    );
    assert!(body["earliestDateAvailable"].is_string());
    assert!(body["latestDateCovered"].is_string());
}

#[tokio::test]
async fn replication_windows_are_checked() {
    let sim = sim();
    let token = login(&sim).await;
    let now = sim.now();
    let updated = |start, end| {
        format!(
            "{V}/sobjects/Account/updated/?start={}&end={}",
            param(start),
            param(end)
        )
    };
    for (path, code) in [
        (
            updated(now, now - Duration::hours(1)),
            "INVALID_REPLICATION_DATE",
        ),
        (
            updated(now - Duration::days(31), now),
            "INVALID_REPLICATION_DATE",
        ),
        (
            format!(
                "{V}/sobjects/Account/deleted/?start={}&end={}",
                param(now - Duration::days(16)),
                param(now)
            ),
            "INVALID_REPLICATION_DATE",
        ),
        (
            format!("{V}/sobjects/Account/updated/?start=yesterday&end=today"),
            "INVALID_REPLICATION_DATE",
        ),
        (format!("{V}/sobjects/Account/updated/"), "MISSING_ARGUMENT"),
    ] {
        let reply = get(&sim, &token, &path).await;
        assert_eq!(
            (reply.status, reply.error_code()),
            (StatusCode::BAD_REQUEST, code.to_string()),
            "{path}"
        );
    }
    let reply = get(
        &sim,
        &token,
        &updated(now - Duration::hours(2), now).replace("Account", "Nope"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
