//! `sluice serve`: the HTTP API and the push scheduler in one process, with one shutdown path.

use std::sync::Arc;

use anyhow::Context;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::http::{self, AppState, HttpSettings};
use crate::push::{self, Pusher};
use crate::salesforce::SalesforceClient;

/// Runs until `shutdown` is cancelled, then stops taking requests, lets the scheduler finish its
/// batch, and returns within `cfg.shutdown_grace` (Heroku sends SIGKILL 30 s after SIGTERM).
pub async fn run(
    cfg: Config,
    pool: PgPool,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let client = SalesforceClient::new(cfg.salesforce.clone()).context("SALESFORCE_* settings")?;
    let authenticator = Authenticator::new(cfg.auth.clone());
    let catalog = Arc::new(cfg.catalog.clone());
    let state = AppState {
        pool: pool.clone(),
        catalog: catalog.clone(),
        authenticator,
        max_body_bytes: cfg.max_body_bytes,
    };
    let app = http::router(
        state,
        &HttpSettings {
            request_timeout: cfg.request_timeout,
        },
    );

    let pusher = Pusher::new(
        pool.clone(),
        client.clone(),
        catalog,
        cfg.push.clone(),
        owner_id(),
    );
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
        let released = push::release_all(&pusher).await.unwrap_or(0);
        tracing::warn!(
            released,
            "scheduler cut short at the deadline; its batch was given back"
        );
    }
    match tokio::time::timeout_at(deadline, server).await {
        Ok(joined) => joined.context("HTTP server task")?.context("HTTP server")?,
        Err(_) => tracing::warn!("requests still running at the deadline were dropped"),
    }
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Names this process in leases: the Heroku dyno name when there is one.
fn owner_id() -> String {
    let dyno = std::env::var("DYNO").unwrap_or_else(|_| "local".into());
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
