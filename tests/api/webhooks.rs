//! Signed webhooks sent to the hub over HTTP by a signing sender: Stripe, Shopify and a generic
//! HMAC scheme; bad signatures, replays, rotation, ignored types, nested events.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows};
use crate::sources_support::{hmac_hex, mappings_dir, now, stripe_signature};

const STRIPE_NEW: &str = "whsec_new_0123456789abcdefghijklmnop";
const STRIPE_OLD: &str = "whsec_old_0123456789abcdefghijklmnop";
const CRM_SECRET: &str = "crm-secret-0123456789abcdef";
const SHOP_SECRET: &str = "shpss_0123456789abcdef0123456789";

const STRIPE: &str = r#"
source = "stripe"
[webhook]
scheme = "stripe"
secrets_env = "STRIPE_WEBHOOK_SECRETS"

[objects.Account]
external_id = "External_Id__c"
on = "invoice.*"
records = "data.object"
[objects.Account.fields]
External_Id__c = { from = "customer" }
Name = { from = "customer_name" }

[objects.Invoice__c]
external_id = "Invoice_Number__c"
on = ["invoice.paid", "invoice.finalized"]
records = "data.object"
[objects.Invoice__c.fields]
Invoice_Number__c = { from = "number" }
Name = { from = "number" }
Amount__c = { from = "total", transforms = [{ rule = "decimal", locale = "en" }] }
Currency__c = { from = "currency", transforms = ["upper"] }
Status__c = { from = "status", transforms = [{ rule = "map", values = { "paid" = "Paid", "open" = "Sent" } }] }
[objects.Invoice__c.references]
Account__r = { object = "Account", field = "External_Id__c", from = "customer" }
"#;

const CRM: &str = r#"
source = "crm"
[webhook]
scheme = "hmac"
header = "X-Crm-Signature"
prefix = "sha256="
timestamp_header = "X-Crm-Timestamp"
id_header = "X-Crm-Delivery"
type_path = "event"

[objects.Account]
external_id = "External_Id__c"
on = "company.*"
records = "data"
[objects.Account.fields]
External_Id__c = { from = "id" }
Name = { from = "name" }

[objects.Contact]
external_id = "External_Id__c"
on = "company.*"
records = "data.contacts[*]"
[objects.Contact.fields]
External_Id__c = { from = "id" }
LastName = { from = "last_name", required = true }
Email = { from = "email", transforms = ["email"] }
[objects.Contact.references]
Account = { object = "Account", field = "External_Id__c", from = "$.data.id" }
"#;

const SHOP: &str = r#"
source = "shop"
[webhook]
scheme = "shopify"
secrets_env = "SHOPIFY_SECRET"

[objects.Contact]
external_id = "External_Id__c"
on = "customers/create"
[objects.Contact.fields]
External_Id__c = { from = "id" }
LastName = { from = "last_name" }
Email = { from = "email", transforms = ["email"] }
"#;

async fn hub(pool: PgPool) -> TestHub {
    let dir = mappings_dir(&[
        ("stripe.toml", STRIPE.into()),
        ("crm.toml", CRM.into()),
        ("shop.toml", SHOP.into()),
    ]);
    let secrets = format!("{STRIPE_NEW},{STRIPE_OLD}");
    let webhooks = json!({"crm": [CRM_SECRET]}).to_string();
    let hub = TestHub::start_with(
        pool,
        &[
            ("PUSH_ENABLED", "false"),
            ("PULL_ENABLED", "false"),
            ("SLUICE_MAPPINGS_DIR", dir.to_str().unwrap()),
            ("STRIPE_WEBHOOK_SECRETS", &secrets),
            ("SHOPIFY_SECRET", SHOP_SECRET),
            ("SLUICE_WEBHOOKS", &webhooks),
        ],
    )
    .await;
    let health = hub.http.get(format!("{}/health", hub.url)).send().await;
    assert!(health.is_ok_and(|r| r.status() == 200), "the hub started");
    hub
}

fn invoice_event(id: &str, kind: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": id, "object": "event", "type": kind, "created": now(),
        "data": {"object": {"object": "invoice", "number": "F-2026-001", "total": "123.50",
            "currency": "eur", "status": "paid", "customer": "cus_9", "customer_name": "Dupont SA"}},
    }))
    .unwrap()
}

async fn send(
    hub: &TestHub,
    source: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut request = hub
        .http
        .post(format!("{}/v1/webhooks/{source}", hub.url))
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_vec());
    for (k, v) in headers {
        request = request.header(*k, v);
    }
    request.send().await.unwrap()
}

async fn send_stripe(hub: &TestHub, secret: &str, body: &[u8]) -> reqwest::Response {
    let signature = stripe_signature(secret, now(), body);
    send(hub, "stripe", &[("stripe-signature", signature)], body).await
}

