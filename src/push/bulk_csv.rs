//! The CSV of a Bulk API 2.0 job (RFC 4180, LF, comma) and the keys that tie result rows back to
//! staged rows (docs/salesforce.md §5.2, §5.3).
//!
//! The CSV is never built whole: its columns are chosen from the records, its size counted
//! before the job is created (the upload limit, §5.4), and its rows written from the records a
//! chunk at a time while it is uploaded ([`JobCsv`]).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io;
use std::sync::Arc;

use serde_json::Value;

use crate::objects::ObjectSpec;
use crate::salesforce::{CsvRow, CsvSource};
use crate::staging::{ClaimedRecord, Operation};

/// Doc §5.2: an empty value is ignored on update; `#N/A` sets the field to null.
const NULL: &str = "#N/A";
/// A deletion job's only column.
pub const ID_COLUMN: &str = "Id";

/// A column after the first: a field, or one field of a reference (`Account.External_Id__c`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Field(String),
    Reference { relationship: String, field: String },
}

impl Column {
    fn header(&self) -> Cow<'_, str> {
        match self {
            Self::Field(name) => Cow::Borrowed(name),
            Self::Reference {
                relationship,
                field,
            } => Cow::Owned(format!("{relationship}.{field}")),
        }
    }

    fn value<'r>(&self, record: &'r ClaimedRecord) -> Option<&'r Value> {
        match self {
            Self::Field(name) => record.fields.get(name).filter(|v| !v.is_object()),
            Self::Reference {
                relationship,
                field,
            } => record.fields.get(relationship)?.as_object()?.get(field),
        }
    }
}

/// How a job's records are written: the columns, chosen from all the records before the first
/// row is written. For an upsert, the external id column first and then every field any record
/// has (a record without a field leaves it as it is in Salesforce, as in a collections call); a
/// reference `{"Account": {"External_Id__c": "A-1"}}` becomes the column
/// `Account.External_Id__c`. For a deletion, the Salesforce Ids.
#[derive(Debug, Clone)]
pub struct CsvLayout {
    operation: Operation,
    external_id_field: String,
    columns: Vec<Column>,
}

impl CsvLayout {
    pub fn new(spec: &ObjectSpec, operation: Operation, records: &[ClaimedRecord]) -> Self {
        let external_id_field = spec.external_id_field.to_string();
        let mut columns = BTreeSet::new();
        if operation == Operation::Upsert {
            for record in records {
                for (name, value) in &record.fields {
                    match value {
                        Value::Object(reference) => {
                            columns.extend(reference.keys().map(|field| Column::Reference {
                                relationship: name.clone(),
                                field: field.clone(),
                            }));
                        }
                        _ if *name == external_id_field => {}
                        _ => {
                            columns.insert(Column::Field(name.clone()));
                        }
                    }
                }
            }
        }
        // Sorted by header, as the columns of one flattened map would be.
        let mut columns: Vec<Column> = columns.into_iter().collect();
        columns.sort_by(|a, b| a.header().cmp(&b.header()));
        columns.dedup_by(|a, b| a.header() == b.header());
        Self {
            operation,
            external_id_field,
            columns,
        }
    }

    /// The CSV's size in bytes, counted by writing it to nowhere: known before the job is
    /// created, and sent as the upload's `Content-Length`.
    pub fn size(&self, records: &[ClaimedRecord]) -> u64 {
        let mut counter = Counter(0);
        let mut writer = writer(&mut counter);
        self.write_header(&mut writer);
        for record in records {
            self.write_row(&mut writer, record);
        }
        drop(writer);
        counter.0
    }

    // Writing to a Vec or a counter cannot fail.
    fn write_header<W: io::Write>(&self, writer: &mut csv::Writer<W>) {
        let _ = match self.operation {
            Operation::Delete => writer.write_record([ID_COLUMN]),
            Operation::Upsert => writer.write_record(
                std::iter::once(Cow::Borrowed(self.external_id_field.as_str()))
                    .chain(self.columns.iter().map(Column::header))
                    .map(|c| c.into_owned()),
            ),
        };
    }

