//! The Postgres pool and the migrations.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};

use crate::config::DatabaseConfig;

/// The migrations in `migrations/`, embedded in the binary so the release phase needs no files.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Opens the pool. Heroku's `DATABASE_URL` names no `sslmode`, so the configured mode applies
/// unless the URL sets one itself.
pub async fn connect(cfg: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let url = cfg.url.expose_secret();
    let mut options =
        PgConnectOptions::from_str(url).context("DATABASE_URL is not a valid Postgres URL")?;
    if !url.contains("sslmode=") {
        options = options.ssl_mode(match cfg.ssl_mode.as_str() {
            "disable" => PgSslMode::Disable,
            "require" => PgSslMode::Require,
            _ => PgSslMode::Prefer,
        });
    }
    PgPoolOptions::new()
        .max_connections(cfg.pool_size)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options.application_name("sluice"))
        .await
        .context("cannot connect to the database at DATABASE_URL")
}

/// Applies pending migrations. Safe to run from several processes: sqlx takes an advisory lock.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await.context("applying migrations")
}

/// True when every embedded migration has been applied (for `/ready`).
pub async fn is_migrated(pool: &PgPool) -> Result<bool, sqlx::Error> {
    let latest = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
    // `_sqlx_migrations` is the migrator's own table; an unmigrated database fails this query,
    // which `/ready` reports as not ready.
    let applied = sqlx::query_scalar!("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(pool)
        .await?;
    Ok(applied.unwrap_or(0) >= latest)
}
