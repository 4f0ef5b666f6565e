//! The ingest inbox (issue 13): records of a large request are written to `staging_inbox`, an
//! append-only table, and the request is answered once they are committed there. A merge moves
//! them into `staging_records` moments later, many requests at a time, in the order they were
//! written ([`merge`]; each process runs `ingest::merger`).
//!
//! Order with the other writers of a row: records from the inbox are merged in the order they were
//! accepted, field by field, as a direct upsert would have done. A row another writer changed
//! after an inbox record was accepted (an app's SQL, a deletion) keeps that change: the record goes
//! under the row's fields, and does not bring back a deleted row. While the inbox holds records of
//! a row, ingest sends every record of that row through it, so that API requests keep their order
//! among themselves ([`pending_keys`]).

use sqlx::{PgConnection, PgPool};

use super::{ObjectName, StageRow};

/// A chunk of at most this many records is staged directly, unless the inbox holds a record of one
/// of its rows: its answer tells staged from unchanged records, and its transaction stays a small
/// one for the push (see `staging::SMALL_TRANSACTION`). Larger chunks go through the inbox.
pub const DIRECT_MAX_RECORDS: usize = 50;

/// Records one merge transaction takes at most.
pub const MERGE_MAX_RECORDS: i64 = 20_000;

/// Merges a caller that needs the inbox merged runs at most (a million records).
pub const FLUSH_MAX_ROUNDS: usize = 50;

/// Writes `rows` to the inbox in the caller's transaction. Each row's fields go as JSON text; the
/// merge parses them.
pub async fn accept(
    conn: &mut PgConnection,
    object: &ObjectName,
    rows: &[&StageRow],
) -> Result<u64, sqlx::Error> {
    let (ids, fields) = super::stage::as_columns(rows)?;
    let done = sqlx::query!(
        r#"
        INSERT INTO staging_inbox (object, external_id, fields)
        SELECT $1, t.external_id, t.fields
        FROM UNNEST($2::text[], $3::text[]) AS t(external_id, fields)
        "#,
        object as &ObjectName,
        &ids as &[&str],
        &fields,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// What a request sees of the inbox before it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// The inbox holds records of the object not merged yet (the caller's own included).
    pub holds: bool,
    /// How many records the inbox holds at most, all objects together: the span of its `seq`
    /// (two index reads; numbers of rolled-back writes count too).
    pub depth: i64,
}

/// Looks at the inbox for a request of `object`.
pub async fn look(conn: &mut PgConnection, object: &ObjectName) -> Result<Look, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM staging_inbox WHERE object = $1) AS "holds!",
                  coalesce((SELECT max(seq) FROM staging_inbox)
                           - (SELECT min(seq) FROM staging_inbox) + 1, 0) AS "depth!""#,
        object as &ObjectName,
    )
    .fetch_one(conn)
    .await?;
    Ok(Look {
        holds: row.holds,
        depth: row.depth,
    })
}

/// The external ids among `ids` (a small request's) that the inbox holds records of. The inbox has
/// no index on its keys, to stay cheap to write: this reads it whole, so only small requests ask.
pub async fn pending_keys(
    conn: &mut PgConnection,
    object: &ObjectName,
    ids: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT external_id AS "external_id!" FROM staging_inbox
           WHERE object = $1 AND external_id = ANY($2)"#,
        object as &ObjectName,
        ids as &[&str],
    )
    .fetch_all(conn)
    .await
}

/// Records waiting in the inbox, all objects together.
pub async fn depth(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM staging_inbox"#)
        .fetch_one(pool)
        .await
}

