//! `sluice serve`: the HTTP API and the push scheduler in one process, with one shutdown path.

use std::sync::Arc;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::describe::Describes;
use crate::http::{self, HttpSettings};
use crate::push::{self, Pusher};
use crate::salesforce::SalesforceClient;
use crate::salesforce::gate::CallGate;
use crate::sources::pulls::Puller;
use crate::state::AppState;

/// Runs until `shutdown` is cancelled, then stops taking requests, lets the scheduler finish its
/// batch, and returns within `cfg.shutdown_grace` (Heroku sends SIGKILL 30 s after SIGTERM).
pub async fn run(
    cfg: Config,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // Before the first Salesforce call, so that every call is counted.
    crate::observe::metrics::install();
    // Every call passes the gate from the first one (start-up's describes included).
    let gate = CallGate::new(
        pool.clone(),
        cfg.push.gate_settings(cfg.salesforce.request_timeout),
    );
    let client = SalesforceClient::new(cfg.salesforce.clone())
        .context("SALESFORCE_* settings")?
        .with_gate(gate);
    let authenticator = Authenticator::new(cfg.auth.clone());
    let catalog = Arc::new(cfg.catalog.clone());
    let describes = Describes::default();
    crate::org_fit::load_and_check(&describes, &pool, &client, &cfg).await?;
    let state = AppState {
        pool: pool.clone(),
        catalog: catalog.clone(),
        mappings: cfg.mappings.clone(),
        describes: describes.clone(),
        authenticator,
        max_body_bytes: cfg.max_body_bytes,
        max_stream_bytes: cfg.max_stream_bytes,
        max_decompression_ratio: cfg.max_decompression_ratio,
        inbox_max_records: cfg.inbox_max_records,
        webhooks: cfg.webhooks.clone(),
    };
    let app = http::router(state, &HttpSettings::from_config(&cfg));

    let pusher = Pusher::new(
        pool.clone(),
        client.clone(),
        catalog,
        cfg.push.clone(),
        owner_id(cfg.dyno.as_deref()),
    )
    .with_describes(describes.clone())
    .with_payload_logging(cfg.log.payloads);
    let scheduler = cfg.push.enabled.then(|| {
        let pusher = pusher.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = pusher.refresh_usage().await {
                tracing::warn!(error = %e, "could not record Salesforce usage at start");
            }
            push::run(pusher, shutdown).await;
        })
    });

    // The ingest inbox merged into staging as records come, in every process.
    let merger = tokio::spawn(crate::ingest::merger::run(pool.clone(), shutdown.clone()));

    // Pulls, and the pruning of webhook events, in this process too (PULL_ENABLED).
    let owner = owner_id(cfg.dyno.as_deref());
    let puller = Puller::new(
        pool.clone(),
        cfg.mappings.clone(),
        describes.clone(),
        cfg.pulls.clone(),
        owner,
    );
    let pulls = cfg
        .pulls
        .enabled
        .then(|| tokio::spawn(crate::sources::pulls::run(puller.clone(), shutdown.clone())));

    // Salesforce's changes read back (READ_ENABLED), woken by change events.
    let reader = crate::read::Reader::new(
        pool.clone(),
        client.clone(),
        describes.clone(),
        cfg.reads.clone(),
        owner_id(cfg.dyno.as_deref()),
    );
    let reads = cfg
        .reads
        .enabled
        .then(|| tokio::spawn(crate::read::run(reader.clone(), shutdown.clone())));

    tracing::info!(address = %listener.local_addr()?, "listening");
    let server =
        axum::serve(listener, app).with_graceful_shutdown(shutdown.clone().cancelled_owned());
    let server = tokio::spawn(async move { server.await });

    shutdown.cancelled().await;
    tracing::info!(grace_s = cfg.shutdown_grace.as_secs(), "shutting down");
    let deadline = tokio::time::Instant::now() + cfg.shutdown_grace;
    if let Some(mut scheduler) = scheduler
        && tokio::time::timeout_at(deadline, &mut scheduler)
            .await
            .is_err()
    {
        scheduler.abort();
        let released = pusher.release_all().await.unwrap_or(0);
        tracing::warn!(
            released,
            "scheduler cut short at the deadline; its batch was given back"
        );
    }
    if let Some(mut pulls) = pulls
        && tokio::time::timeout_at(deadline, &mut pulls).await.is_err()
    {
        pulls.abort();
        let released = crate::sources::pulls::store::release_all(&pool, puller.owner())
            .await
            .unwrap_or(0);
        tracing::warn!(
            released,
            "pull cut short at the deadline; its lease was given back"
        );
    }
    if let Some(mut reads) = reads
        && tokio::time::timeout_at(deadline, &mut reads).await.is_err()
    {
        reads.abort();
        let released = crate::read::store::release_all(&pool, reader.owner())
            .await
            .unwrap_or(0);
        tracing::warn!(
            released,
            "read cut short at the deadline; its lease was given back"
        );
    }
    // A merge under way finishes or rolls back; the inbox keeps its records either way.
    if tokio::time::timeout_at(deadline, merger).await.is_err() {
        tracing::warn!("inbox merge cut short at the deadline; its records stay in the inbox");
    }
    match tokio::time::timeout_at(deadline, server).await {
        Ok(joined) => joined.context("HTTP server task")?.context("HTTP server")?,
        Err(_) => tracing::warn!("requests still running at the deadline were dropped"),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Names this process in leases: the Heroku dyno name when there is one.
fn owner_id(dyno: Option<&str>) -> String {
    let dyno = dyno.unwrap_or("local");
    format!("{dyno}/{}", uuid::Uuid::new_v4().simple())
}

/// Cancels `token` on SIGTERM (Heroku's stop signal) or Ctrl-C.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        token.cancel();
    });
}
