//! The concurrency cap: at most N calls to Salesforce in progress, all dynos together.
//!
//! Each call holds one of N slot rows in `salesforce_call_permits` until it gives it back; a row
//! whose holder died expires. Rows rather than advisory locks, because a pooler in transaction mode
//! breaks session locks. Salesforce itself refuses more than 25 concurrent long-running requests
//! (5 in Developer Edition) with `REQUEST_LIMIT_EXCEEDED` (docs/salesforce.md §6.3).

use std::time::Duration;

use sqlx::PgPool;

/// A slot held by one call; give it back with [`release`]. The default holds no slot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallPermit {
    slot: i32,
    holder: String,
}

impl CallPermit {
    pub(super) fn holder(&self) -> &str {
        &self.holder
    }
}

/// Takes a free slot among `1..=max`, or returns None when every slot is held. A slot held
/// longer than `ttl` is free again (its holder died or hung past the call timeout).
pub async fn try_acquire(
    pool: &PgPool,
    max: u32,
    ttl: Duration,
) -> Result<Option<CallPermit>, sqlx::Error> {
    let holder = uuid::Uuid::new_v4().simple().to_string();
    // Two callers may pick the same free slot; the primary key makes one of them wait, then its
    // conditional update finds the slot taken and returns nothing: it tries again later.
    let slot = sqlx::query_scalar!(
        r#"
        WITH free AS (
            SELECT s FROM generate_series(1, $1) AS s
            WHERE NOT EXISTS (SELECT 1 FROM salesforce_call_permits p
                              WHERE p.slot = s AND p.expires_at > clock_timestamp())
            ORDER BY random()
            LIMIT 1
        )
        INSERT INTO salesforce_call_permits AS p (slot, holder, expires_at)
        SELECT s, $2, clock_timestamp() + make_interval(secs => $3) FROM free
        ON CONFLICT ON CONSTRAINT salesforce_call_permits_pkey DO UPDATE
            SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
            WHERE p.expires_at <= clock_timestamp()
        RETURNING slot
        "#,
        max as i32,
        holder,
        ttl.as_secs_f64(),
    )
    .fetch_optional(pool)
    .await?;
    Ok(slot.map(|slot| CallPermit { slot, holder }))
}

/// Waits (polling every `step`, at most `patience`) for a slot.
pub async fn acquire(
    pool: &PgPool,
    max: u32,
    ttl: Duration,
    patience: Duration,
) -> Result<Option<CallPermit>, sqlx::Error> {
    const STEP: Duration = Duration::from_millis(25);
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        if let Some(permit) = try_acquire(pool, max, ttl).await? {
            return Ok(Some(permit));
        }
        if tokio::time::Instant::now() + STEP > deadline {
            return Ok(None);
        }
        tokio::time::sleep(STEP).await;
    }
}

/// Gives a slot back (only if it is still this holder's).
pub async fn release(pool: &PgPool, permit: &CallPermit) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM salesforce_call_permits WHERE slot = $1 AND holder = $2",
        permit.slot,
        permit.holder,
    )
    .execute(pool)
    .await?;
    Ok(())
}
