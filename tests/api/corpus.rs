//! The messy-export corpus (tests/corpus/, format in its README): every line is a record a real
//! export could carry, with what Salesforce must end up holding or every problem Sluice must
//! answer. Each file runs end to end: posted to the hub over HTTP through its locale's mapping,
//! checked against the describe, pushed to the simulator, and read back from it. The expected
//! values were written from the rules, never from Sluice's output.

use std::collections::{BTreeMap, HashSet};

use reqwest::StatusCode;
use serde_json::{Map, Value};
use sqlx::PgPool;

use crate::helpers::{TestHub, count_rows, drain};

const OBJECTS: [(&str, &str); 3] = [
    ("Account", "External_Id__c"),
    ("Contact", "External_Id__c"),
    ("Invoice__c", "Invoice_Number__c"),
];

/// One problem as the corpus writes it: sender's field, Salesforce field, rule.
type Problem = (String, Option<String>, String);

#[derive(Debug)]
enum Expect {
    /// Salesforce field → value the simulator must hold (`~`: none).
    Fields(Vec<(String, String)>),
    /// Every problem, in any order.
    Refused(Vec<Problem>),
}

#[derive(Debug)]
struct Case {
    line: usize,
    object: String,
    /// The external id Sluice must make; `-` in the file when the record has none.
    key: Option<String>,
    input: Map<String, Value>,
    expect: Expect,
}

/// `\u{XXXX}` escapes, as the corpus writes invisible characters.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find("\\u{") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').expect("a closed \\u{…} escape") + at;
        let code = u32::from_str_radix(&rest[at + 3..end], 16).expect("hex in \\u{…}");
        out.push(char::from_u32(code).expect("a Unicode scalar"));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `#12.5` is a JSON number; anything else is text.
fn input_value(raw: &str) -> Value {
    match raw.strip_prefix('#') {
        Some(n) => serde_json::from_str(n).expect("a JSON number after #"),
        None => Value::String(unescape(raw)),
    }
}

fn parse_case(line: usize, text: &str) -> Case {
    let (input, expect) = text
        .split_once(" => ")
        .unwrap_or_else(|| panic!("line {line}: no \" => \""));
    let mut parts = input.split(" | ");
    let head = parts.next().unwrap_or_default();
    let (object, key) = head
        .split_once(' ')
        .unwrap_or_else(|| panic!("line {line}: expected \"Object key\""));
    let key = (key != "-").then(|| key.to_owned());
    let mut fields = Map::new();
    if let Some(key) = &key {
        fields.insert("id".into(), Value::String(key.clone()));
    }
    for part in parts {
        let (name, raw) = part
            .split_once('=')
            .unwrap_or_else(|| panic!("line {line}: {part:?} is not name=value"));
        fields.insert(name.to_owned(), input_value(raw));
    }
    let expect = match expect.strip_prefix("REFUSED ") {
        Some(list) => Expect::Refused(
            list.split(" ; ")
                .map(|p| {
                    let (sender, rest) = p.split_once('>').expect("sender>Salesforce:rule");
                    let (target, rule) = rest.split_once(':').expect("sender>Salesforce:rule");
                    let target = (target != "-").then(|| target.to_owned());
                    (sender.to_owned(), target, rule.to_owned())
                })
                .collect(),
        ),
        None => Expect::Fields(
            expect
                .split(" | ")
                .map(|p| {
                    let (name, value) = p.split_once('=').expect("Field=value");
                    (name.to_owned(), unescape(value))
                })
                .collect(),
        ),
    };
    Case {
        line,
        object: object.to_owned(),
        key,
        input: fields,
        expect,
    }
}

/// The file's source and its cases.
fn read_corpus(name: &str) -> (String, Vec<Case>) {
    let path = format!("{}/tests/corpus/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("corpus file");
    let mut source = None;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        match line.strip_prefix("source ") {
            Some(s) => source = Some(s.trim().to_owned()),
            None => cases.push(parse_case(i + 1, line)),
        }
    }
    (source.expect("a source line"), cases)
}

/// Each record's answer by index: its status and its problems.
fn answers(status: StatusCode, body: &Value) -> BTreeMap<usize, (String, Vec<Value>)> {
    let mut out = BTreeMap::new();
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        // Every record refused: a problem document listing every error with its index.
        for e in body["errors"].as_array().expect("errors") {
            let index = e["index"].as_u64().expect("index") as usize;
            let entry = out
                .entry(index)
                .or_insert_with(|| ("rejected".to_owned(), Vec::new()));
            entry.1.push(e.clone());
        }
        return out;
    }
    for r in body["results"].as_array().expect("results") {
        let index = r["index"].as_u64().expect("index") as usize;
        let errors = r["errors"].as_array().cloned().unwrap_or_default();
        out.insert(
            index,
            (r["status"].as_str().unwrap_or("").to_owned(), errors),
        );
    }
    out
}

