//! The hub's state as figures read from Postgres: what `/metrics`, the status page and
//! `sluice status` show. Computed when asked, so every dyno (and a one-off dyno) sees the same.
//! Each table's owner reads it ([`crate::staging`], [`crate::salesforce::gate`],
//! [`crate::push::jobs`]); this module puts the objects in the order operators expect.

use sqlx::PgPool;

use crate::objects::Catalog;
use crate::staging::{self, ObjectCounts};

/// Per object: the catalog's objects first, parents first (those without rows get zeros), then
/// any other object found in the table, by name.
pub async fn per_object(
    pool: &PgPool,
    catalog: &Catalog,
) -> Result<Vec<ObjectCounts>, sqlx::Error> {
    let mut rows = staging::counts_per_object(pool).await?;
    let mut out: Vec<ObjectCounts> = catalog
        .iter()
        .map(
            |spec| match rows.iter().position(|r| r.object == spec.name) {
                Some(at) => rows.remove(at),
                None => ObjectCounts::empty(spec.name.clone()),
            },
        )
        .collect();
    out.extend(rows);
    Ok(out)
}
