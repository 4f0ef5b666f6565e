//! sObject Collections: up to 200 upserts by external id, or 200 deletions by Salesforce Id, in
//! one API call (salesforce-api.md §3).

use tracing::Instrument;

use super::batch::{Outcome, PushError, Pusher};
use super::permits::CallPermit;
use super::plan::Operation;
use super::records::outcome_of;
use super::store::{ClaimedRecord, RecordOutcome};
use crate::objects::ObjectSpec;
use crate::salesforce::SalesforceError;

impl Pusher {
    pub(super) async fn upsert(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
        permit: CallPermit,
    ) -> Result<Outcome, PushError> {
        let span = tracing::info_span!("push_batch", object = %spec.name, records = claimed.len(), batch_id = %uuid::Uuid::new_v4().simple());
        let payload = self
            .log_payloads
            .then(|| serde_json::to_string(&claimed.iter().map(|r| &r.fields).collect::<Vec<_>>()))
            .and_then(Result::ok);
        span.in_scope(|| tracing::debug!(external_ids = %crate::telemetry::id_list(claimed.iter().map(|r| r.external_id.as_str())), payload = payload.as_deref(), "batch claimed"));
        let records = claimed.iter().map(|r| r.fields.clone()).collect();
        let started = std::time::Instant::now();
        let result = self
            .client
            .upsert_collection(&spec.name, &spec.external_id_field, records)
            .instrument(span)
            .await;
        self.give_back(&permit).await;
        crate::observe::metrics::push_call(&spec.name, claimed.len(), started.elapsed());
        self.note_usage().await?;
        let outcomes = match result {
            Ok(results) if results.len() == claimed.len() => claimed
                .into_iter()
                .zip(&results)
                .map(|(r, result)| {
                    let outcome = outcome_of(&r, result, Operation::Upsert);
                    (r, outcome)
                })
                .collect(),
            Ok(results) => {
                let error = SalesforceError::Protocol(format!(
                    "{} results for {} records",
                    results.len(),
                    claimed.len()
                ));
                return self.request_failed(spec, claimed, error).await;
            }
            Err(error) => return self.request_failed(spec, claimed, error).await,
        };
        self.finish(spec, outcomes, started).await
    }

    /// Deletes by Salesforce Id in one collections call; a record never synced has nothing to
    /// delete in Salesforce and is only marked deleted here.
    pub(super) async fn delete(
        &self,
        spec: &ObjectSpec,
        claimed: Vec<ClaimedRecord>,
        permit: CallPermit,
    ) -> Result<Outcome, PushError> {
        let started = std::time::Instant::now();
        let (remote, local): (Vec<_>, Vec<_>) =
            claimed.into_iter().partition(|r| r.salesforce_id.is_some());
        let mut outcomes: Vec<_> = local
            .into_iter()
            .map(|r| (r, RecordOutcome::Deleted))
            .collect();
        if remote.is_empty() {
            self.give_back(&permit).await;
            return self.finish(spec, outcomes, started).await;
        }
        let ids: Vec<String> = remote
            .iter()
            .filter_map(|r| r.salesforce_id.clone())
            .collect();
        let span = tracing::info_span!("delete_batch", object = %spec.name, records = ids.len());
        let result = self.client.delete_collection(&ids).instrument(span).await;
        self.give_back(&permit).await;
        crate::observe::metrics::push_call(&spec.name, ids.len(), started.elapsed());
        self.note_usage().await?;
        match result {
            Ok(results) if results.len() == remote.len() => {
                outcomes.extend(remote.into_iter().zip(&results).map(|(r, result)| {
                    let outcome = outcome_of(&r, result, Operation::Delete);
                    (r, outcome)
                }));
                self.finish(spec, outcomes, started).await
            }
            other => {
                self.finish(spec, outcomes, started).await?;
                let error = match other {
                    Err(error) => error,
                    Ok(results) => SalesforceError::Protocol(format!(
                        "{} results for {} deletions",
                        results.len(),
                        remote.len()
                    )),
                };
                self.request_failed(spec, remote, error).await
            }
        }
    }
}
