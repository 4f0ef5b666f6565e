//! When each change was committed (`staging_commits`, stamped by a deferred trigger at COMMIT):
//! the batch window counts from there, not from the transaction's start (see the migration
//! `20261212000100_commit_time.sql`). The planner joins it; this prunes it.

use std::time::Duration;

use sqlx::PgPool;

/// Commit stamps are kept this long; a row changed longer ago is long past any window, and
/// without its stamp the planner falls back to the row's own `updated_at`.
pub const KEEP_COMMITS: Duration = Duration::from_secs(24 * 60 * 60);

/// Deletes commit stamps older than [`KEEP_COMMITS`]; returns how many.
pub async fn prune_commits(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let result = sqlx::query!(
        "DELETE FROM staging_commits WHERE committed_at < now() - make_interval(secs => $1)",
        KEEP_COMMITS.as_secs_f64(),
    )
    .execute(pool)
    .await?;
    Ok(result.rows_affected())
}
