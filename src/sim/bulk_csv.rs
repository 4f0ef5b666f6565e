//! Processing a Bulk 2.0 job's CSV and rendering its result CSVs (docs/salesforce.md §5.2, §5.3).

use std::collections::HashMap;

use super::bulk::{Job, Operation};
use super::error::RecordError;
use super::faults::FaultConfig;
use super::ids;
use super::records::{self, Cell, Incoming, Input, Mode, Reference, Rejection};
use super::schema::{Field, Object};
use super::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Successful,
    Failed,
    Unprocessed,
}

#[derive(Debug, Clone, Default)]
pub struct Outcome {
    header: Vec<String>,
    successes: Vec<(String, bool, Vec<String>)>,
    failures: Vec<(String, String, Vec<String>)>,
    unprocessed: Vec<Vec<String>>,
}

impl Outcome {
    /// `(numberRecordsProcessed, numberRecordsFailed)`.
    pub fn counts(&self) -> (u64, u64) {
        let failed = self.failures.len() as u64;
        (self.successes.len() as u64 + failed, failed)
    }

    /// Doc §5.3: `sf__Id,sf__Created,…`, `sf__Id,sf__Error,…`, or the original columns.
    pub fn render(&self, kind: Kind, delimiter: u8) -> String {
        let mut w = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .quote_style(csv::QuoteStyle::Always)
            .from_writer(Vec::new());
        let mut rows: Vec<Vec<String>> = Vec::new();
        let prefixed = |a: &str, b: &str| {
            [a.to_string(), b.to_string()]
                .into_iter()
                .chain(self.header.iter().cloned())
                .collect::<Vec<_>>()
        };
        match kind {
            Kind::Successful => {
                rows.push(prefixed("sf__Id", "sf__Created"));
                for (id, created, row) in &self.successes {
                    rows.push(
                        [id.clone(), created.to_string()]
                            .into_iter()
                            .chain(row.iter().cloned())
                            .collect(),
                    );
                }
            }
            Kind::Failed => {
                rows.push(prefixed("sf__Id", "sf__Error"));
                for (id, error, row) in &self.failures {
                    rows.push(
                        [id.clone(), error.clone()]
                            .into_iter()
                            .chain(row.iter().cloned())
                            .collect(),
                    );
                }
            }
            Kind::Unprocessed => {
                rows.push(self.header.clone());
                rows.extend(self.unprocessed.iter().cloned());
            }
        }
        for row in rows {
            if let Err(e) = w.write_record(&row) {
                tracing::error!(error = %e, "writing a bulk result row to memory failed");
            }
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }
}

/// Reads the uploaded CSV; rows are kept as written.
fn read(job: &Job) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let data = job
        .data
        .as_deref()
        .ok_or("InvalidBatch : No data was uploaded for this job")?;
    // Doc §5.1: the file's line ending must match the job's `lineEnding`.
    if let Some(pos) = data.iter().position(|b| *b == b'\n') {
        let crlf = pos > 0 && data[pos - 1] == b'\r';
        if crlf != job.crlf {
            let setting = if job.crlf { "CRLF" } else { "LF" };
            return Err(format!(
                "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is {setting}"
            ));
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(job.delimiter.1)
        .has_headers(true)
        .from_reader(data);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("InvalidBatch : {e}"))?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("InvalidBatch : {e}"))?;
        rows.push(record.iter().map(String::from).collect());
    }
    Ok((header, rows))
}

/// An Aborted job: whatever was uploaded is unprocessed.
pub fn unprocessed_only(job: &Job) -> Outcome {
    let (header, rows) = read(job).unwrap_or_default();
    Outcome {
        header,
        unprocessed: rows,
        ..Outcome::default()
    }
}

