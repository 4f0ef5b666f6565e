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

/// Writes `rows` to the inbox in the caller's transaction, by one binary `COPY`: PostgreSQL
/// inserts its rows in batches, without an executor step a row as an `INSERT ... SELECT` has.
/// Each row's fields go as JSON text; the merge parses them.
pub async fn accept(
    conn: &mut PgConnection,
    object: &ObjectName,
    rows: &[&StageRow],
) -> Result<u64, sqlx::Error> {
    let mut data = CopyRows::new(rows.len());
    for row in rows {
        data.row(object.as_str(), row)?;
    }
    let mut copy = conn
        .copy_in_raw("COPY staging_inbox (object, external_id, fields) FROM STDIN (FORMAT binary)")
        .await?;
    copy.send(data.finish()).await?;
    copy.finish().await
}

/// Rows in PostgreSQL's binary `COPY` format, three text columns each
/// (<https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4>): a signature and
/// two 32-bit words of flags and extension length, then per row a 16-bit column count and each
/// column as a 32-bit length and its bytes (UTF-8 for `text`), then -1 as the count.
struct CopyRows(Vec<u8>);

impl CopyRows {
    const SIGNATURE: &'static [u8] = b"PGCOPY\n\xff\r\n\0";

    fn new(rows: usize) -> Self {
        let mut out = Vec::with_capacity(19 + rows * 256 + 2);
        out.extend_from_slice(Self::SIGNATURE);
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        Self(out)
    }

    fn row(&mut self, object: &str, row: &StageRow) -> Result<(), sqlx::Error> {
        self.0.extend_from_slice(&3i16.to_be_bytes());
        self.text(object.as_bytes())?;
        self.text(row.external_id.as_str().as_bytes())?;
        let at = self.0.len();
        self.0.extend_from_slice(&0i32.to_be_bytes());
        serde_json::to_writer(&mut self.0, &row.fields)
            .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let len = length(self.0.len() - at - 4)?;
        self.0[at..at + 4].copy_from_slice(&len.to_be_bytes());
        Ok(())
    }

    fn text(&mut self, bytes: &[u8]) -> Result<(), sqlx::Error> {
        self.0
            .extend_from_slice(&length(bytes.len())?.to_be_bytes());
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(mut self) -> Vec<u8> {
        self.0.extend_from_slice(&(-1i16).to_be_bytes());
        self.0
    }
}

/// A column's length as the format writes it; a value over 2 GiB can't be one.
fn length(len: usize) -> Result<i32, sqlx::Error> {
    i32::try_from(len).map_err(|e| sqlx::Error::Encode(Box::new(e)))
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::staging::ExternalId;

    #[test]
    fn copy_rows_are_laid_out_as_postgres_binary_copy() {
        let row = StageRow {
            external_id: ExternalId::parse("C-1").expect("a key"),
            fields: json!({"LastName": "Ô"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let mut rows = CopyRows::new(1);
        rows.row("Contact", &row).expect("encoded");
        let bytes = rows.finish();
        let fields = r#"{"LastName":"Ô"}"#.as_bytes();
        let mut expected = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        expected.extend_from_slice(&[0, 3, 0, 0, 0, 7]);
        expected.extend_from_slice(b"Contact");
        expected.extend_from_slice(&[0, 0, 0, 3]);
        expected.extend_from_slice(b"C-1");
        expected.extend_from_slice(&(fields.len() as i32).to_be_bytes());
        expected.extend_from_slice(fields);
        expected.extend_from_slice(&[0xff, 0xff]);
        assert_eq!(bytes, expected);
    }
}