/// Merges the oldest records of the inbox (at most `limit`) into `staging_records`, in one
/// transaction, after any merge another process is running. Returns how many it took.
pub async fn merge(pool: &PgPool, limit: i64) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    // The staging trigger reads this: the merge is not a "direct" write of the rows it changes.
    sqlx::query_scalar!("SELECT set_config('sluice.merging', 'on', true)")
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query!("SELECT id FROM staging_inbox_merge FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    // Per row: inbox records accepted after the row's last direct write go over its fields, in
    // order; older ones go under them (that write may be newer). A deleted row comes back only
    // for a record newer than its deletion. A row inserted meanwhile by another writer keeps its
    // fields over the inbox's: the two were at the same time. The oldest records are taken by
    // their keys as an array: as an `IN` subquery, the planner hash-joined the whole inbox.
    let taken = sqlx::query_scalar!(
        r#"
        WITH taken AS (
            DELETE FROM staging_inbox
            WHERE seq = ANY (ARRAY(SELECT seq FROM staging_inbox ORDER BY seq LIMIT $1))
            RETURNING seq, object, external_id, fields::jsonb AS fields, accepted_at
        ),
        current AS (
            SELECT s.object, s.external_id, s.direct_at
            FROM staging_records s
            WHERE (s.object, s.external_id) IN (SELECT object, external_id FROM taken)
            FOR UPDATE OF s
        ),
        keyed AS (
            SELECT t.object, t.external_id, c.external_id IS NOT NULL AS existed,
                   staging_fields_merge(t.fields ORDER BY t.seq)
                       FILTER (WHERE c.direct_at IS NULL OR t.accepted_at >= c.direct_at)
                       AS newer,
                   staging_fields_merge(t.fields ORDER BY t.seq)
                       FILTER (WHERE t.accepted_at < c.direct_at) AS older
            FROM taken t
            LEFT JOIN current c ON c.object = t.object AND c.external_id = t.external_id
            GROUP BY t.object, t.external_id, c.external_id
        ),
        over AS (
            UPDATE staging_records s
            SET fields = coalesce(k.older, '{}') || s.fields || k.newer,
                operation = 'upsert', origin = 'hub'
            FROM keyed k
            WHERE k.existed AND s.object = k.object AND s.external_id = k.external_id
              AND k.newer IS NOT NULL
              AND (coalesce(k.older, '{}') || s.fields || k.newer IS DISTINCT FROM s.fields
                   OR s.operation <> 'upsert' OR s.origin <> 'hub')
        ),
        under AS (
            UPDATE staging_records s
            SET fields = k.older || s.fields
            FROM keyed k
            WHERE k.existed AND s.object = k.object AND s.external_id = k.external_id
              AND k.newer IS NULL AND s.operation = 'upsert'
              AND k.older || s.fields IS DISTINCT FROM s.fields
        ),
        inserted AS (
            INSERT INTO staging_records AS s (object, external_id, fields)
            SELECT object, external_id, newer FROM keyed WHERE NOT existed
            ON CONFLICT ON CONSTRAINT staging_records_object_external_id_key DO UPDATE
                SET fields = EXCLUDED.fields || s.fields
                WHERE s.operation = 'upsert'
                  AND EXCLUDED.fields || s.fields IS DISTINCT FROM s.fields
        )
        SELECT count(*) AS "taken!" FROM taken
        "#,
        limit,
    )
    .fetch_one(&mut *tx)
    .await?;
    if taken > 0 {
        sqlx::query!("UPDATE staging_inbox_merge SET merged_at = clock_timestamp()")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(taken.max(0) as u64)
}

/// Merges until the inbox is empty, or `rounds` merges have run (records keep coming). Returns
/// how many records it merged. An empty inbox costs one read, no transaction and no lock.
pub async fn merge_all(pool: &PgPool, rounds: usize) -> Result<u64, sqlx::Error> {
    let mut merged = 0;
    if !anything(pool).await? {
        return Ok(merged);
    }
    for _ in 0..rounds {
        let taken = merge(pool, MERGE_MAX_RECORDS).await?;
        merged += taken;
        if taken < MERGE_MAX_RECORDS as u64 {
            break;
        }
    }
    Ok(merged)
}

/// Whether records are still arriving from the inbox: it holds some, or a merge committed less
/// than `quiet` ago (its rows may not look settled yet).
pub async fn arriving(pool: &PgPool, quiet: std::time::Duration) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM staging_inbox)
                  OR coalesce(merged_at > now() - make_interval(secs => $1), false) AS "arriving!"
           FROM staging_inbox_merge"#,
        quiet.as_secs_f64(),
    )
    .fetch_one(pool)
    .await
}

/// The front of the inbox: its newest record and how long its oldest has waited.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Front {
    /// The newest record's `seq`: it changes while records keep arriving.
    pub newest: i64,
    /// How long the oldest record has waited, in seconds.
    pub oldest_wait_secs: f64,
}

/// The inbox's [`Front`], or `None` when it is empty. Two index reads.
pub async fn front(pool: &PgPool) -> Result<Option<Front>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT (SELECT max(seq) FROM staging_inbox) AS newest,
                  (SELECT extract(epoch FROM clock_timestamp() - accepted_at)::float8
                   FROM staging_inbox ORDER BY seq LIMIT 1) AS oldest_wait_secs"#,
    )
    .fetch_one(pool)
    .await?;
    Ok(match (row.newest, row.oldest_wait_secs) {
        (Some(newest), Some(oldest_wait_secs)) => Some(Front {
            newest,
            oldest_wait_secs,
        }),
        _ => None,
    })
}

/// Whether the inbox holds anything at all.
pub async fn anything(pool: &PgPool) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM staging_inbox) AS "held!""#)
        .fetch_one(pool)
        .await
}
