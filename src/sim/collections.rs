//! sObject Collections upsert and delete, and single-record GET (docs/salesforce.md §2.2, §3).

use std::collections::HashMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::{ApiError, RecordError};
use super::records::{self, Cell, Incoming, Input, Mode, Reference, Rejection};
use super::schema::{self, Object};
use super::{Simulator, ids};

/// Doc §3: at most 200 records or ids per call.
pub const MAX_RECORDS: usize = 200;

type Outcome = Result<(String, bool), RecordError>;

fn input(v: &Value) -> Result<Input, ApiError> {
    match v {
        Value::Null => Ok(Input::Null),
        Value::String(s) => Ok(Input::Text(s.clone())),
        Value::Number(n) => Ok(Input::Number(n.to_string())),
        Value::Bool(b) => Ok(Input::Bool(*b)),
        _ => Err(ApiError::json_parser(format!(
            "Cannot deserialize instance of string from {} value",
            token_name(v)
        ))),
    }
}

fn token_name(v: &Value) -> &'static str {
    if v.is_array() {
        "START_ARRAY"
    } else {
        "START_OBJECT"
    }
}

/// Reads one record of a collections body; request-level errors fail the whole call (docs/salesforce.md §3).
fn incoming(obj: &Object, record: &Value) -> Result<Incoming, ApiError> {
    let map = record
        .as_object()
        .ok_or_else(|| ApiError::json_parser("Cannot deserialize instance of sobject"))?;
    let ty = map
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str);
    match ty {
        None => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_TYPE",
                "Must send a concrete entity type.",
            ));
        }
        // [UNVERIFIED] a record whose type differs from the URI fails the request.
        Some(t) if !t.eq_ignore_ascii_case(obj.name) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_TYPE",
                format!(
                    "Record type {t} does not match the type {} in the URI",
                    obj.name
                ),
            ));
        }
        Some(_) => {}
    }
    let mut inc = Incoming::default();
    for (name, value) in map.iter().filter(|(k, _)| k.as_str() != "attributes") {
        match value {
            Value::Object(parent) => {
                let mut keys = parent.iter().filter(|(k, _)| k.as_str() != "attributes");
                let (field, v) = keys.next().ok_or_else(|| {
                    ApiError::json_parser("Cannot deserialize instance of reference")
                })?;
                inc.refs.push(Reference {
                    relationship: name.clone(),
                    field: field.clone(),
                    input: input(v)?,
                });
            }
            other => inc.cells.push(Cell {
                name: name.clone(),
                input: input(other)?,
                col: 0,
            }),
        }
    }
    records::check_types(obj, &inc).map_err(|m| ApiError::json_parser(m.json_message()))?;
    Ok(inc)
}

/// `PATCH /composite/sobjects/{Obj}/{ExtIdField}`.
pub fn upsert(
    sim: &Simulator,
    object: &str,
    ext_field: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let obj = schema::object(object).ok_or_else(ApiError::not_found)?;
    // Doc §2.3: the key must be an external-id or id-lookup field.
    let key = obj
        .field(ext_field)
        .filter(|f| f.external_id || f.id_lookup)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                format!(
                    "Provided external ID field does not exist or is not accessible: {ext_field}"
                ),
            )
        })?;
    let body: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::json_parser(format!("Unexpected character: {e}")))?;
    let all_or_none = match body.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(ApiError::json_parser(
                "Cannot deserialize instance of boolean",
            ));
        }
    };
    let list = body
        .get("records")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::json_parser("Cannot deserialize instance of records"))?;
    if list.len() > MAX_RECORDS {
        return Err(ApiError::exceeded_id_limit());
    }
    let rows = list
        .iter()
        .map(|r| incoming(obj, r))
        .collect::<Result<Vec<_>, _>>()?;

    let mut counts: HashMap<String, usize> = HashMap::new();
    for row in &rows {
        if let Some(k) = row.get(key.name).and_then(|c| c.input.as_key()) {
            *counts.entry(k.to_lowercase()).or_default() += 1;
        }
    }
    let mut state = sim.lock();
    // One call is one transaction: its records share one timestamp.
    state.store.clock.pin();
    let received = state.received.entry(obj.name.to_string()).or_default();
    received.extend(
        rows.iter()
            .filter_map(|r| r.get(key.name).and_then(|c| c.input.as_key())),
    );
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(rows.len());
    let failed = if all_or_none {
        // Work on a copy so that a failure rolls everything back.
        let mut store = state.store.clone();
        let mut faults = state.faults.clone();
        for row in &rows {
            outcomes.push(upsert_one(&mut store, &mut faults, obj, key, row, &counts));
        }
        let failed = outcomes.iter().any(Result::is_err);
        state.faults.lock_external_ids = faults.lock_external_ids;
        if !failed {
            state.store = store;
        }
        failed
    } else {
        let state = &mut *state;
        for row in &rows {
            outcomes.push(upsert_one(
                &mut state.store,
                &mut state.faults,
                obj,
                key,
                row,
                &counts,
            ));
        }
        false
    };
    state.store.clock.unpin();
    drop(state);
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            Ok((id, created)) if !(all_or_none && failed) => {
                json!({"id": id, "success": true, "errors": [], "created": created})
            }
            Ok(_) => json!({"success": false, "errors": [RecordError::rolled_back()]}),
            Err(e) => json!({"success": false, "errors": [e]}),
        })
        .collect();
    Ok(Json(results).into_response())
}

