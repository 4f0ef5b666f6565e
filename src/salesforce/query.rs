//! SOQL over REST: `query`, `queryAll` and the pages behind `nextRecordsUrl`
//! (<https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html>).
//!
//! Each page is one API call. Without `ORDER BY` Salesforce promises no order, so incremental
//! reads should order by `SystemModstamp, Id`.

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::client::{CallOptions, Payload, SalesforceClient};
use super::error::SalesforceError;

/// "The default is 2,000; the minimum is 200, and the maximum is 2,000"
/// (<https://developer.salesforce.com/docs/platform/api-rest/guide/headers-queryoptions.html>).
pub const QUERY_BATCH_SIZE: std::ops::RangeInclusive<u32> = 200..=2000;

/// One page of a query's results.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryPage {
    /// Rows matched by the whole query, not just this page.
    pub total_size: u64,
    pub done: bool,
    /// Where the next page is (`/services/data/vXX.X/query/01g…-2000`), when not `done`.
    pub next_records_url: Option<String>,
    /// The selected fields of each row, without Salesforce's `attributes` object.
    pub records: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    total_size: u64,
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    records: Vec<Map<String, Value>>,
}

impl From<RawPage> for QueryPage {
    fn from(raw: RawPage) -> Self {
        let records = raw
            .records
            .into_iter()
            .map(|mut r| {
                r.remove("attributes");
                r
            })
            .collect();
        Self {
            total_size: raw.total_size,
            done: raw.done,
            next_records_url: raw.next_records_url.filter(|_| !raw.done),
            records,
        }
    }
}

/// How to run a query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// `queryAll`: include deleted (recycle bin) rows, with `IsDeleted = true`.
    pub include_deleted: bool,
    /// Rows per page (`Sforce-Query-Options: batchSize`), 200–2,000; Salesforce may return fewer.
    pub batch_size: Option<u32>,
}

impl SalesforceClient {
    /// `GET /query?q=`: the first page of live rows.
    pub async fn query(&self, soql: &str) -> Result<QueryPage, SalesforceError> {
        self.query_with(soql, QueryOptions::default()).await
    }

    /// `GET /queryAll?q=`: the first page, deleted rows included.
    pub async fn query_all(&self, soql: &str) -> Result<QueryPage, SalesforceError> {
        let options = QueryOptions {
            include_deleted: true,
            ..QueryOptions::default()
        };
        self.query_with(soql, options).await
    }

    /// `GET /query?q=` or `/queryAll?q=` with a page size.
    pub async fn query_with(
        &self,
        soql: &str,
        options: QueryOptions,
    ) -> Result<QueryPage, SalesforceError> {
        if soql.trim().is_empty() {
            return Err(SalesforceError::InvalidInput("an empty SOQL query".into()));
        }
        let resource = if options.include_deleted {
            "queryAll"
        } else {
            "query"
        };
        let call_options = batch_options(options.batch_size)?;
        let answer = self
            .call_accepting(
                "application/json",
                Method::GET,
                &[resource],
                &[("q", soql)],
                Payload::Empty,
                &call_options,
            )
            .await?;
        Ok(answer.json::<RawPage>("query")?.into())
    }

    /// `GET` a page's `next_records_url`. Works for `query` and `queryAll` alike.
    pub async fn query_more(&self, next_records_url: &str) -> Result<QueryPage, SalesforceError> {
        let locator = locator(next_records_url, &self.api_version().to_string())?;
        let answer = self
            .call(Method::GET, &["query", locator], &[], Payload::Empty)
            .await?;
        Ok(answer.json::<RawPage>("query more")?.into())
    }
}

fn batch_options(batch_size: Option<u32>) -> Result<CallOptions, SalesforceError> {
    let mut options = CallOptions::default();
    if let Some(n) = batch_size {
        if !QUERY_BATCH_SIZE.contains(&n) {
            return Err(SalesforceError::InvalidInput(format!(
                "batch size {n} is outside {}–{}",
                QUERY_BATCH_SIZE.start(),
                QUERY_BATCH_SIZE.end()
            )));
        }
        let value = HeaderValue::from_str(&format!("batchSize={n}"))
            .map_err(|e| SalesforceError::InvalidInput(e.to_string()))?;
        options
            .headers
            .push((HeaderName::from_static("sforce-query-options"), value));
    }
    Ok(options)
}

/// The locator of `/services/data/<version>/query/<locator>` (or `queryAll/`), checked so a
/// URL from elsewhere can't steer the request.
fn locator<'a>(url: &'a str, version: &str) -> Result<&'a str, SalesforceError> {
    let invalid = || SalesforceError::InvalidInput(format!("{url:?} is not a nextRecordsUrl"));
    let rest = url
        .strip_prefix("/services/data/")
        .and_then(|r| r.strip_prefix(version))
        .ok_or_else(invalid)?;
    let locator = rest
        .strip_prefix("/query/")
        .or_else(|| rest.strip_prefix("/queryAll/"))
        .ok_or_else(invalid)?;
    let valid = !locator.is_empty()
        && locator
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    valid.then_some(locator).ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_records_urls_are_checked() {
        assert_eq!(
            locator(
                "/services/data/v62.0/query/01gRO0000016PIAYA2-2000",
                "v62.0"
            )
            .ok(),
            Some("01gRO0000016PIAYA2-2000")
        );
        assert!(locator("/services/data/v62.0/queryAll/01gX-4000", "v62.0").is_ok());
        for bad in [
            "/services/data/v61.0/query/01gX-2000",
            "https://evil.example/query/01gX-2000",
            "/services/data/v62.0/sobjects/Account",
            "/services/data/v62.0/query/../limits",
            "/services/data/v62.0/query/",
        ] {
            assert!(locator(bad, "v62.0").is_err(), "{bad}");
        }
    }

    #[test]
    fn pages_drop_attributes_and_batch_sizes_are_bounded() {
        let raw: RawPage = serde_json::from_str(
            r#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gX-1",
                "records":[{"attributes":{"type":"Account","url":"/x"},"Id":"001","Name":"A"}]}"#,
        )
        .expect("parses");
        let page = QueryPage::from(raw);
        assert_eq!(page.records[0].keys().collect::<Vec<_>>(), ["Id", "Name"]);
        assert!(page.next_records_url.is_some());
        assert!(batch_options(Some(199)).is_err());
        assert!(batch_options(Some(2001)).is_err());
        assert_eq!(batch_options(Some(500)).expect("ok").headers.len(), 1);
    }
}