fn same_value(expected: &str, got: Option<&Value>) -> bool {
    match got {
        None | Some(Value::Null) => expected == "~",
        Some(Value::Number(n)) => expected.parse::<f64>().is_ok_and(|e| {
            n.as_f64()
                .is_some_and(|g| (e - g).abs() <= 1e-9 * e.abs().max(1.0))
        }),
        Some(Value::String(s)) => s == expected,
        Some(Value::Bool(b)) => expected.parse::<bool>().ok() == Some(*b),
        Some(_) => false,
    }
}

async fn run(pool: PgPool, file: &str) {
    let (source, cases) = read_corpus(file);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/mappings");
    let hub = TestHub::start_with(
        pool,
        &[("PUSH_ENABLED", "false"), ("SLUICE_MAPPINGS_DIR", dir)],
    )
    .await;
    let mut wrong: Vec<String> = Vec::new();
    let mut accepted = 0;
    for (object, _) in OBJECTS {
        let group: Vec<&Case> = cases.iter().filter(|c| c.object == object).collect();
        if group.is_empty() {
            continue;
        }
        let keys: Vec<&str> = group.iter().filter_map(|c| c.key.as_deref()).collect();
        assert_eq!(
            keys.iter().collect::<HashSet<_>>().len(),
            keys.len(),
            "{file}: external ids must be unique per object"
        );
        let body: Vec<Value> = group
            .iter()
            .map(|c| Value::Object(c.input.clone()))
            .collect();
        let response = hub
            .http
            .post(format!(
                "{}/v1/objects/{object}/records?source={source}",
                hub.url
            ))
            .bearer_auth(&hub.token)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert!(
            matches!(
                status,
                StatusCode::ACCEPTED | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{file} {object}: {status} {body}"
        );
        let answers = answers(status, &body);
        for (index, case) in group.iter().enumerate() {
            let at = format!("{file}:{} {object} {:?}", case.line, case.key);
            let (got_status, errors) = answers.get(&index).cloned().unwrap_or_default();
            match &case.expect {
                Expect::Fields(_) if got_status == "staged" => accepted += 1,
                Expect::Fields(_) => wrong.push(format!(
                    "{at}: expected staged, got {got_status} {errors:?}"
                )),
                Expect::Refused(expected) => {
                    let mut got: Vec<Problem> = errors
                        .iter()
                        .map(|e| {
                            if e["external_id"].as_str() != case.key.as_deref() {
                                wrong.push(format!("{at}: error without its external id: {e}"));
                            }
                            (
                                e["field"].as_str().unwrap_or("").to_owned(),
                                e["salesforce_field"].as_str().map(str::to_owned),
                                e["rule"].as_str().unwrap_or("").to_owned(),
                            )
                        })
                        .collect();
                    let mut expected = expected.clone();
                    got.sort();
                    expected.sort();
                    if got_status != "rejected" || got != expected {
                        wrong.push(format!(
                            "{at}: expected refused with {expected:?}, got {got_status} {got:?} {errors:?}"
                        ));
                    }
                }
            }
        }
    }
    drain(&hub.pusher("corpus")).await;
    let refused: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT external_id, last_error_code, last_error_message FROM staging_records \
         WHERE sync_status <> 'synced'",
    )
    .fetch_all(&hub.pool)
    .await
    .expect("staging readable");
    for (key, code, message) in refused {
        wrong.push(format!(
            "{file}: {key} was staged but Salesforce refused it: {code} {message:?}"
        ));
    }
    assert_eq!(
        count_rows(&hub.pool, "sync_status = 'synced'").await,
        accepted
    );
    for case in &cases {
        let Expect::Fields(fields) = &case.expect else {
            continue;
        };
        let key = case.key.as_deref().expect("an accepted record has a key");
        let field = OBJECTS
            .iter()
            .find(|(o, _)| *o == case.object)
            .map(|(_, f)| *f)
            .expect("a corpus object");
        let Some(record) = hub.sim.sim.record_by_external_id(&case.object, field, key) else {
            wrong.push(format!("{file}:{} {key}: not in Salesforce", case.line));
            continue;
        };
        for (name, expected) in fields {
            if !same_value(expected, record.get(name)) {
                wrong.push(format!(
                    "{file}:{} {key}: {name} expected {expected:?}, Salesforce has {:?}",
                    case.line,
                    record.get(name)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} corpus lines went wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong
            .iter()
            .take(60)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[sqlx::test]
async fn a_french_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "fr.cases").await;
}

#[sqlx::test]
async fn an_english_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "en.cases").await;
}

#[sqlx::test]
async fn a_german_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "de.cases").await;
}

#[sqlx::test]
async fn a_spanish_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "es.cases").await;
}

#[sqlx::test]
async fn an_italian_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "it.cases").await;
}

#[sqlx::test]
async fn a_dutch_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "nl.cases").await;
}

#[sqlx::test]
async fn a_portuguese_export_lands_as_its_rules_say(pool: PgPool) {
    run(pool, "pt.cases").await;
}

#[sqlx::test]
async fn hand_written_real_world_lines_land_as_their_rules_say(pool: PgPool) {
    run(pool, "hand.cases").await;
}
