//! A Bulk API 2.0 query job, its JobInfo, and its result pages.
//! <https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.html>

use base64::Engine;
use serde_json::{Value, json};

use super::bulk_job::JobState;
use super::soql::Bound;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryOperation {
    /// Live records only.
    Query,
    /// Live and deleted (recycle bin) records.
    QueryAll,
}

impl QueryOperation {
    pub fn name(self) -> &'static str {
        match self {
            Self::Query => "query",
            Self::QueryAll => "queryAll",
        }
    }
}

#[derive(Debug, Clone)]
pub struct QueryJob {
    pub id: String,
    pub operation: QueryOperation,
    pub bound: Bound,
    pub state: JobState,
    pub created: String,
    pub modstamp: String,
    pub api_version: u32,
    pub crlf: bool,
    pub delimiter: (&'static str, u8),
    /// Result rows, once the job has run.
    pub rows: Option<Vec<Vec<String>>>,
}

impl QueryJob {
    pub fn info(&self, full: bool) -> Value {
        let mut v = json!({
            "id": self.id, "operation": self.operation.name(), "object": self.bound.object.name,
            "createdById": "0055g00000SiMuLAAV", "createdDate": self.created,
            "systemModstamp": self.modstamp, "state": self.state.name(),
            "concurrencyMode": "Parallel", "contentType": "CSV",
            "apiVersion": f64::from(self.api_version),
            "lineEnding": if self.crlf { "CRLF" } else { "LF" },
            "columnDelimiter": self.delimiter.0,
        });
        if full {
            v["jobType"] = json!("V2Query");
            v["numberRecordsProcessed"] = json!(self.rows.as_ref().map_or(0, Vec::len));
            v["retries"] = json!(0);
            v["totalProcessingTime"] = json!(0);
            v["isPkChunkingSupported"] = json!(true);
        }
        v
    }

    /// One page of results: the CSV, how many rows it holds, and the next locator (`None` at
    /// the end). `offset` must come from [`decode_locator`].
    pub fn page(&self, offset: usize, max: usize) -> (String, usize, Option<String>) {
        let rows = self.rows.as_deref().unwrap_or(&[]);
        let end = offset.saturating_add(max).min(rows.len());
        let mut w = csv::WriterBuilder::new()
            .delimiter(self.delimiter.1)
            .quote_style(csv::QuoteStyle::Always)
            .terminator(if self.crlf {
                csv::Terminator::CRLF
            } else {
                csv::Terminator::Any(b'\n')
            })
            .from_writer(Vec::new());
        let header: Vec<&str> = self.bound.fields.iter().map(|f| f.name).collect();
        let written = std::iter::once(header.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .chain(rows[offset.min(end)..end].iter().cloned())
            .try_for_each(|row| w.write_record(&row));
        if let Err(e) = written {
            tracing::error!(error = %e, "writing a bulk query page to memory failed");
        }
        let body = w
            .into_inner()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let next = (end < rows.len()).then(|| encode_locator(end));
        (body, end - offset.min(end), next)
    }
}

/// Locators are opaque strings such as `MTAwMDA` ("a pseudorandom string"; that example is the
/// base64 of `10000`): <https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm>.
pub fn encode_locator(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(offset.to_string())
}

pub fn decode_locator(locator: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(locator)
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_look_like_salesforces_and_round_trip() {
        assert_eq!(encode_locator(10_000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA"), Some(10_000));
        assert_eq!(decode_locator("null"), None);
    }
}