async fn events(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_events")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_stripe_event_makes_an_account_and_its_invoice_and_a_replay_is_stored_once(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let body = invoice_event("evt_1", "invoice.paid");
    let response = send_stripe(&hub, STRIPE_NEW, &body).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["status"], "processed", "{answer}");
    assert_eq!(
        (answer["staged"].as_u64(), answer["rejected"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!(answer["event_type"], "invoice.paid");
    let invoice: Value = sqlx::query_scalar(
        "SELECT fields FROM staging_records WHERE object = 'Invoice__c' AND external_id = 'F-2026-001'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        invoice,
        json!({"Invoice_Number__c": "F-2026-001", "Name": "F-2026-001", "Amount__c": 123.5,
               "Currency__c": "EUR", "Status__c": "Paid", "Account__r": {"External_Id__c": "cus_9"}})
    );
    assert_eq!(
        count_rows(
            &pool,
            "object = 'Account' AND fields->>'Name' = 'Dupont SA'"
        )
        .await,
        1
    );

    // The same delivery again, and the same event re-signed later: answered 200, stored once.
    let signature = stripe_signature(STRIPE_NEW, now(), &body);
    for _ in 0..2 {
        let again = send(
            &hub,
            "stripe",
            &[("stripe-signature", signature.clone())],
            &body,
        )
        .await;
        assert_eq!(again.status(), 200);
        assert_eq!(again.json::<Value>().await.unwrap()["status"], "duplicate");
    }
    let resigned = send_stripe(&hub, STRIPE_OLD, &body).await;
    assert_eq!(
        resigned.json::<Value>().await.unwrap()["status"],
        "duplicate"
    );
    assert_eq!(events(&pool).await, 1);
    let kept: Vec<u8> = sqlx::query_scalar("SELECT body FROM webhook_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, body, "the raw body, as signed");

    // The previous secret still verifies during a rotation.
    let rotated = send_stripe(
        &hub,
        STRIPE_OLD,
        &invoice_event("evt_2", "invoice.finalized"),
    )
    .await;
    assert_eq!(
        rotated.json::<Value>().await.unwrap()["status"],
        "processed"
    );
}

#[sqlx::test]
async fn bad_missing_stale_or_foreign_signatures_are_401_alike_and_store_nothing(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let body = invoice_event("evt_bad", "invoice.paid");
    let tampered = invoice_event("evt_bad", "invoice.voided");
    let good = stripe_signature(STRIPE_NEW, now(), &body);
    // (case, source, headers, body)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, &'a [u8]);
    let cases: Vec<Case> = vec![
        ("no signature", "stripe", vec![], &body),
        (
            "unknown secret",
            "stripe",
            vec![(
                "stripe-signature",
                stripe_signature("whsec_not_ours_0123456789abcdef", now(), &body),
            )],
            &body,
        ),
        (
            "tampered body",
            "stripe",
            vec![("stripe-signature", good.clone())],
            &tampered,
        ),
        (
            "five minutes old",
            "stripe",
            vec![(
                "stripe-signature",
                stripe_signature(STRIPE_NEW, now() - 400, &body),
            )],
            &body,
        ),
        (
            "from the future",
            "stripe",
            vec![(
                "stripe-signature",
                stripe_signature(STRIPE_NEW, now() + 400, &body),
            )],
            &body,
        ),
        (
            "malformed",
            "stripe",
            vec![("stripe-signature", "v1=zz".into())],
            &body,
        ),
        (
            "unknown source",
            "nobody",
            vec![("stripe-signature", good.clone())],
            &body,
        ),
        (
            "another source's scheme",
            "shop",
            vec![("stripe-signature", good.clone())],
            &body,
        ),
        (
            "stale generic timestamp",
            "crm",
            vec![
                ("x-crm-timestamp", (now() - 1000).to_string()),
                ("x-crm-delivery", "d-1".into()),
                (
                    "x-crm-signature",
                    format!(
                        "sha256={}",
                        hmac_hex(
                            CRM_SECRET,
                            &[(now() - 1000).to_string().as_bytes(), b".", &body].concat()
                        )
                    ),
                ),
            ],
            &body,
        ),
    ];
    let mut answers = Vec::new();
    for (case, source, headers, body) in cases {
        let response = send(&hub, source, &headers, body).await;
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{case}"
        );
        assert!(
            response.headers().contains_key("www-authenticate"),
            "{case}"
        );
        answers.push(response.text().await.unwrap());
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every refusal says the same: {answers:?}"
    );
    assert!(
        answers[0].contains("signature could not be verified"),
        "{}",
        answers[0]
    );
    assert_eq!(events(&pool).await, 0);
    assert_eq!(count_rows(&pool, "true").await, 0, "nothing staged");
}

#[sqlx::test]
async fn an_event_type_no_object_takes_is_answered_200_and_ignored(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let body = invoice_event("evt_c", "customer.created");
    let response = send_stripe(&hub, STRIPE_NEW, &body).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["status"], "ignored");
    assert_eq!(count_rows(&pool, "true").await, 0);
    let (status, kept): (String, Option<Vec<u8>>) =
        sqlx::query_as("SELECT status, body FROM webhook_events")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), kept), ("ignored", None));
}

