use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::*;

pub fn names(prefix: &str, n: usize) -> Vec<Map<String, Value>> {
    (0..n)
        .map(|i| {
            let mut m = Map::new();
            m.insert("Name".into(), json!(format!("{prefix}-{i}")));
            m.insert("External_Id__c".into(), json!(format!("{prefix}-{i}")));
            m
        })
        .collect()
}

/// `2026-12-05T10:00:00.000Z`: the SOQL form of an instant.
pub fn soql_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

pub async fn get(sim: &Simulator, token: &str, path: &str) -> Reply {
    call(sim, token, Method::GET, path, None).await
}

pub fn q(soql: &str) -> String {
    url::form_urlencoded::byte_serialize(soql.as_bytes()).collect()
}

async fn get_with_batch(sim: &Simulator, token: &str, path: &str, batch: &str) -> Reply {
    let req = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .header("Sforce-Query-Options", batch)
        .body(Body::empty())
        .expect("request builds");
    send(sim, req).await
}

#[tokio::test]
async fn five_thousand_rows_page_by_next_records_url_one_call_per_page() {
    let sim = sim();
    let token = login(&sim).await;
    sim.seed("Account", &names("A", 5000)).expect("seeds");
    let soql = q("SELECT Id, Name FROM Account ORDER BY Id");

    let first = get(&sim, &token, &format!("{V}/query?q={soql}")).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let page = first.json();
    assert_eq!(page["totalSize"], 5000);
    assert_eq!(page["done"], false);
    assert_eq!(page["records"].as_array().map(Vec::len), Some(2000));
    assert_eq!(page["records"][0]["attributes"]["type"], "Account");
    let next = page["nextRecordsUrl"].as_str().expect("next").to_string();
    assert!(
        next.starts_with("/services/data/v62.0/query/01g") && next.ends_with("-2000"),
        "{next}"
    );
    let mut seen = 2000;
    let mut url = next;
    let mut pages = 1;
    while pages < 10 {
        let reply = get(&sim, &token, &url).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        let page = reply.json();
        pages += 1;
        seen += page["records"].as_array().map_or(0, Vec::len);
        match page["nextRecordsUrl"].as_str() {
            Some(n) => url = n.to_string(),
            None => {
                assert_eq!(page["done"], true);
                break;
            }
        }
    }
    assert_eq!((seen, pages), (5000, 3));
    assert_eq!(sim.api_calls(), 3, "each page is one API call");
    assert_eq!(sim.stats().families()["queries"], 1);
    assert_eq!(sim.stats().families()["query_more_pages"], 2);
}

