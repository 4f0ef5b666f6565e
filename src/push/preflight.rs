//! Rows written straight into `staging_records` with SQL never went through ingest's checks.
//! Before an upsert is sent, each record is checked against Salesforce's describe as ingest
//! would: one that Salesforce would refuse for a reason the describe shows fails here, with the
//! code Salesforce would have answered, and costs no API call.

use super::batch::{PushError, Pusher};
use super::store::{self, ClaimedRecord, PushFailure, RecordOutcome};
use crate::normalize::validate_record;
use crate::objects::ObjectSpec;

impl Pusher {
    /// Returns the records fit to send; the others are written back as failed.
    pub(super) async fn preflight(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
    ) -> Result<Vec<ClaimedRecord>, PushError> {
        let Some(describe) = self.describes.get(&spec.name) else {
            return Ok(claimed);
        };
        let mut fit = Vec::with_capacity(claimed.len());
        let mut refused = Vec::new();
        for record in claimed {
            // Without a Salesforce Id the upsert may create the record: required fields apply.
            let issues = validate_record(&describe, &record.fields, record.salesforce_id.is_none());
            match issues.first() {
                None => fit.push(record),
                Some(first) => {
                    let failure = PushFailure {
                        code: first
                            .salesforce_code
                            .clone()
                            .unwrap_or_else(|| "INVALID_FIELD".to_owned()),
                        message: issues
                            .iter()
                            .map(|i| format!("{}: {}", i.field, i.message))
                            .collect::<Vec<_>>()
                            .join("; "),
                        fields: issues.iter().map(|i| i.field.clone()).collect(),
                    };
                    refused.push((record, RecordOutcome::Failed(failure)));
                }
            }
        }
        if !refused.is_empty() {
            tracing::warn!(object = %spec.name, records = refused.len(), "rows refused before sending: they do not fit Salesforce's describe");
            store::record_outcomes(&self.pool, &self.owner, self.cfg.max_attempts, &refused)
                .await?;
        }
        Ok(fit)
    }
}
