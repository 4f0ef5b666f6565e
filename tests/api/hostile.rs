//! Hostile input: each case gets a clear 4xx problem+json and stores nothing. Requests go over
//! raw TCP so that bytes no well-behaved client would send (invalid UTF-8, CR/LF in headers, NUL)
//! reach the server as they are.

use std::time::Duration;

use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{TestHub, count_rows};

const MAX_BODY: usize = 2 * 1024 * 1024;

async fn hub(pool: PgPool) -> TestHub {
    let max_body = MAX_BODY.to_string();
    let max_stream = (2 * MAX_BODY).to_string();
    TestHub::start_with(
        pool,
        &[
            ("PUSH_ENABLED", "false"),
            ("SLUICE_MAX_BODY_BYTES", &max_body),
            ("SLUICE_MAX_STREAM_BYTES", &max_stream),
            ("SLUICE_RATE_LIMIT_PER_SECOND", "1000"),
            ("SLUICE_RATE_LIMIT_BURST", "1000"),
        ],
    )
    .await
}

struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

/// Sends one HTTP/1.1 request made of exactly these bytes and reads the answer until the server
/// closes. The body is written by its own task, so a server that answers before reading it all
/// (413) is still heard.
async fn raw(
    hub: &TestHub,
    method: &str,
    path: &[u8],
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> Reply {
    let addr = hub.url.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    let mut head = format!("{method} ").into_bytes();
    head.extend_from_slice(path);
    head.extend_from_slice(
        format!(" HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n").as_bytes(),
    );
    head.extend_from_slice(format!("Authorization: Bearer {}\r\n", hub.token).as_bytes());
    head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    for (name, value) in headers {
        head.extend_from_slice(name.as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value);
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&head).await;
        let _ = wr.write_all(&body).await;
        wr
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "no answer within 20 s");
    drop(writer.await);
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.get(split + 4..).unwrap_or_default().to_vec();
    Reply { status, head, body }
}

/// What a case must get: this status, as problem+json naming `field` when one is given.
struct Expect {
    status: u16,
    field: Option<&'static str>,
}