    fn write_row<W: io::Write>(&self, writer: &mut csv::Writer<W>, record: &ClaimedRecord) {
        let _ = match self.operation {
            Operation::Delete => writer.write_record([salesforce_id(record)]),
            Operation::Upsert => {
                let _ = writer.write_field(external_id(&self.external_id_field, record).as_bytes());
                for column in &self.columns {
                    let value = column.value(record).map(cell).unwrap_or_default();
                    let _ = writer.write_field(value.as_bytes());
                }
                writer.write_record(None::<&[u8]>)
            }
        };
    }
}

/// A job's CSV, written from its records while it is uploaded. It holds the records (shared with
/// the job) until the upload's body is dropped.
pub struct JobCsv {
    layout: CsvLayout,
    records: Arc<Vec<ClaimedRecord>>,
    len: u64,
}

impl JobCsv {
    /// `len` is `layout.size(&records)`, counted before.
    pub fn new(layout: CsvLayout, records: Arc<Vec<ClaimedRecord>>, len: u64) -> Self {
        Self {
            layout,
            records,
            len,
        }
    }
}

impl CsvSource for JobCsv {
    fn size(&self) -> u64 {
        self.len
    }

    /// `cursor`: 0 before the header, then 1 + the rows written.
    fn write_next(&self, cursor: &mut usize, out: &mut Vec<u8>, target: usize) {
        let mut writer = writer(out);
        if *cursor == 0 {
            self.layout.write_header(&mut writer);
            *cursor = 1;
        }
        while let Some(record) = self.records.get(*cursor - 1) {
            self.layout.write_row(&mut writer, record);
            *cursor += 1;
            if writer.get_ref().len() >= target {
                break;
            }
        }
        let _ = writer.flush();
    }
}

fn writer<W: io::Write>(to: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(to)
}

/// Counts what is written to it.
struct Counter(u64);

impl io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The key of `record` in its job's CSV, as [`CsvLayout`] writes it and [`row_key`] reads it back.
pub fn record_key(spec: &ObjectSpec, operation: Operation, record: &ClaimedRecord) -> String {
    match operation {
        Operation::Delete => salesforce_id(record).to_owned(),
        Operation::Upsert => key_of(&external_id(&spec.external_id_field, record)),
    }
}

/// The key that correlates a result row (its uploaded columns) with a record.
pub fn row_key(
    spec: &ObjectSpec,
    operation: Operation,
    sf_id: Option<&str>,
    fields: &CsvRow<'_>,
) -> Option<String> {
    match operation {
        Operation::Upsert => fields.get(&spec.external_id_field).map(key_of),
        Operation::Delete => fields
            .get(ID_COLUMN)
            .or(sf_id)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
    }
}

/// The external id column's value: the field as the record has it, or the staged key.
fn external_id<'r>(field: &str, record: &'r ClaimedRecord) -> Cow<'r, str> {
    match record.fields.get(field).filter(|v| !v.is_object()) {
        Some(value) => cell(value),
        None => Cow::Borrowed(record.external_id.as_str()),
    }
}

fn salesforce_id(record: &ClaimedRecord) -> &str {
    record.salesforce_id.as_ref().map_or("", |id| id.as_str())
}

/// External ids match case-insensitively in Salesforce.
fn key_of(external_id: &str) -> String {
    external_id.to_lowercase()
}