#[tokio::test]
async fn batch_size_header_sets_the_page_and_is_held_to_200_through_2000() {
    let sim = sim();
    let token = login(&sim).await;
    sim.seed("Account", &names("A", 450)).expect("seeds");
    let path = format!("{V}/query?q={}", q("SELECT Id FROM Account"));

    let reply = get_with_batch(&sim, &token, &path, "batchSize=200").await;
    assert_eq!(reply.json()["records"].as_array().map(Vec::len), Some(200));
    for bad in [
        "batchSize=199",
        "batchSize=2001",
        "batchSize=lots",
        "pageSize=500",
    ] {
        let reply = get_with_batch(&sim, &token, &path, bad).await;
        assert_eq!(
            (reply.status, reply.error_code().as_str()),
            (StatusCode::BAD_REQUEST, "INVALID_BATCH_SIZE"),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn malformed_and_unknown_soql_is_refused_with_salesforces_codes() {
    let sim = sim();
    let token = login(&sim).await;
    for (soql, code) in [
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELEC Id FROM Account", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'",
            "MALFORMED_QUERY",
        ),
        (
            "SELECT Id FROM Account WHERE SystemModstamp > 2026-01-01T00:00:00.000+0000",
            "MALFORMED_QUERY",
        ),
        ("SELECT COUNT() FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id, Nmae FROM Account", "INVALID_FIELD"),
        (
            "SELECT Id FROM Account WHERE SystemModstamp > '2026-01-01T00:00:00Z'",
            "INVALID_FIELD",
        ),
        ("SELECT Id FROM Acount", "INVALID_TYPE"),
        (
            "SELECT Id FROM Account WHERE Id IN ('nope')",
            "INVALID_QUERY_FILTER_OPERATOR",
        ),
    ] {
        let reply = get(&sim, &token, &format!("{V}/query?q={}", q(soql))).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{soql}");
        let body = reply.json();
        assert_eq!(body[0]["errorCode"], code, "{soql}: {body}");
        assert!(
            body[0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("ERROR at Row:1:Column:"))
        );
    }
    let reply = get(&sim, &token, &format!("{V}/query")).await;
    assert_eq!(reply.error_code(), "MALFORMED_QUERY");
    let reply = get(&sim, &token, &format!("{V}/query/01gnothing-2000")).await;
    assert_eq!(
        (reply.status, reply.error_code().as_str()),
        (StatusCode::BAD_REQUEST, "INVALID_QUERY_LOCATOR")
    );
}

#[tokio::test]
async fn system_modstamp_filters_select_only_what_changed_since() {
    let sim = sim();
    let token = login(&sim).await;
    sim.seed("Account", &names("old", 3)).expect("seeds");
    sim.advance_clock(std::time::Duration::from_secs(60));
    let mark = sim.now();
    sim.advance_clock(std::time::Duration::from_secs(60));
    let (changed, _) = sim
        .edit_as_user("Account", &names("new", 1)[0])
        .expect("edits");
    let soql = format!(
        "SELECT Id, Name, SystemModstamp FROM Account WHERE SystemModstamp > {} ORDER BY SystemModstamp, Id",
        soql_time(mark)
    );

    let page = get(&sim, &token, &format!("{V}/query?q={}", q(&soql)))
        .await
        .json();

    assert_eq!(page["totalSize"], 1, "{page}");
    assert_eq!(page["records"][0]["Id"], changed.as_str());
    let stamp = page["records"][0]["SystemModstamp"]
        .as_str()
        .expect("stamp");
    assert!(stamp.ends_with("+0000") && stamp.len() == 28, "{stamp}");
}

#[tokio::test]
async fn query_all_finds_deleted_rows_that_query_does_not() {
    let sim = sim();
    let token = login(&sim).await;
    let ids = sim.seed("Account", &names("A", 3)).expect("seeds");
    sim.delete_as_user("Account", &ids[..1]).expect("deletes");
    let soql = q("SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true");

    let live = get(&sim, &token, &format!("{V}/query?q={soql}"))
        .await
        .json();
    let all = get(&sim, &token, &format!("{V}/queryAll?q={soql}"))
        .await
        .json();

    assert_eq!(live["totalSize"], 0);
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["Id"], ids[0].as_str());
    assert_eq!(all["records"][0]["IsDeleted"], true);
    let everything = get(
        &sim,
        &token,
        &format!("{V}/queryAll?q={}", q("SELECT Id FROM Account")),
    )
    .await
    .json();
    assert_eq!(everything["totalSize"], 3);
    assert_eq!(sim.calls_by_kind()["query_all"], 2);

    sim.advance_clock(std::time::Duration::from_secs(16 * 24 * 3600));
    let purged = get(&sim, &token, &format!("{V}/queryAll?q={soql}"))
        .await
        .json();
    assert_eq!(purged["totalSize"], 0, "the recycle bin keeps 15 days");
}

#[tokio::test]
async fn a_query_page_can_fail_with_an_injected_503_and_is_not_counted() {
    let sim = sim();
    let token = login(&sim).await;
    sim.seed("Account", &names("A", 2500)).expect("seeds");
    let first = get(
        &sim,
        &token,
        &format!("{V}/query?q={}", q("SELECT Id FROM Account")),
    )
    .await;
    let next = first.json()["nextRecordsUrl"]
        .as_str()
        .expect("next")
        .to_string();
    sim.set_faults(crate::sim::FaultConfig {
        unavailable_next: 1,
        ..Default::default()
    });

    let failed = get(&sim, &token, &next).await;
    let retried = get(&sim, &token, &next).await;

    assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        retried.json()["records"].as_array().map(Vec::len),
        Some(500)
    );
    assert_eq!(sim.api_calls(), 2);
}