/// The answer's problems, or why it is not the expected problem+json.
fn check(reply: &Reply, want: &Expect) -> Result<(), String> {
    if reply.status != want.status {
        return Err(format!("status {} (want {})", reply.status, want.status));
    }
    if !reply
        .head
        .contains("content-type: application/problem+json")
    {
        return Err("not application/problem+json".into());
    }
    let problem: Value =
        serde_json::from_slice(&reply.body).map_err(|e| format!("body is not JSON: {e}"))?;
    if problem["status"] != json!(want.status)
        || !problem["detail"].is_string()
        || !problem["type"].is_string()
    {
        return Err(format!("not a problem document: {problem}"));
    }
    if let Some(field) = want.field {
        let named = problem["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| e["field"] == json!(field));
        if !named {
            return Err(format!("no error names {field:?}: {problem}"));
        }
    }
    Ok(())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

fn nested(depth: usize) -> Vec<u8> {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

fn contact_with(extra: &str) -> Vec<u8> {
    format!(r#"[{{"External_Id__c":"H-1","LastName":"Durand"{extra}}}]"#).into_bytes()
}

/// One hostile request and the answer it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: Vec<u8>,
    headers: Vec<(&'static str, Vec<u8>)>,
    body: Vec<u8>,
    want: Expect,
}

const RECORDS: &[u8] = b"/v1/objects/Contact/records";
const JSON: &str = "application/json";
const NDJSON: &str = "application/x-ndjson";

fn post(name: &'static str, path: &[u8], content_type: &str, body: Vec<u8>) -> Case {
    let headers = vec![("Content-Type", content_type.as_bytes().to_vec())];
    let (method, path, want) = (
        "POST",
        path.to_vec(),
        Expect {
            status: 0,
            field: None,
        },
    );
    Case {
        name,
        method,
        path,
        headers,
        body,
        want,
    }
}

impl Case {
    fn get(name: &'static str, path: &[u8]) -> Self {
        Self {
            method: "GET",
            body: Vec::new(),
            headers: Vec::new(),
            ..post(name, path, "", vec![])
        }
    }
    fn expect(mut self, status: u16, field: &'static str) -> Self {
        self.want = Expect {
            status,
            field: Some(field),
        };
        self
    }
    fn status(mut self, status: u16) -> Self {
        self.want = Expect {
            status,
            field: None,
        };
        self
    }
    fn header(mut self, name: &'static str, value: &[u8]) -> Self {
        self.headers.push((name, value.to_vec()));
        self
    }
    fn method(mut self, method: &'static str) -> Self {
        self.method = method;
        self
    }
}

#[rustfmt::skip] // one case a line reads as the table it is
fn corpus() -> Vec<Case> {
    let mut huge = b"[{\"External_Id__c\":\"H-1\",\"LastName\":\"".to_vec();
    huge.resize(MAX_BODY + 1, b'x');
    let line = br#"{"External_Id__c":"H-1","LastName":"Durand"}"#;
    let stream: Vec<u8> = (0..100_000).flat_map(|_| line.iter().chain(b"\n")).copied().collect();
    let mb = "x".repeat(1024 * 1024);
    let mut deep_field = b"[{\"External_Id__c\":\"H-1\",\"LastName\":".to_vec();
    deep_field.extend(nested(10_000).into_iter().chain(*b"}]"));
    let deep_line: Vec<u8> = nested(10_000).into_iter().chain(*b"\n").collect();
    let latin1 = contact_with(",\"FirstName\":\"caf\u{e9}\"").into_iter().filter(|b| *b != 0xc3).collect();
    let invoice = b"/v1/objects/Invoice__c/records";
    let long_line = format!("{}\n{{\"LastName\":\"{}\"}}\n", String::from_utf8_lossy(line), mb).into_bytes();
    let sql_field = r#","LastName'); DROP TABLE staging_records;--":"x""#;
    vec![
        post("a body over the limit", RECORDS, JSON, huge.clone()).expect(413, "body"),
        post("an NDJSON stream over the limit", RECORDS, NDJSON, stream).expect(413, "body"),
        post("10,000 nested arrays", RECORDS, JSON, nested(10_000)).expect(400, "body"),
        post("10,000 nested arrays in a field", RECORDS, JSON, deep_field).expect(400, "body"),
        post("10,000 nested arrays on an NDJSON line", RECORDS, NDJSON, deep_line).expect(422, "record"),
        post("invalid UTF-8 in a value", RECORDS, JSON, latin1).expect(400, "body"),
        post("invalid UTF-8 on an NDJSON line", RECORDS, NDJSON, b"{\"External_Id__c\":\"H-\xc3\x28\"}\n".to_vec()).expect(422, "record"),
        post("a number beyond f64", invoice, JSON, br#"[{"Invoice_Number__c":"I-1","Amount__c":1e400}]"#.to_vec()).expect(400, "body"),
        post("a raw NUL byte in a string", RECORDS, JSON, contact_with(",\"FirstName\":\"a\0b\"")).expect(400, "body"),
        post("an escaped NUL in a value", RECORDS, JSON, contact_with(r#","FirstName":"a\u0000b""#)).expect(400, "input"),
        post("an escaped NUL in an external id", RECORDS, JSON, br#"[{"External_Id__c":"H-\u0000","LastName":"D"}]"#.to_vec()).expect(422, "External_Id__c"),
        post("a CR/LF in an external id", RECORDS, JSON, br#"[{"External_Id__c":"H-1\r\nH-2","LastName":"D"}]"#.to_vec()).expect(422, "External_Id__c"),
        post("an external id 1.0", RECORDS, JSON, br#"[{"External_Id__c":1.0,"LastName":"D"}]"#.to_vec()).expect(422, "External_Id__c"),
        post("an external id 1e3", RECORDS, NDJSON, b"{\"External_Id__c\":1e3,\"LastName\":\"D\"}\n".to_vec()).expect(422, "External_Id__c"),
        post("an external id past 64 bits", RECORDS, JSON, br#"[{"External_Id__c":18446744073709551616,"LastName":"D"}]"#.to_vec()).expect(422, "External_Id__c"),
        post("an external id that is an object", RECORDS, JSON, br#"[{"External_Id__c":{"a":1},"LastName":"D"}]"#.to_vec()).expect(422, "External_Id__c"),
        post("a key given twice", RECORDS, JSON, contact_with(r#","External_Id__c":"H-2""#)).expect(422, "External_Id__c"),
        post("a key given twice on an NDJSON line", RECORDS, NDJSON, b"{\"External_Id__c\":\"H-1\",\"LastName\":\"A\",\"LastName\":\"B\"}\n".to_vec()).expect(422, "LastName"),
        post("an NDJSON line over 1 MiB", RECORDS, NDJSON, long_line).expect(400, "body"),
        post("a brotli body", RECORDS, JSON, contact_with("")).header("Content-Encoding", b"br").status(415),
        post("a body encoded twice", RECORDS, JSON, gzip(&gzip(&contact_with("")))).header("Content-Encoding", b"gzip, gzip").status(415),
        post("a body not gzip sent as gzip", RECORDS, JSON, contact_with("")).header("Content-Encoding", b"gzip").expect(400, "body"),
        post("a gzip bomb", RECORDS, NDJSON, gzip(&vec![b'\n'; 3 * MAX_BODY / 2])).header("Content-Encoding", b"gzip").expect(400, "body"),
        post("a gzip body that inflates past the limit", RECORDS, JSON, gzip(&huge)).header("Content-Encoding", b"gzip").expect(413, "body"),
        post("a 1 MB string", RECORDS, JSON, contact_with(&format!(",\"FirstName\":\"{mb}\""))).expect(422, "FirstName"),
        post("a 1 MB external id", RECORDS, JSON, format!(r#"[{{"External_Id__c":"{mb}","LastName":"D"}}]"#).into_bytes()).expect(422, "External_Id__c"),
        post("a field name with SQL", RECORDS, JSON, contact_with(sql_field)).expect(422, "LastName'); DROP TABLE staging_records;--"),
        post("an object name with SQL", b"/v1/objects/Contact';DROP%20TABLE%20staging_records;--/records", JSON, contact_with("")).status(404),
        post("a source with SQL", b"/v1/objects/Contact/records?source=default'%20OR%20'1'='1", JSON, contact_with("")).status(404),
        post("an Idempotency-Key with a bare CR", RECORDS, JSON, contact_with("")).header("Idempotency-Key", b"k1\rX-Injected: 1").status(400),
        post("an Idempotency-Key with a tab", RECORDS, JSON, contact_with("")).header("Idempotency-Key", b"k1\tk2").expect(400, "Idempotency-Key"),
        post("an Idempotency-Key with Latin-1 bytes", RECORDS, JSON, contact_with("")).header("Idempotency-Key", b"cl\xe9").expect(400, "Idempotency-Key"),
        post("a body that is not JSON", RECORDS, JSON, b"'; DROP TABLE staging_records;--".to_vec()).expect(400, "body"),
        post("a wrong content type", RECORDS, "text/csv", b"External_Id__c\nH-1\n".to_vec()).status(415),
        post("a wrong method", RECORDS, JSON, contact_with("")).method("PUT").status(405),
        post("an unknown route", b"/v1/objects/Contact/records/H-1/../../etc/passwd", JSON, contact_with("")).status(404),
        Case::get("a path segment with SQL", b"/v1/objects/Contact/records/x'%20OR%20'1'='1").status(404),
        Case::get("a path segment with a NUL", b"/v1/objects/Contact/records/x%00y").expect(400, "external_id"),
        Case::get("invalid UTF-8 in a path segment", b"/v1/objects/Contact/records/%FF%FE").expect(400, "path"),
        Case::get("a query number beyond i64", b"/v1/failures?limit=9223372036854775808").expect(400, "query"),
        Case::get("a CR/LF in a path segment", b"/v1/objects/Contact/records/x%0D%0ASet-Cookie:%20a=b").expect(400, "external_id"),
    ]
}

#[sqlx::test]
async fn every_hostile_input_gets_a_clear_4xx_and_nothing_is_stored(pool: PgPool) {
    let hub = hub(pool).await;
    let mut wrong = Vec::new();
    for Case {
        name,
        method,
        path,
        headers,
        body,
        want,
    } in corpus()
    {
        let headers: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let reply = raw(&hub, method, &path, &headers, body).await;
        if reply.head.contains("set-cookie") || reply.head.contains("x-injected") {
            wrong.push(format!("{name}: an injected header came back"));
        }
        // A malformed header line is refused by the HTTP parser itself, before any handler.
        let parser_refusal = want.field.is_none() && want.status == 400 && reply.status == 400;
        let verdict = if parser_refusal {
            Ok(())
        } else {
            check(&reply, &want)
        };
        if let Err(why) = verdict {
            wrong.push(format!(
                "{name}: {why} | {}",
                String::from_utf8_lossy(&reply.body[..reply.body.len().min(300)])
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "answers that are not the expected 4xx problem+json:\n{}",
        wrong.join("\n")
    );
    assert_eq!(count_rows(&hub.pool, "true").await, 0, "nothing is staged");
    let keys: i64 = sqlx::query_scalar("SELECT count(*) FROM ingest_requests")
        .fetch_one(&hub.pool)
        .await
        .expect("count");
    assert_eq!(keys, 0, "no idempotency key is stored");
}

#[sqlx::test]
async fn sql_in_values_and_external_ids_is_stored_as_text(pool: PgPool) {
    let hub = hub(pool).await;
    let ext = "H-1'; DROP TABLE staging_records;--";
    let name = "Robert'); DELETE FROM staging_records WHERE ('1'='1";
    let response = hub
        .post_records(
            "Contact",
            &json!([{"External_Id__c": ext, "LastName": name}]),
        )
        .await;
    assert_eq!(response.status(), 202);
    let path = format!("/v1/objects/Contact/records/{}", urlencoding(ext));
    let record: Value = hub.get(&path).await.json().await.expect("json");
    assert_eq!(record["fields"]["LastName"], json!(name), "{record}");
    assert_eq!(count_rows(&hub.pool, "true").await, 1);
}

/// RFC 8259 §4 leaves repeated names to the parser: guessing which one the sender meant could
/// give a record another's external id, so the record is refused, naming the key and its index,
/// and the others in the batch are staged.
#[sqlx::test]
async fn a_record_with_a_repeated_key_is_refused_and_the_others_staged(pool: PgPool) {
    let hub = hub(pool).await;
    let headers: [(&str, &[u8]); 1] = [("Content-Type", JSON.as_bytes())];
    let body = br#"[{"External_Id__c":"H-1","LastName":"Durand"},
                    {"External_Id__c":"H-2","LastName":"Martin","External_Id__c":"H-1"}]"#;
    let reply = raw(&hub, "POST", RECORDS, &headers, body.to_vec()).await;
    assert_eq!(
        reply.status,
        202,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let answer: Value = serde_json::from_slice(&reply.body).expect("json");
    let refused = &answer["results"][1];
    assert_eq!(refused["status"], "rejected", "{answer}");
    assert_eq!(refused["errors"][0]["field"], "External_Id__c", "{answer}");
    assert_eq!(refused["errors"][0]["rule"], "duplicate_key", "{answer}");
    let record: Value = hub
        .get("/v1/objects/Contact/records/H-1")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(record["fields"]["LastName"], json!("Durand"), "{record}");
    assert_eq!(count_rows(&hub.pool, "true").await, 1);
}

#[sqlx::test]
async fn an_ndjson_line_too_long_is_named_by_its_line_and_record(pool: PgPool) {
    let hub = hub(pool).await;
    let headers: [(&str, &[u8]); 1] = [("Content-Type", NDJSON.as_bytes())];
    let line = r#"{"External_Id__c":"H-1","LastName":"Durand"}"#;
    let body = format!(
        "{line}\n\n{line}\n{{\"LastName\":\"{}\"}}\n",
        "x".repeat(1 << 20)
    );
    let reply = raw(&hub, "POST", RECORDS, &headers, body.into_bytes()).await;
    assert_eq!(
        reply.status,
        400,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let problem: Value = serde_json::from_slice(&reply.body).expect("json");
    let error = &problem["errors"][0];
    assert_eq!(error["rule"], "line_too_long", "{problem}");
    assert_eq!(error["index"], 2, "{problem}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("line 4 (record 2)"), "{problem}");
    assert_eq!(count_rows(&hub.pool, "true").await, 0);
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'-' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