fn cell(value: &Value) -> Cow<'_, str> {
    match value {
        Value::Null => NULL.into(),
        Value::String(s) if s.is_empty() => NULL.into(),
        Value::String(s) => Cow::Borrowed(s),
        Value::Bool(b) => b.to_string().into(),
        Value::Number(n) => n.to_string().into(),
        other => other.to_string().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::staging::{ExternalId, SalesforceId};

    fn spec() -> ObjectSpec {
        crate::objects::Catalog::default_set()
            .get("Contact")
            .cloned()
            .unwrap()
    }

    fn record(id: i64, fields: Value, salesforce_id: Option<&str>) -> ClaimedRecord {
        ClaimedRecord {
            id,
            external_id: ExternalId::parse(fields["External_Id__c"].as_str().unwrap_or("X"))
                .unwrap(),
            fields: fields.as_object().cloned().unwrap(),
            version: 1,
            attempts: 1,
            salesforce_id: salesforce_id.map(|id| SalesforceId::parse(id).unwrap()),
        }
    }

    /// The CSV as the upload writes it, in chunks of about `target` bytes; checks that its
    /// size was counted right.
    fn csv(operation: Operation, records: Vec<ClaimedRecord>, target: usize) -> String {
        let layout = CsvLayout::new(&spec(), operation, &records);
        let len = layout.size(&records);
        let source = JobCsv::new(layout, Arc::new(records), len);
        let (mut out, mut cursor) = (Vec::new(), 0);
        loop {
            let before = out.len();
            source.write_next(&mut cursor, &mut out, before.saturating_add(target));
            if out.len() == before {
                break;
            }
        }
        assert_eq!(out.len() as u64, len, "the counted size");
        String::from_utf8(out).unwrap()
    }

    /// The key `row_key` reads from the one row of `csv`.
    fn key_of_row(operation: Operation, sf_id: Option<&str>, csv: &str) -> Option<String> {
        let mut key = None;
        let mut each = |row: CsvRow<'_>| key = row_key(&spec(), operation, sf_id, &row);
        let mut rows = crate::salesforce::CsvRows::new();
        rows.feed(csv.as_bytes(), &mut each).unwrap();
        rows.finish(&mut each).unwrap();
        key
    }

    #[test]
    fn upsert_csv_quotes_per_rfc_4180_and_spells_references_and_nulls_as_bulk_wants() {
        let records = vec![
            record(
                1,
                json!({"External_Id__c": "C-1", "LastName": "O\"Hara, \"Jr\"",
                       "Account": {"External_Id__c": "A-1"}, "Email": null}),
                None,
            ),
            record(
                2,
                json!({"External_Id__c": "c-2", "LastName": "Two\nlines", "Age__c": 42}),
                None,
            ),
        ];
        let keys: Vec<String> = records
            .iter()
            .map(|r| record_key(&spec(), Operation::Upsert, r))
            .collect();
        assert_eq!(
            csv(Operation::Upsert, records, 1 << 16),
            "External_Id__c,Account.External_Id__c,Age__c,Email,LastName\n\
             C-1,A-1,,#N/A,\"O\"\"Hara, \"\"Jr\"\"\"\n\
             c-2,,42,,\"Two\nlines\"\n"
        );
        assert_eq!(keys, ["c-1", "c-2"]);
        assert_eq!(
            key_of_row(Operation::Upsert, None, "External_Id__c\nC-2\n").as_deref(),
            Some("c-2")
        );
    }

    #[test]
    fn delete_csv_lists_salesforce_ids() {
        let records = vec![record(
            1,
            json!({"External_Id__c": "C-1"}),
            Some("003000000000001AAA"),
        )];
        assert_eq!(
            record_key(&spec(), Operation::Delete, &records[0]),
            "003000000000001AAA"
        );
        assert_eq!(
            csv(Operation::Delete, records, 1 << 16),
            "Id\n003000000000001AAA\n"
        );
        assert_eq!(
            key_of_row(
                Operation::Delete,
                Some("003000000000001AAA"),
                "sf__Id\n\"\"\n"
            )
            .as_deref(),
            Some("003000000000001AAA")
        );
    }

    #[test]
    fn written_in_small_chunks_the_csv_is_the_same_as_written_at_once() {
        let records = || -> Vec<ClaimedRecord> {
            (0..500)
                .map(|i| {
                    let fields = match i % 3 {
                        0 => json!({"External_Id__c": format!("C-{i}"), "LastName": "A,\"b\""}),
                        1 => json!({"External_Id__c": format!("C-{i}"), "Email": format!("{i}@x.org")}),
                        _ => json!({"External_Id__c": format!("C-{i}"), "Account": {"External_Id__c": i}}),
                    };
                    record(i, fields, None)
                })
                .collect()
        };
        let whole = csv(Operation::Upsert, records(), usize::MAX);
        assert_eq!(whole.lines().count(), 501);
        for target in [1, 10, 1000] {
            assert_eq!(
                csv(Operation::Upsert, records(), target),
                whole,
                "target {target}"
            );
        }
    }
}