enum Column {
    Id,
    Field(&'static Field),
    Ref(String, String),
}

fn columns(obj: &'static Object, header: &[String]) -> Result<Vec<Column>, String> {
    let not_found = |c: &str| format!("InvalidBatch : Field name not found : {c}");
    header
        .iter()
        .map(|name| {
            if name.eq_ignore_ascii_case("Id") {
                return Ok(Column::Id);
            }
            if let Some((rel, field)) = name.split_once('.') {
                let parent = obj
                    .relationship(rel)
                    .and_then(|f| f.reference_to)
                    .and_then(super::schema::object)
                    .ok_or_else(|| not_found(name))?;
                parent.field(field).ok_or_else(|| not_found(name))?;
                return Ok(Column::Ref(rel.to_string(), field.to_string()));
            }
            obj.field(name)
                .map(Column::Field)
                .ok_or_else(|| not_found(name))
        })
        .collect()
}

/// Processes every row; the `String` is the job's `errorMessage` when the whole job failed.
pub fn process(
    store: &mut Store,
    faults: &mut FaultConfig,
    job: &Job,
    batches: &mut u64,
) -> (Outcome, Option<String>) {
    let (header, rows) = match read(job) {
        Ok(parsed) => parsed,
        Err(message) => return (Outcome::default(), Some(message)),
    };
    let cols = match columns(job.object, &header) {
        Ok(cols) => cols,
        Err(message) => {
            return (
                Outcome {
                    header,
                    unprocessed: rows,
                    ..Outcome::default()
                },
                Some(message),
            );
        }
    };
    // Doc §5.4: internal batches of 10,000 records count against DailyBulkApiBatches.
    *batches += (rows.len() as u64).div_ceil(10_000).max(1);
    let key_counts = duplicate_keys(job, &header, &rows);
    let mut outcome = Outcome {
        header,
        ..Outcome::default()
    };
    for row in rows {
        match process_row(store, faults, job, &cols, &row, &key_counts) {
            Ok((id, created)) => outcome.successes.push((id, created, row)),
            Err((id, e)) => outcome
                .failures
                .push((id.unwrap_or_default(), e.bulk_cell(), row)),
        }
    }
    (outcome, None)
}

fn duplicate_keys(job: &Job, header: &[String], rows: &[Vec<String>]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let Some(key) = job.ext_field else {
        return counts;
    };
    let Some(pos) = header.iter().position(|h| h.eq_ignore_ascii_case(key.name)) else {
        return counts;
    };
    for row in rows {
        if let Some(v) = row.get(pos).filter(|v| !v.is_empty()) {
            *counts.entry(v.to_lowercase()).or_insert(0) += 1;
        }
    }
    counts
}

type RowResult = Result<(String, bool), (Option<String>, RecordError)>;

fn process_row(
    store: &mut Store,
    faults: &mut FaultConfig,
    job: &Job,
    cols: &[Column],
    row: &[String],
    key_counts: &HashMap<String, usize>,
) -> RowResult {
    let obj = job.object;
    let mut inc = Incoming::default();
    let mut id_value = None;
    for (i, (col, value)) in cols.iter().zip(row).enumerate() {
        // Doc §5.2: an empty value is ignored; `#N/A` sets null.
        let input = match value.as_str() {
            "" => continue,
            "#N/A" => Input::Null,
            v => Input::Text(v.to_string()),
        };
        match col {
            Column::Id => id_value = Some(value.clone()),
            Column::Field(f) => inc.cells.push(Cell {
                name: f.name.to_string(),
                input,
                col: i + 1,
            }),
            Column::Ref(rel, field) => inc.refs.push(Reference {
                relationship: rel.clone(),
                field: field.clone(),
                input,
            }),
        }
    }
    let fail = |id: Option<String>, e: RecordError| Err((id, e));
    let (existing, mode) = match job.operation {
        Operation::Insert => {
            if id_value.is_some() {
                return fail(
                    None,
                    RecordError::new(
                        "INVALID_FIELD",
                        "The Id field should not be specified in the sobject data.",
                        vec![],
                    ),
                );
            }
            (None, Mode::Insert)
        }
        Operation::Update | Operation::Delete => {
            let id = existing_by_id(store, obj, id_value.as_deref()).map_err(|e| (None, e))?;
            (Some(id), Mode::Update)
        }
        Operation::Upsert => {
            let key = job.ext_field.ok_or((
                None,
                RecordError::new(
                    "MISSING_ARGUMENT",
                    "External ID field not specified",
                    vec![],
                ),
            ))?;
            let value = inc
                .get(key.name)
                .and_then(|c| c.input.as_key())
                .ok_or_else(|| {
                    (
                        None,
                        RecordError::new(
                            "MISSING_ARGUMENT",
                            format!("{} not specified", key.name),
                            vec![],
                        ),
                    )
                })?;
            if key_counts.get(&value.to_lowercase()).copied().unwrap_or(0) > 1 {
                return fail(
                    None,
                    RecordError::new(
                        "DUPLICATE_VALUE",
                        format!("Duplicate external id specified: {value}"),
                        vec![],
                    ),
                );
            }
            match store.table(obj).find(key, &value).as_slice() {
                [] => (None, Mode::Insert),
                [id] => (Some(id.clone()), Mode::Update),
                many => return fail(None, records::duplicate_external_id(key, many)),
            }
        }
    };
    let ext = obj
        .lookup_fields()
        .find(|f| f.external_id)
        .and_then(|f| inc.get(f.name))
        .and_then(|c| c.input.as_key());
    if let Some(e) = faults.lock_error(ext.as_deref(), existing.as_deref()) {
        return fail(existing, e);
    }
    if job.operation == Operation::Delete {
        let id = existing.unwrap_or_default();
        store.delete(obj, &id);
        return Ok((id, false));
    }
    let values = records::prepare(store, obj, &inc, mode).map_err(|r| {
        let e = match r {
            Rejection::Record(e) => e,
            Rejection::Type(t) => t.bulk_error(),
        };
        (existing.clone(), e)
    })?;
    Ok(match existing {
        Some(id) => {
            store.update(obj, &id, values);
            (id, false)
        }
        None => (store.insert(obj, values), true),
    })
}

fn existing_by_id(
    store: &Store,
    obj: &'static Object,
    raw: Option<&str>,
) -> Result<String, RecordError> {
    let raw =
        raw.ok_or_else(|| RecordError::new("MISSING_ARGUMENT", "Id not specified", vec![]))?;
    let id = ids::normalize(raw)
        .filter(|id| id.starts_with(obj.key_prefix))
        .ok_or_else(|| {
            RecordError::on(
                "MALFORMED_ID",
                format!("{} ID: id value of incorrect type: {raw}", obj.label),
                "Id",
            )
        })?;
    let table = store.table(obj);
    if table.get(&id).is_some() {
        return Ok(id);
    }
    if table.was_deleted(&id) {
        return Err(RecordError::new(
            "ENTITY_IS_DELETED",
            "entity is deleted",
            vec![],
        ));
    }
    Err(RecordError::new(
        "INVALID_CROSS_REFERENCE_KEY",
        "invalid cross reference id",
        vec![],
    ))
}