fn upsert_one(
    store: &mut super::store::Store,
    faults: &mut super::faults::FaultConfig,
    obj: &'static Object,
    key: &'static schema::Field,
    row: &Incoming,
    counts: &HashMap<String, usize>,
) -> Outcome {
    if key.name != "Id" && row.get("Id").is_some() {
        return Err(RecordError::new(
            "INVALID_FIELD",
            "The Id field should not be specified in the sobject data.",
            vec![],
        ));
    }
    let value = row
        .get(key.name)
        .and_then(|c| c.input.as_key())
        .ok_or_else(|| {
            RecordError::new(
                "MISSING_ARGUMENT",
                format!("{} not specified", key.name),
                vec![],
            )
        })?;
    // Doc §3: every row sharing a key repeated in one request fails.
    if counts.get(&value.to_lowercase()).copied().unwrap_or(0) > 1 {
        return Err(RecordError::new(
            "DUPLICATE_VALUE",
            format!("Duplicate external id specified: {value}"),
            vec![],
        ));
    }
    let matches = store.table(obj).find(key, &value);
    let existing = match matches.as_slice() {
        [] => None,
        [id] => Some(id.clone()),
        many => return Err(records::duplicate_external_id(key, many)),
    };
    if key.name == "Id" && existing.is_none() {
        return Err(RecordError::new(
            "NOT_FOUND",
            format!("Provided external ID field does not exist or is not accessible: {value}"),
            vec![],
        ));
    }
    if let Some(e) = faults.lock_error(Some(&value), existing.as_deref()) {
        return Err(e);
    }
    let mode = if existing.is_some() {
        Mode::Update
    } else {
        Mode::Insert
    };
    let mut row = row.clone();
    if key.name == "Id" {
        row.cells.retain(|c| !c.name.eq_ignore_ascii_case("Id"));
    }
    let values = records::prepare(store, obj, &row, mode).map_err(|r| match r {
        Rejection::Record(e) => e,
        Rejection::Type(t) => RecordError::on("JSON_PARSER_ERROR", t.json_message(), t.field),
    })?;
    Ok(match existing {
        Some(id) => {
            store.update(obj, &id, values);
            (id, false)
        }
        None => (store.insert(obj, values), true),
    })
}

