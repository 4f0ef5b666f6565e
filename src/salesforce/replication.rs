//! getUpdated and getDeleted: ids changed or deleted in a time window
//! (<https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getupdated.html>,
//! <https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getdeleted.html>).
//!
//! Salesforce drops the seconds of `start` and `end`, looks back 30 days (deletions: 15), and
//! answers `latestDateCovered`: resume the next window from it, not from `end`.

use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Method;
use serde::Deserialize;

use super::client::{Payload, SalesforceClient, api_name};
use super::error::SalesforceError;

/// `GET /sobjects/{object}/updated/`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedIds {
    pub ids: Vec<String>,
    #[serde(deserialize_with = "super::datetime::deserialize")]
    pub latest_date_covered: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecord {
    pub id: String,
    #[serde(deserialize_with = "super::datetime::deserialize")]
    pub deleted_date: DateTime<Utc>,
}

/// `GET /sobjects/{object}/deleted/`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecords {
    #[serde(rename = "deletedRecords")]
    pub records: Vec<DeletedRecord>,
    /// Deletions before this were purged: a window starting earlier may have lost some.
    #[serde(deserialize_with = "super::datetime::deserialize")]
    pub earliest_date_available: DateTime<Utc>,
    #[serde(deserialize_with = "super::datetime::deserialize")]
    pub latest_date_covered: DateTime<Utc>,
}

impl SalesforceClient {
    /// Ids of `object` records created or changed in `[start, end)`, one API call.
    pub async fn get_updated(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<UpdatedIds, SalesforceError> {
        let answer = self.replication(object, "updated", start, end).await?;
        answer.json("getUpdated")
    }

    /// `object` records deleted in `[start, end)`, one API call.
    pub async fn get_deleted(
        &self,
        object: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<DeletedRecords, SalesforceError> {
        let answer = self.replication(object, "deleted", start, end).await?;
        answer.json("getDeleted")
    }

    async fn replication(
        &self,
        object: &str,
        which: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<super::client::Answer, SalesforceError> {
        let object = api_name(object)?;
        if start >= end {
            return Err(SalesforceError::InvalidInput(format!(
                "the window's start {start} is not before its end {end}"
            )));
        }
        // The documented form, `YYYY-MM-DDThh:mm:ss+hh:mm`, URL-encoded by the query builder.
        let format = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, false);
        let (start, end) = (format(start), format(end));
        self.call(
            Method::GET,
            &["sobjects", object, which, ""],
            &[("start", start.as_str()), ("end", end.as_str())],
            Payload::Empty,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_with_salesforce_datetimes() {
        let updated: UpdatedIds = serde_json::from_str(
            r#"{"ids":["a00D0000008pQR5IAM"],"latestDateCovered":"2013-05-08T21:20:00.000+0000"}"#,
        )
        .expect("parses");
        assert_eq!(
            updated.latest_date_covered.to_rfc3339(),
            "2013-05-08T21:20:00+00:00"
        );
        let deleted: DeletedRecords = serde_json::from_str(
            r#"{"deletedRecords":[{"id":"001","deletedDate":"2013-05-07T22:07:19.000+0000"}],
                "earliestDateAvailable":"2013-05-03T15:57:00.000+0000",
                "latestDateCovered":"2013-05-08T21:20:00.000+0000"}"#,
        )
        .expect("parses");
        assert_eq!(deleted.records[0].id, "001");
    }
}
