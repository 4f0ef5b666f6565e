use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, drain, token};
use crate::ops::{contact, hub_failing_fast, lock_in_salesforce};

/// Two Contacts synced, one failed (`UNABLE_TO_LOCK_ROW`), one Account pending.
async fn known_run(hub: &TestHub) {
    lock_in_salesforce(hub, &["C-2"]).await;
    let contacts = json!([
        contact("C-1", "One"),
        contact("C-2", "Two"),
        contact("C-3", "Three")
    ]);
    assert_eq!(hub.post_records("Contact", &contacts).await.status(), 202);
    drain(&hub.pusher("status-page-test")).await;
    let account = json!([{"External_Id__c": "A-1", "Name": "Acme"}]);
    assert_eq!(hub.post_records("Account", &account).await.status(), 202);
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The status page as an admin sees it: signs in, then reads `/admin` with the session.
pub(crate) async fn admin_page(hub: &TestHub) -> String {
    let http = no_redirects();
    let admin = sign_in(hub, &http, &token("sync:admin")).await;
    let cookie = admin.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    http.get(format!("{}/admin", hub.url))
        .header("cookie", session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn sign_in(hub: &TestHub, http: &reqwest::Client, token: &str) -> reqwest::Response {
    http.post(format!("{}/admin/login", hub.url))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
}

#[sqlx::test]
async fn the_page_sends_strangers_to_the_login_and_admits_admins_only(pool: PgPool) {
    let hub = TestHub::start_api_only(pool).await;
    let http = no_redirects();
    let anonymous = http.get(format!("{}/admin", hub.url)).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/admin/login");

    let writer = sign_in(&hub, &http, &token("records:write")).await;
    assert_eq!(writer.status(), 401);
    assert!(writer.headers().get("set-cookie").is_none());
    assert!(
        writer
            .text()
            .await
            .unwrap()
            .contains("lacks the sync:admin scope")
    );

    let admin = sign_in(&hub, &http, &token("sync:admin")).await;
    assert_eq!(admin.status(), 303);
    let cookie = admin.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP on loopback: {cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let page = http
        .get(format!("{}/admin", hub.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(page.text().await.unwrap().contains("Records by object"));
}

#[sqlx::test]
async fn page_forms_need_the_sessions_csrf_token_and_this_origin(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    known_run(&hub).await;
    let http = no_redirects();
    let admin = sign_in(&hub, &http, &token("sync:admin")).await;
    let session = admin.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let retry = |csrf: &'static str, origin: String| {
        http.post(format!("{}/admin/failures/retry", hub.url))
            .header("cookie", &session)
            .header("origin", origin)
            .form(&[
                ("csrf", csrf),
                ("object", "Contact"),
                ("external_id", "C-2"),
            ])
            .send()
    };
    assert_eq!(
        retry("forged", hub.url.clone()).await.unwrap().status(),
        403
    );
    assert_eq!(
        retry("forged", "https://evil.example".into())
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'failed'").await,
        1
    );
}

/// Whether the browser test can run here; in CI (which installs chromium) it must.
fn browser_available() -> bool {
    let ok = Path::new("/usr/bin/chromium").exists()
        && Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium and node (.ci/run does)"
        );
        eprintln!(
            "SKIPPED: the status page browser test needs /usr/bin/chromium and node (apt-get install chromium)"
        );
    }
    ok
}

fn drive_browser(url: &str, token: &str, extra: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/status_page.mjs");
    let output = Command::new("node")
        .arg(script)
        .args([url, token])
        .args(extra)
        .output()
        .expect("node runs");
    assert!(
        output.status.success(),
        "browser script failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

#[sqlx::test]
async fn in_a_real_browser_the_page_shows_the_counts_and_its_retry_button_requeues(pool: PgPool) {
    if !browser_available() {
        return;
    }
    let hub = hub_failing_fast(pool).await;
    known_run(&hub).await;
    let url = hub.url.clone();
    let admin = token("sync:admin");
    let screenshot = std::env::var("SLUICE_SCREENSHOT").ok();
    if screenshot.is_some() {
        picture_data(&hub).await;
    }
    let mut extra = vec!["--click-retry", "C-2"];
    if let Some(path) = &screenshot {
        extra = vec!["--screenshot", path.as_str()];
    }
    let extra: Vec<String> = extra.into_iter().map(str::to_owned).collect();
    let report = tokio::task::spawn_blocking(move || {
        let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
        drive_browser(&url, &admin, &extra)
    })
    .await
    .unwrap();

    assert_eq!(report["title"], "Sluice status");
    if screenshot.is_none() {
        assert_eq!(report["before"]["Contact"]["synced"], 2);
        assert_eq!(report["before"]["Contact"]["failed"], 1);
        assert_eq!(report["before"]["Contact"]["pending"], 0);
        assert_eq!(report["before"]["Account"]["pending"], 1);
    }
    if screenshot.is_some() {
        return;
    }
    assert_eq!(report["failures"], json!(["C-2"]));
    assert_eq!(report["notice"], "Re-queued 1 failed record.");
    assert_eq!(report["after"]["Contact"]["failed"], 0);
    assert_eq!(report["after"]["Contact"]["pending"], 1);
    assert_eq!(
        count_rows(&hub.pool, "external_id = 'C-2' AND sync_status = 'pending'").await,
        1
    );
}

/// For the README's picture (`SLUICE_SCREENSHOT=docs/status-page.png`): a day of usage history and
/// a few more failures than the test needs.
async fn picture_data(hub: &TestHub) {
    lock_in_salesforce(hub, &["C-10", "C-11"]).await;
    let more = json!([
        contact("C-10", "Martin"),
        contact("C-11", "Bernard"),
        contact("C-12", "Petit")
    ]);
    hub.post_records("Contact", &more).await;
    drain(&hub.pusher("status-page-test")).await;
    sqlx::query(
        "INSERT INTO salesforce_usage_samples (minute, used, max) \
         SELECT date_trunc('minute', now()) - make_interval(mins => m), \
                (6200 - m * 4 + (m % 37) * 3)::bigint, 15000 \
         FROM generate_series(10, 1430, 10) AS m ON CONFLICT DO NOTHING",
    )
    .execute(&hub.pool)
    .await
    .unwrap();
    insert_bulk_job(hub, "750R0000004dEmoAAE", 12_000, 11_994, 6).await;
    sqlx::query("UPDATE salesforce_usage SET used = 6180, observed_at = now() WHERE id")
        .execute(&hub.pool)
        .await
        .unwrap();
}

async fn insert_bulk_job(hub: &TestHub, id: &str, records: i32, succeeded: i32, failed: i32) {
    sqlx::query(
        "INSERT INTO push_bulk_jobs (job_id, object, operation, state, records, succeeded, failed, \
         unprocessed, owner, created_at, finished_at) \
         VALUES ($1, 'Contact', 'upsert', 'JobComplete', $2, $3, $4, 0, 'web.1', \
                 now() - interval '3 minutes', now() - interval '1 minute')",
    )
    .bind(id)
    .bind(records)
    .bind(succeeded)
    .bind(failed)
    .execute(&hub.pool)
    .await
    .unwrap();
}

#[sqlx::test]
async fn the_page_lists_recent_bulk_jobs(pool: PgPool) {
    let hub = hub_failing_fast(pool).await;
    insert_bulk_job(&hub, "750R0000004dJobAAE", 5000, 4990, 10).await;
    let page = admin_page(&hub).await;
    let jobs = &page[page.find("id=\"jobs\"").expect("a jobs section")..];
    assert!(jobs.contains("<code>750R0000004dJobAAE</code>"), "{jobs}");
    assert!(
        jobs.contains("JobComplete") && jobs.contains("4,990"),
        "{jobs}"
    );
}