#[sqlx::test]
async fn a_generic_hmac_event_makes_one_contact_per_element_linked_to_its_company(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let body = serde_json::to_vec(&json!({
        "event": "company.updated",
        "data": {"id": "ACME", "name": "Acme", "contacts": [
            {"id": "P-1", "last_name": "Durand", "email": "Marie.Durand@Example.com"},
            {"id": "P-2", "last_name": "Martin", "email": "not an address"},
            {"id": "P-3", "last_name": "Petit"},
        ]},
    }))
    .unwrap();
    let t = now().to_string();
    let signed = [t.as_bytes(), b".", &body].concat();
    let headers = vec![
        ("x-crm-timestamp", t.clone()),
        ("x-crm-delivery", "delivery-1".into()),
        (
            "x-crm-signature",
            format!("sha256={}", hmac_hex(CRM_SECRET, &signed)),
        ),
    ];
    let response = send(&hub, "crm", &headers, &body).await;
    assert_eq!(
        response.status(),
        200,
        "a refused record does not fail the event"
    );
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        (
            answer["records"].as_u64(),
            answer["staged"].as_u64(),
            answer["rejected"].as_u64()
        ),
        (Some(4), Some(3), Some(1)),
        "{answer}"
    );
    assert_eq!(answer["errors"][0]["field"], "Contact: email", "{answer}");
    assert_eq!(answer["errors"][0]["external_id"], "P-2");
    let linked = count_rows(
        &pool,
        "object = 'Contact' AND fields->'Account'->>'External_Id__c' = 'ACME'",
    )
    .await;
    assert_eq!(
        linked, 2,
        "each contact names its company, read from the event"
    );
    let email: String = sqlx::query_scalar(
        "SELECT fields->>'Email' FROM staging_records WHERE external_id = 'P-1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(email, "marie.durand@example.com");
    let problems: Value = sqlx::query_scalar("SELECT problems FROM webhook_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(problems[0]["external_id"], "P-2", "kept for operators");
}

#[sqlx::test]
async fn a_shopify_delivery_verifies_and_dedupes_on_its_event_id(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let body = br#"{"id": 7001, "last_name": "Leroy", "email": "leroy@example.com"}"#;
    let raw = hex::decode(hmac_hex(SHOP_SECRET, body)).unwrap();
    use base64::Engine;
    let signature = base64::engine::general_purpose::STANDARD.encode(raw);
    let headers = |delivery: &str| {
        vec![
            ("x-shopify-hmac-sha256", signature.clone()),
            ("x-shopify-topic", "customers/create".to_owned()),
            ("x-shopify-event-id", "ev-1".to_owned()),
            ("x-shopify-webhook-id", delivery.to_owned()),
        ]
    };
    let first = send(&hub, "shop", &headers("w-1"), body).await;
    assert_eq!(first.json::<Value>().await.unwrap()["status"], "processed");
    let retry = send(&hub, "shop", &headers("w-2"), body).await;
    assert_eq!(retry.json::<Value>().await.unwrap()["status"], "duplicate");
    assert_eq!(
        count_rows(&pool, "object = 'Contact' AND external_id = '7001'").await,
        1
    );
}

#[sqlx::test]
async fn a_signed_body_that_is_not_a_json_event_is_refused_naming_why(pool: PgPool) {
    let hub = hub(pool.clone()).await;
    let not_json = b"id=evt_1&type=invoice.paid";
    let response = send_stripe(&hub, STRIPE_NEW, not_json).await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(
        (
            problem["errors"][0]["field"].as_str(),
            problem["errors"][0]["rule"].as_str()
        ),
        (Some("body"), Some("json"))
    );

    let no_id = br#"{"type": "invoice.paid", "data": {"object": {}}}"#;
    let problem: Value = send_stripe(&hub, STRIPE_NEW, no_id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(problem["errors"][0]["field"], "body.id", "{problem}");

    let body = invoice_event("evt_form", "invoice.paid");
    let signature = stripe_signature(STRIPE_NEW, now(), &body);
    let form = hub
        .http
        .post(format!("{}/v1/webhooks/stripe", hub.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("stripe-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 415);
    assert_eq!(events(&pool).await, 0);
}
