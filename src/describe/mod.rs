//! Salesforce's describe of each object the hub writes, read rarely and shared through Postgres.
//!
//! Ingest checks every normalized record against it, so a record Salesforce would refuse for a
//! reason the describe shows is refused at the API and costs no call (docs/salesforce.md §9). Describe calls
//! count against the org's allowance, so an answer is kept in `salesforce_describes` and reused
//! by every dyno until it is older than the configured age, or until the mappings do not fit it
//! at start-up: then it is read again before start-up refuses (`org_fit`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::types::Json;

use crate::salesforce::{SObjectDescribe, SalesforceClient, SalesforceError};

#[derive(Debug, thiserror::Error)]
pub enum DescribeError {
    #[error("reading the describe of {object} from Salesforce")]
    Salesforce {
        object: String,
        #[source]
        source: SalesforceError,
    },
    #[error("the describe cache in the database")]
    Database(#[from] sqlx::Error),
}

/// The describes known so far; cheap to clone and shared by the HTTP handlers.
#[derive(Debug, Clone, Default)]
pub struct Describes {
    inner: Arc<RwLock<HashMap<String, Arc<SObjectDescribe>>>>,
}

impl Describes {
    pub fn get(&self, object: &str) -> Option<Arc<SObjectDescribe>> {
        self.read().get(object).cloned()
    }

    pub fn is_loaded(&self, objects: &[&str]) -> bool {
        let map = self.read();
        objects.iter().all(|o| map.contains_key(*o))
    }

    /// A copy of everything loaded, for checks that need them all.
    pub fn snapshot(&self) -> HashMap<String, SObjectDescribe> {
        self.read()
            .iter()
            .map(|(k, v)| (k.clone(), SObjectDescribe::clone(v)))
            .collect()
    }

    pub fn insert(&self, describe: SObjectDescribe) {
        self.inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(describe.name.clone(), Arc::new(describe));
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<SObjectDescribe>>> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads the describe of each object: from the database when younger than `max_age`,
    /// otherwise from Salesforce (one API call each), stored for the other dynos. Returns the
    /// objects whose describe came from the cache, which a failed check must not trust
    /// ([`Describes::refresh`]).
    pub async fn load(
        &self,
        pool: &PgPool,
        client: &SalesforceClient,
        objects: &[&str],
        max_age: Duration,
    ) -> Result<Vec<String>, DescribeError> {
        let mut from_cache = Vec::new();
        for object in objects {
            let cached = sqlx::query_scalar!(
                r#"SELECT describe AS "describe: Json<SObjectDescribe>" FROM salesforce_describes
                   WHERE object = $1 AND fetched_at > now() - make_interval(secs => $2)"#,
                object,
                max_age.as_secs_f64(),
            )
            .fetch_optional(pool)
            .await?;
            match cached {
                Some(Json(d)) => {
                    from_cache.push((*object).to_owned());
                    self.insert(d);
                }
                None => self.refresh(pool, client, &[object]).await?,
            }
        }
        Ok(from_cache)
    }

    /// Reads the describe of each object from Salesforce (one API call each), whatever the
    /// cache holds, and stores it for the other dynos: the org may have changed since it was
    /// cached (an admin adding the field or picklist value start-up asked for).
    pub async fn refresh(
        &self,
        pool: &PgPool,
        client: &SalesforceClient,
        objects: &[&str],
    ) -> Result<(), DescribeError> {
        for object in objects {
            let fresh =
                client
                    .describe(object)
                    .await
                    .map_err(|source| DescribeError::Salesforce {
                        object: (*object).to_owned(),
                        source,
                    })?;
            store(pool, &fresh).await?;
            tracing::info!(object, "describe read from Salesforce");
            self.insert(fresh);
        }
        Ok(())
    }
}

/// The describe last read from Salesforce, whatever its age, without calling Salesforce: for
/// `sluice mappings try`, which spends no API call.
pub async fn cached(pool: &PgPool, object: &str) -> Result<Option<SObjectDescribe>, sqlx::Error> {
    let cached = sqlx::query_scalar!(
        r#"SELECT describe AS "describe: Json<SObjectDescribe>" FROM salesforce_describes
           WHERE object = $1"#,
        object,
    )
    .fetch_optional(pool)
    .await?;
    Ok(cached.map(|Json(d)| d))
}

async fn store(pool: &PgPool, describe: &SObjectDescribe) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO salesforce_describes (object, describe, fetched_at) VALUES ($1, $2, now()) \
         ON CONFLICT ON CONSTRAINT salesforce_describes_pkey \
         DO UPDATE SET describe = EXCLUDED.describe, fetched_at = now()",
        describe.name,
        Json(describe) as _,
    )
    .execute(pool)
    .await?;
    Ok(())
}
