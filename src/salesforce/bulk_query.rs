//! Bulk API 2.0 query jobs: create → poll until `JobComplete` → read the result CSV page by page
//! with the `Sforce-Locator` of each page
//! (<https://developer.salesforce.com/docs/platform/api-asynch/guide/query-create-job.html>,
//! <https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/query_get_job_results.htm>).
//!
//! Every request is one API call; a first load of 100,000 rows costs create + polls + two pages
//! of 50,000. Polling cadence is the caller's.

use std::collections::HashMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::bulk::JobState;
use super::client::{Payload, SalesforceClient, api_name};
use super::error::SalesforceError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum QueryOperation {
    /// Live rows.
    Query,
    /// Live and deleted rows.
    QueryAll,
}

/// `GET /jobs/query/{id}`; fields beyond `id` and `state` may be absent from the create answer.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryJobInfo {
    pub id: String,
    pub state: JobState,
    #[serde(default)]
    pub operation: Option<QueryOperation>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub number_records_processed: Option<u64>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub retries: Option<u64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateQueryJob<'a> {
    operation: QueryOperation,
    query: &'a str,
    content_type: &'static str,
    column_delimiter: &'static str,
    line_ending: &'static str,
}

/// One page of a query job's results. Bulk CSV can't tell null from empty: both are `""`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultsPage {
    /// Column names, in the order of the SELECT list.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The locator of the next page; `None` after the last (`Sforce-Locator: null`).
    pub next_locator: Option<String>,
}

impl ResultsPage {
    /// The rows as column → value maps.
    pub fn records(&self) -> impl Iterator<Item = HashMap<&str, &str>> {
        self.rows.iter().map(|row| {
            self.columns
                .iter()
                .map(String::as_str)
                .zip(row.iter().map(String::as_str))
                .collect()
        })
    }
}

/// Reads a completed job's results page by page; each [`next`](Self::next) is one API call.
pub struct QueryResults {
    client: SalesforceClient,
    job_id: String,
    max_records: Option<u32>,
    next: Option<Option<String>>,
}

impl QueryResults {
    /// The next page, or `None` when every page has been read.
    pub async fn next(&mut self) -> Result<Option<ResultsPage>, SalesforceError> {
        let Some(locator) = self.next.take() else {
            return Ok(None);
        };
        let page = self
            .client
            .query_job_results(&self.job_id, locator.as_deref(), self.max_records)
            .await?;
        self.next = page.next_locator.clone().map(Some);
        Ok(Some(page))
    }
}

impl SalesforceClient {
    /// `POST /jobs/query` with CSV, COMMA, LF.
    pub async fn create_query_job(
        &self,
        soql: &str,
        operation: QueryOperation,
    ) -> Result<QueryJobInfo, SalesforceError> {
        if soql.trim().is_empty() {
            return Err(SalesforceError::InvalidInput("an empty SOQL query".into()));
        }
        let body = CreateQueryJob {
            operation,
            query: soql,
            content_type: "CSV",
            column_delimiter: "COMMA",
            line_ending: "LF",
        };
        let answer = self
            .call(Method::POST, &["jobs", "query"], &[], Payload::json(&body)?)
            .await?;
        answer.json("create query job")
    }

    /// `GET /jobs/query/{id}`: poll until [`JobState::is_terminal`].
    pub async fn query_job_info(&self, job_id: &str) -> Result<QueryJobInfo, SalesforceError> {
        let job_id = api_name(job_id)?;
        let answer = self
            .call(Method::GET, &["jobs", "query", job_id], &[], Payload::Empty)
            .await?;
        answer.json("query job info")
    }

    /// `PATCH /jobs/query/{id}` `{"state":"Aborted"}`.
    pub async fn abort_query_job(&self, job_id: &str) -> Result<QueryJobInfo, SalesforceError> {
        let job_id = api_name(job_id)?;
        let payload = Payload::json(&serde_json::json!({"state": "Aborted"}))?;
        let answer = self
            .call(Method::PATCH, &["jobs", "query", job_id], &[], payload)
            .await?;
        answer.json("abort query job")
    }

    /// `DELETE /jobs/query/{id}`: for finished jobs.
    pub async fn delete_query_job(&self, job_id: &str) -> Result<(), SalesforceError> {
        let job_id = api_name(job_id)?;
        self.call(
            Method::DELETE,
            &["jobs", "query", job_id],
            &[],
            Payload::Empty,
        )
        .await?;
        Ok(())
    }

    /// `GET /jobs/query/{id}/results[?locator=&maxRecords=]`: one page of a `JobComplete` job.
    pub async fn query_job_results(
        &self,
        job_id: &str,
        locator: Option<&str>,
        max_records: Option<u32>,
    ) -> Result<ResultsPage, SalesforceError> {
        let job_id = api_name(job_id)?;
        let max = max_records.map(|n| n.to_string());
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(l) = locator {
            query.push(("locator", l));
        }
        if let Some(m) = &max {
            query.push(("maxRecords", m.as_str()));
        }
        let answer = self
            .call_accepting(
                "text/csv",
                Method::GET,
                &["jobs", "query", job_id, "results"],
                &query,
                Payload::Empty,
                &Default::default(),
            )
            .await?;
        let next_locator = answer
            .headers
            .get("sforce-locator")
            .and_then(|v| v.to_str().ok())
            .filter(|l| !l.is_empty() && *l != "null")
            .map(str::to_owned);
        let (columns, rows) = parse_results(&answer.body)
            .map_err(|e| SalesforceError::Protocol(format!("query results CSV: {e}")))?;
        Ok(ResultsPage {
            columns,
            rows,
            next_locator,
        })
    }

    /// Every page of a `JobComplete` job's results, `max_records` rows at a time.
    pub fn query_results(&self, job_id: &str, max_records: Option<u32>) -> QueryResults {
        QueryResults {
            client: self.clone(),
            job_id: job_id.to_owned(),
            max_records,
            next: Some(None),
        }
    }
}

type Table = (Vec<String>, Vec<Vec<String>>);

fn parse_results(body: &[u8]) -> Result<Table, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(body);
    let columns = reader.headers()?.iter().map(str::to_owned).collect();
    let rows = reader
        .records()
        .map(|r| r.map(|row| row.iter().map(str::to_owned).collect()))
        .collect::<Result<_, _>>()?;
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_pages_parse_into_columns_and_rows() {
        let (columns, rows) =
            parse_results(b"\"Id\",\"Name\"\n\"001\",\"Acme, Inc.\"\n\"002\",\"\"\n")
                .expect("parses");
        let page = ResultsPage {
            columns,
            rows,
            next_locator: None,
        };
        let records: Vec<_> = page.records().collect();
        assert_eq!(records[0]["Name"], "Acme, Inc.");
        assert_eq!(records[1]["Name"], "");
        let body = serde_json::to_value(QueryOperation::QueryAll).expect("serializes");
        assert_eq!(body, "queryAll");
    }
}
