//! A CSV answer parsed row by row as its chunks arrive (csv-core, the csv crate's parser), so
//! that a job's result CSV (§5.3), as large as its upload, is never held whole nor as a table
//! of strings: each row is handed over, then its buffer reused.

use std::fmt;

use csv_core::{ReadRecordResult, Reader};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A row that is not what a result CSV holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CsvRowError {
    /// A row whose field count differs from the header's.
    UnequalLengths {
        row: u64,
        expected: usize,
        found: usize,
    },
    NotUtf8 {
        row: u64,
    },
}

impl fmt::Display for CsvRowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnequalLengths {
                row,
                expected,
                found,
            } => write!(
                f,
                "row {row} has {found} fields where the header has {expected}"
            ),
            Self::NotUtf8 { row } => write!(f, "row {row} is not UTF-8"),
        }
    }
}

/// One row, read against the header.
#[derive(Clone, Copy)]
pub struct CsvRow<'a> {
    header: &'a [String],
    fields: &'a [&'a str],
}

impl<'a> CsvRow<'a> {
    /// The value in `column` (by header name); `None` if the CSV has no such column.
    pub fn get(&self, column: &str) -> Option<&'a str> {
        let at = self.header.iter().position(|h| h == column)?;
        self.fields.get(at).copied()
    }

    /// `(column, value)` pairs in the CSV's order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + use<'a> {
        self.header
            .iter()
            .map(String::as_str)
            .zip(self.fields.iter().copied())
    }
}

/// Parses the chunks given to [`feed`](Self::feed); the first row is the header.
pub struct CsvRows {
    reader: Reader,
    /// The row being read: its unescaped bytes and where each field ends.
    bytes: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    nends: usize,
    header: Option<Vec<String>>,
    rows: u64,
    /// The first bytes, held until they tell whether the CSV starts with a UTF-8 BOM (csv-core
    /// strips one only if its first input holds it whole); `None` once they have.
    start: Option<Vec<u8>>,
}

impl Default for CsvRows {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvRows {
    pub fn new() -> Self {
        Self {
            reader: Reader::new(),
            bytes: vec![0; 1024],
            ends: vec![0; 16],
            len: 0,
            nends: 0,
            header: None,
            rows: 0,
            start: Some(Vec::new()),
        }
    }

    /// Rows read so far, the header not counted.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Parses `input`, the next part of the CSV, calling `each` for every row it completes.
    pub fn feed(
        &mut self,
        input: &[u8],
        each: &mut dyn FnMut(CsvRow<'_>),
    ) -> Result<(), CsvRowError> {
        if input.is_empty() {
            // An empty input means the end to csv-core; `finish` says it.
            return Ok(());
        }
        let Some(mut start) = self.start.take() else {
            return self.read(input, each);
        };
        start.extend_from_slice(input);
        if start.len() < UTF8_BOM.len() && UTF8_BOM.starts_with(&start) {
            self.start = Some(start);
            return Ok(());
        }
        self.read(start.strip_prefix(UTF8_BOM).unwrap_or(&start), each)
    }

    /// The CSV has ended: parses a last row that had no line ending.
    pub fn finish(&mut self, each: &mut dyn FnMut(CsvRow<'_>)) -> Result<(), CsvRowError> {
        if let Some(start) = self.start.take().filter(|s| !s.is_empty()) {
            self.read(&start, each)?;
        }
        self.read(&[], each)
    }

    fn read(
        &mut self,
        mut input: &[u8],
        each: &mut dyn FnMut(CsvRow<'_>),
    ) -> Result<(), CsvRowError> {
        loop {
            let (result, nin, nout, nend) = self.reader.read_record(
                input,
                &mut self.bytes[self.len..],
                &mut self.ends[self.nends..],
            );
            input = &input[nin..];
            self.len += nout;
            self.nends += nend;
            match result {
                ReadRecordResult::InputEmpty | ReadRecordResult::End => return Ok(()),
                ReadRecordResult::OutputFull => {
                    let grown = self.bytes.len() * 2;
                    self.bytes.resize(grown, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    let row = self.row(each);
                    self.len = 0;
                    self.nends = 0;
                    row?;
                }
            }
        }
    }

    fn row(&mut self, each: &mut dyn FnMut(CsvRow<'_>)) -> Result<(), CsvRowError> {
        let row = self.rows + 1;
        let mut fields = Vec::with_capacity(self.nends);
        let mut start = 0;
        for &end in &self.ends[..self.nends] {
            let field = std::str::from_utf8(&self.bytes[start..end])
                .map_err(|_| CsvRowError::NotUtf8 { row })?;
            fields.push(field);
            start = end;
        }
        match &self.header {
            None => {
                self.header = Some(fields.into_iter().map(str::to_owned).collect());
                Ok(())
            }
            Some(header) if header.len() != fields.len() => Err(CsvRowError::UnequalLengths {
                row,
                expected: header.len(),
                found: fields.len(),
            }),
            Some(header) => {
                self.rows = row;
                each(CsvRow {
                    header,
                    fields: &fields,
                });
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `csv` fed in pieces of `step` bytes, as `(column, value)` lists.
    fn parse(csv: &[u8], step: usize) -> Result<Vec<Vec<(String, String)>>, CsvRowError> {
        let mut rows = Vec::new();
        let mut each = |row: CsvRow<'_>| {
            rows.push(
                row.iter()
                    .map(|(c, v)| (c.to_owned(), v.to_owned()))
                    .collect(),
            );
        };
        let mut parser = CsvRows::new();
        for piece in csv.chunks(step) {
            parser.feed(piece, &mut each)?;
        }
        parser.finish(&mut each)?;
        Ok(rows)
    }

    #[test]
    fn rows_split_anywhere_across_chunks_parse_as_a_whole() {
        let long = "y".repeat(5000);
        let csv = format!(
            "\u{feff}\"sf__Id\",\"sf__Error\",\"LastName\"\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --\",\"O\"\"Hara, \nJr\"\r\n\"001\",\"\",\"{long}\""
        );
        let whole = parse(csv.as_bytes(), csv.len()).unwrap();
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0][0], ("sf__Id".into(), "".into()));
        assert_eq!(whole[0][2], ("LastName".into(), "O\"Hara, \nJr".into()));
        assert_eq!(whole[1][2].1, long);
        for step in [1, 2, 3, 7, 64, 1000] {
            assert_eq!(parse(csv.as_bytes(), step).unwrap(), whole, "step {step}");
        }
    }

    #[test]
    fn an_empty_answer_has_no_rows_and_a_header_alone_none() {
        assert!(parse(b"", 10).unwrap().is_empty());
        assert!(parse(b"a,b\n", 10).unwrap().is_empty());
    }

    #[test]
    fn ragged_or_non_utf8_rows_are_errors() {
        assert_eq!(
            parse(b"a,b\n1,2\n3\n", 4),
            Err(CsvRowError::UnequalLengths {
                row: 2,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(parse(b"a\n\xC3\n", 1), Err(CsvRowError::NotUtf8 { row: 1 }));
    }

    #[test]
    fn columns_are_found_by_header_name() {
        let mut seen = Vec::new();
        let mut parser = CsvRows::new();
        parser
            .feed(b"Id,Ext__c\n001,E1\n", &mut |row| {
                let owned = |v: Option<&str>| v.map(str::to_owned);
                seen.push((owned(row.get("Ext__c")), owned(row.get("Missing"))));
            })
            .unwrap();
        assert_eq!(seen, [(Some("E1".to_owned()), None)]);
        assert_eq!(parser.rows(), 1);
    }
}