/// `DELETE /composite/sobjects?ids=…&allOrNone=` (docs/salesforce.md §3: allOrNone is a query parameter here).
pub fn delete(sim: &Simulator, query: Option<&str>) -> Result<Response, ApiError> {
    let params: HashMap<String, String> =
        url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let raw_ids: Vec<String> = params
        .get("ids")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    if raw_ids.is_empty() {
        // [UNVERIFIED] code and wording for a delete without ids.
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_ARGUMENT",
            "ids parameter is required",
        ));
    }
    if raw_ids.len() > MAX_RECORDS {
        return Err(ApiError::exceeded_id_limit());
    }
    let all_or_none = params
        .get("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let mut state = sim.lock();
    // One call is one transaction: its records share one timestamp.
    state.store.clock.pin();
    let mut store = state.store.clone();
    let mut faults = state.faults.clone();
    let mut outcomes = Vec::with_capacity(raw_ids.len());
    for raw in &raw_ids {
        outcomes.push(delete_one(&mut store, &mut faults, raw));
    }
    let failed = outcomes.iter().any(Result::is_err);
    state.faults.lock_external_ids = faults.lock_external_ids;
    if !(all_or_none && failed) {
        state.store = store;
    }
    state.store.clock.unpin();
    drop(state);
    let results: Vec<Value> = outcomes
        .into_iter()
        .map(|o| match o {
            Ok(id) if !(all_or_none && failed) => json!({"id": id, "success": true, "errors": []}),
            Ok(id) => json!({"id": id, "success": false, "errors": [RecordError::rolled_back()]}),
            Err(e) => json!({"success": false, "errors": [e]}),
        })
        .collect();
    Ok(Json(results).into_response())
}

fn delete_one(
    store: &mut super::store::Store,
    faults: &mut super::faults::FaultConfig,
    raw: &str,
) -> Result<String, RecordError> {
    let id = ids::normalize(raw)
        .ok_or_else(|| RecordError::new("MALFORMED_ID", format!("malformed id {raw}"), vec![]))?;
    let cross_ref = || {
        RecordError::new(
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            vec![],
        )
    };
    let obj = schema::object_by_prefix(&id).ok_or_else(cross_ref)?;
    let table = store.table(obj);
    let Some(record) = table.get(&id) else {
        if table.was_deleted(&id) {
            return Err(RecordError::new(
                "ENTITY_IS_DELETED",
                "entity is deleted",
                vec![],
            ));
        }
        return Err(cross_ref());
    };
    let ext = obj
        .lookup_fields()
        .find(|f| f.external_id)
        .and_then(|f| record.get(f.name))
        .and_then(Value::as_str)
        .map(String::from);
    if let Some(e) = faults.lock_error(ext.as_deref(), Some(&id)) {
        return Err(e);
    }
    store.delete(obj, &id);
    Ok(id)
}

/// `GET /sobjects/{Obj}/{Id}[?fields=a,b]` (docs/salesforce.md §2.2).
pub fn get_record(
    sim: &Simulator,
    object: &str,
    raw_id: &str,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let obj = schema::object(object).ok_or_else(ApiError::not_found)?;
    let id = ids::normalize(raw_id)
        .filter(|id| id.starts_with(obj.key_prefix))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "MALFORMED_ID",
                format!("{} ID: id value of incorrect type: {raw_id}", obj.label),
            )
            .with_fields(vec!["Id".into()])
        })?;
    let wanted: Option<Vec<String>> = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "fields")
        .map(|(_, v)| v.split(',').map(|s| s.trim().to_string()).collect());
    let state = sim.lock();
    let table = state.store.table(obj);
    let record = match table.get(&id) {
        Some(r) => r,
        None if table.was_deleted(&id) => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ENTITY_IS_DELETED",
                "entity is deleted",
            )
            .with_fields(vec![]));
        }
        None => return Err(ApiError::not_found()),
    };
    let mut out = Map::new();
    out.insert("attributes".into(), json!({"type": obj.name, "url": format!("/services/data/v{}/sobjects/{}/{id}", super::rest::LATEST_VERSION, obj.name)}));
    match wanted {
        Some(names) => {
            for name in names {
                let field = obj.field(&name).ok_or_else(|| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "INVALID_FIELD",
                        format!("No such column '{name}' on entity '{}'", obj.name),
                    )
                })?;
                out.insert(
                    field.name.into(),
                    record.get(field.name).cloned().unwrap_or(Value::Null),
                );
            }
        }
        None => out.extend(record.clone()),
    }
    Ok(Json(Value::Object(out)).into_response())
}
