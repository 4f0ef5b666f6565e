//! Reading a sample file for `sluice mappings try`: a JSON array, NDJSON, or a CSV export
//! (comma, semicolon or tab separated, with a header row), each row becoming a record of text
//! values, as a sender turning the export into JSON would post it.

use std::path::Path;

use serde_json::{Map, Value};

use super::records::{MAX_RECORDS_PER_REQUEST, parse_array};
use super::strict_json::{self, Item};

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not UTF-8 text: save the export as UTF-8")]
    NotUtf8(String),
    #[error("{path}: {message}")]
    Json { path: String, message: String },
    #[error("{path}: not a CSV file with a header row")]
    Csv {
        path: String,
        #[source]
        source: csv::Error,
    },
    #[error("{path} holds more than {MAX_RECORDS_PER_REQUEST} records: try a sample")]
    TooMany { path: String },
    #[error("{path} holds no records")]
    Empty { path: String },
}

type Items = Vec<Item>;

/// Reads the records of `path`, by extension (`.json`, `.ndjson`/`.jsonl`, `.csv`/`.tsv`/`.txt`)
/// or, for any other name, by its first character.
pub fn read(path: &Path) -> Result<Items, SampleError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| SampleError::Io {
        path: shown.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SampleError::NotUtf8(shown.clone()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let items = match extension.as_deref() {
        Some("json") => json_array(text, &shown)?,
        Some("ndjson" | "jsonl") => ndjson(text),
        Some("csv" | "tsv" | "txt") => csv_rows(text, &shown)?,
        _ => match text.trim_start().chars().next() {
            Some('[') => json_array(text, &shown)?,
            Some('{') => ndjson(text),
            _ => csv_rows(text, &shown)?,
        },
    };
    if items.is_empty() {
        return Err(SampleError::Empty { path: shown });
    }
    if items.len() > MAX_RECORDS_PER_REQUEST {
        return Err(SampleError::TooMany { path: shown });
    }
    Ok(items)
}

fn json_array(text: &str, path: &str) -> Result<Items, SampleError> {
    let items = parse_array(text.as_bytes()).map_err(|e| SampleError::Json {
        path: path.to_owned(),
        message: e.message,
    })?;
    Ok(items)
}

/// Blank lines are skipped, as the API skips them.
fn ndjson(text: &str) -> Items {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .take(MAX_RECORDS_PER_REQUEST + 1)
        .enumerate()
        .map(|(index, line)| strict_json::parse_record(index, line.as_bytes()))
        .collect()
}

/// The separator the header row uses most: exports from French or German spreadsheets use `;`.
fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| header.bytes().filter(|b| b == d).count())
        .unwrap_or(b',')
}

fn csv_rows(text: &str, path: &str) -> Result<Items, SampleError> {
    let csv_error = |source| SampleError::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let mut items = Vec::new();
    for (index, row) in reader.records().enumerate() {
        if index > MAX_RECORDS_PER_REQUEST {
            break;
        }
        let row = row.map_err(csv_error)?;
        let record: Map<String, Value> = headers
            .iter()
            .zip(row.iter())
            .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
            .collect();
        items.push((index, Ok(Value::Object(record))));
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_exports_with_a_bom_and_semicolons_become_records_of_text() {
        let dir = std::env::temp_dir().join(format!("sluice-sample-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("factures.csv");
        std::fs::write(
            &path,
            "\u{feff}numero;montant\nF-1;\"1 234,56 €\"\nF-2;12\n",
        )
        .unwrap();
        let items = read(&path).unwrap();
        let records: Vec<Value> = items.into_iter().map(|(_, r)| r.unwrap()).collect();
        assert_eq!(
            records,
            [
                serde_json::json!({"numero": "F-1", "montant": "1 234,56 €"}),
                serde_json::json!({"numero": "F-2", "montant": "12"}),
            ]
        );
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(matches!(read(&path), Err(SampleError::NotUtf8(_))));
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn json_and_ndjson_samples() {
        let dir = std::env::temp_dir().join(format!("sluice-sample-json-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let array = dir.join("a.json");
        std::fs::write(&array, r#"[{"a": 1}, {"a": 2}]"#).unwrap();
        assert_eq!(read(&array).unwrap().len(), 2);
        let lines = dir.join("a.sample");
        std::fs::write(&lines, "{\"a\": 1}\n\n{bad\n").unwrap();
        let items = read(&lines).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[1].1.is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
