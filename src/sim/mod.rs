//! A Salesforce simulator for tests and local runs.
//!
//! As strict as the Salesforce behaviour documented in `docs/salesforce.md` (cited by section,
//! "docs/salesforce.md §N"): the JWT bearer token endpoint, REST under `/services/data/vXX.X/`
//! with Salesforce's auth, limit and error shapes, sObject Collections, Bulk API 2.0 ingest and
//! query jobs, SOQL queries, getUpdated/getDeleted, change events over CometD, fault injection
//! and `/__sim/` admin endpoints.

mod admin;
mod admin_org;
mod bulk;
mod bulk_csv;
mod bulk_job;
mod bulk_query;
mod bulk_query_job;
mod changes;
mod clock;
mod collections;
mod cometd;
mod cometd_connect;
mod cometd_sessions;
mod config;
mod error;
mod events;
mod faults;
mod ids;
mod incoming;
mod meta;
mod org;
mod query;
mod query_cursor;
mod rate;
mod records;
mod replication;
mod rest;
mod schema;
mod setup;
mod soql;
mod state;
mod store;
#[cfg(test)]
mod tests;
mod token;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use tokio_util::sync::CancellationToken;

pub use config::SimConfig;

/// The largest request body the simulator reads: Bulk API 2.0's per-job upload cap.
pub const MAX_REQUEST_BYTES: usize = 150 * 1024 * 1024;
pub use faults::FaultConfig;
pub use org::EditError;
pub use setup::SetupError;
pub use state::{Simulator, Stats};

impl Simulator {
    pub fn router(&self) -> Router {
        Router::new()
            .route("/services/oauth2/token", post(token::post_token))
            .route("/services/data", get(meta::versions))
            .route("/services/data/", get(meta::versions))
            .route(
                "/services/data/{*rest}",
                // A Bulk API 2.0 upload may carry up to 150 MB once base64-encoded (docs/salesforce.md §5.4);
                // axum's 2 MB default would refuse what Salesforce accepts.
                any(rest::entry).layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES)),
            )
            .merge(cometd::routes())
            .merge(admin::routes())
            .merge(admin_org::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                count_request,
            ))
            .with_state(self.clone())
    }

    /// Binds 127.0.0.1:port (0 = any), serves in a tokio task, returns a handle with the base url.
    pub async fn spawn(cfg: SimConfig) -> std::io::Result<SimHandle> {
        Self::spawn_on(cfg, 0).await
    }

    pub async fn spawn_on(cfg: SimConfig, port: u16) -> std::io::Result<SimHandle> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let sim = Self::new(cfg);
        let url = sim.bind_url(&listener)?;
        let shutdown = sim.inner.closing.clone();
        let router = sim.router();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "salesforce simulator stopped");
            }
        });
        Ok(SimHandle {
            url,
            sim,
            shutdown,
            task: Some(task),
        })
    }

    fn bind_url(&self, listener: &tokio::net::TcpListener) -> std::io::Result<String> {
        let url = match &self.cfg().public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", listener.local_addr()?),
        };
        self.set_base_url(url.clone());
        Ok(url)
    }
}

/// Counts every request that reaches the simulator (tokens, REST, CometD), refused or not,
/// except its own `/__sim/` inspection routes: "no call at all" is measured here.
async fn count_request(
    axum::extract::State(sim): axum::extract::State<Simulator>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if !request.uri().path().starts_with("/__sim/") {
        sim.lock().stats.requests_received += 1;
    }
    next.run(request).await
}

/// A running simulator; dropping it or calling [`SimHandle::shutdown`] stops it.
pub struct SimHandle {
    pub url: String,
    pub sim: Simulator,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SimHandle {
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Serves the simulator on `listener` until `shutdown` is cancelled (`sluice simulate-salesforce`).
pub async fn run(
    cfg: SimConfig,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    if jsonwebtoken::DecodingKey::from_rsa_pem(cfg.public_key_pem.as_bytes()).is_err() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "simulator public key is not an RSA public key PEM",
        ));
    }
    let sim = Simulator::new(cfg);
    let url = sim.bind_url(&listener)?;
    tracing::info!(%url, "salesforce simulator listening");
    // Held CometD connects end when the simulator stops, so graceful shutdown doesn't wait 110 s.
    let closing = sim.inner.closing.clone();
    let stop = async move {
        shutdown.cancelled().await;
        closing.cancel();
    };
    axum::serve(listener, sim.router())
        .with_graceful_shutdown(stop)
        .await
}
