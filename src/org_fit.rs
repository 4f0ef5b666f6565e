//! Start-up's check that the mappings fit the Salesforce org: every field they write exists and
//! is writable, every picklist value they send is active. A mapping that does not fit stops
//! start-up once, loudly, rather than failing on every record.
//!
//! The describes come from the cache shared by the dynos (`describe`), but a cached describe is
//! never the last word on a refusal: the admin may have fixed the org since it was read. So when
//! the mappings do not fit a cached describe, those objects are read again from Salesforce (one
//! call each) and checked again before start-up refuses; the fresh describes replace the cached
//! ones for every dyno. A fixed org is thus picked up by the next start, not
//! `SLUICE_DESCRIBE_MAX_AGE_HOURS` later.

use sqlx::PgPool;

use crate::config::Config;
use crate::describe::{DescribeError, Describes};
use crate::normalize::{MappingSet, Misfits};
use crate::salesforce::SalesforceClient;

/// Why start-up refuses.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// One line per thing the org lacks, each named once.
    #[error("{}", refusal(misfits, unconfirmed.as_ref()))]
    Misfits {
        misfits: Misfits,
        /// Why the cached describes the misfits were found in could not be read again.
        unconfirmed: Option<DescribeError>,
    },
    #[error("the describe cache in the database")]
    Database(#[source] sqlx::Error),
}

/// The refusal's text: a line per misfit and, when they were found in cached describes that could
/// not be read again, why (with its causes: the admin needs to know Salesforce was not reached).
fn refusal(misfits: &Misfits, unconfirmed: Option<&DescribeError>) -> String {
    let mut text = format!(
        "the mappings do not fit the Salesforce org:\n  {}",
        misfits.to_string().replace('\n', "\n  ")
    );
    if let Some(e) = unconfirmed {
        let mut causes = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(cause) = source {
            causes.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text.push_str(&format!(
            "\n  (checked against describes cached earlier: reading them again from Salesforce failed: {causes})"
        ));
    }
    text
}

/// Reads the describes the mappings need (from the database cache, or from Salesforce) and
/// checks the mappings against them. When Salesforce cannot be reached and nothing is cached, the
/// hub starts without describe checks and keeps trying in the background.
pub async fn load_and_check(
    describes: &Describes,
    pool: &PgPool,
    client: &SalesforceClient,
    cfg: &Config,
) -> anyhow::Result<()> {
    let objects: Vec<String> = cfg.catalog.iter().map(|o| o.name.to_string()).collect();
    let names: Vec<&str> = objects.iter().map(String::as_str).collect();
    match describes
        .load(pool, client, &names, cfg.describe_max_age)
        .await
    {
        Ok(from_cache) => Ok(check(&cfg.mappings, describes, pool, client, &from_cache).await?),
        Err(DescribeError::Database(e)) => {
            Err(anyhow::Error::new(e).context("reading the describe cache"))
        }
        Err(e) => {
            tracing::warn!(error = %e, cause = ?std::error::Error::source(&e), "Salesforce describe unavailable; records are checked against it once it loads");
            let (describes, pool, client, cfg) =
                (describes.clone(), pool.clone(), client.clone(), cfg.clone());
            tokio::spawn(async move {
                for _ in 0..1440 {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    let names: Vec<&str> = objects.iter().map(String::as_str).collect();
                    if let Ok(from_cache) = describes
                        .load(&pool, &client, &names, cfg.describe_max_age)
                        .await
                    {
                        if let Err(e) =
                            check(&cfg.mappings, &describes, &pool, &client, &from_cache).await
                        {
                            tracing::error!(
                                error = format!("{e:#}"),
                                "mappings do not fit the org"
                            );
                        }
                        return;
                    }
                }
            });
            Ok(())
        }
    }
}

/// Checks `mappings` against the loaded describes. When they do not fit a describe listed in
/// `from_cache`, re-reads those describes (only the objects the problems were seen in) and checks
/// again: only a fresh describe may refuse.
pub async fn check(
    mappings: &MappingSet,
    describes: &Describes,
    pool: &PgPool,
    client: &SalesforceClient,
    from_cache: &[String],
) -> Result<(), FitError> {
    let Err(problems) = mappings.check_against(&describes.snapshot()) else {
        return Ok(());
    };
    let mut stale: Vec<&str> = problems
        .iter()
        .map(|p| p.seen_in.as_str())
        .filter(|o| from_cache.iter().any(|c| c == o))
        .collect();
    stale.sort_unstable();
    stale.dedup();
    if stale.is_empty() {
        return Err(FitError::Misfits {
            misfits: Misfits::group(problems),
            unconfirmed: None,
        });
    }
    tracing::info!(
        objects = stale.join(", "),
        "the mappings do not fit cached describes; reading them again"
    );
    match describes.refresh(pool, client, &stale).await {
        Ok(()) => match mappings.check_against(&describes.snapshot()) {
            Ok(()) => Ok(()),
            Err(problems) => Err(FitError::Misfits {
                misfits: Misfits::group(problems),
                unconfirmed: None,
            }),
        },
        Err(DescribeError::Database(e)) => Err(FitError::Database(e)),
        Err(e) => Err(FitError::Misfits {
            misfits: Misfits::group(problems),
            unconfirmed: Some(e),
        }),
    }
}
