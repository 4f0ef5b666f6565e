//! What every request handler can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::auth::Authenticator;
use crate::config::Webhooks;
use crate::describe::Describes;
use crate::error::ApiError;
use crate::normalize::MappingSet;
use crate::objects::{Catalog, ObjectSpec};

/// The application's shared state, cloned into each handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    /// The objects the mappings write, parents first.
    pub catalog: Arc<Catalog>,
    pub mappings: Arc<MappingSet>,
    /// Salesforce's describes, to check records before they are staged.
    pub describes: Describes,
    pub authenticator: Authenticator,
    /// Largest request body read whole (`SLUICE_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Largest NDJSON stream (`SLUICE_MAX_STREAM_BYTES`).
    pub max_stream_bytes: usize,
    /// Most decompressed bytes per compressed byte of a gzip body (`SLUICE_MAX_DECOMPRESSION_RATIO`).
    pub max_decompression_ratio: usize,
    /// Most records the ingest inbox may hold before requests that would add to it are refused
    /// (`SLUICE_INBOX_MAX_RECORDS`).
    pub inbox_max_records: u64,
    /// The sources that send signed webhooks, with their secrets.
    pub webhooks: Arc<Webhooks>,
}

impl AppState {
    /// The object's catalog entry, or the 404 every route answers for an object the mappings do
    /// not write.
    pub fn object(&self, name: &str) -> Result<&ObjectSpec, ApiError> {
        self.catalog.get(name).ok_or_else(|| {
            ApiError::NotFound(format!("object {name:?} is not configured in this hub"))
        })
    }
}

impl FromRef<AppState> for Authenticator {
    fn from_ref(state: &AppState) -> Self {
        state.authenticator.clone()
    }
}
