//! The one door for records that come in another way than the records API (a webhook event, a
//! page pulled from an API): they are normalized, checked and staged exactly as posted records.

use serde_json::Value;
use sqlx::PgConnection;

use super::IngestResponse;
use super::pipeline::stage_chunk;
use crate::normalize::Mapping;
use crate::salesforce::SObjectDescribe;
use crate::staging::ObjectName;

/// Stages `records` of `object` through `mapping` in the caller's transaction: each record is
/// normalized, checked against the describe (when known), records with one external id merged,
/// and the valid ones staged. The answer counts them and lists the rejected ones (at most 1000).
pub async fn stage_records(
    conn: &mut PgConnection,
    object: &ObjectName,
    mapping: &Mapping,
    describe: Option<&SObjectDescribe>,
    records: Vec<Value>,
) -> Result<IngestResponse, sqlx::Error> {
    let mut answer = IngestResponse::default();
    if records.is_empty() {
        return Ok(answer);
    }
    let items = records.into_iter().map(Ok).enumerate().collect();
    let (batch, outcomes) = stage_chunk(conn, object, mapping, describe, items).await?;
    answer.add(batch, &outcomes, true);
    Ok(answer)
}
