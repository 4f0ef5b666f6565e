//! Configuration, read once from the environment at start-up (as Heroku provides it).
//!
//! Every variable is listed in the README's configuration table and in `app.json`. A missing or
//! malformed variable stops start-up with an error that names it. Secrets are wrapped in
//! [`SecretString`] so that they never reach a log line through `Debug`.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub mod pulls;
pub mod reads;
pub mod sources;
pub mod webhooks;

pub use pulls::PullConfig;
pub use reads::ReadConfig;
pub use webhooks::Webhooks;

use crate::auth::AuthConfig;
use crate::normalize::MappingSet;
use crate::objects::Catalog;
use crate::salesforce::{ApiVersion, SalesforceConfig};

/// Why the configuration could not be read. Always names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
    /// A variable a mapping file names (a webhook's secrets, a pull's credentials).
    #[error("environment variable {name} (named by {by}) is required but not set")]
    MissingNamed { name: String, by: String },
}

/// Log line format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs, what Heroku's log tools parse.
    Logfmt,
    Json,
}

/// How the process logs; every command reads it, before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    pub format: LogFormat,
    /// Put record fields in debug log lines (`SLUICE_LOG_PAYLOADS`); off, since they hold
    /// personal data.
    pub payloads: bool,
}

/// Settings of the Postgres connection pool.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    /// Heroku's smaller plans allow about 20 connections for every dyno together.
    pub pool_size: u32,
    /// `disable`, `prefer` or `require` (Heroku Postgres requires TLS).
    pub ssl_mode: String,
}

/// Settings of the push scheduler and of the Salesforce call budget.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// How long a change waits for others to share its API call (a quiet period: the batch goes
    /// when no change arrived for this long, or when it is full).
    pub batch_window: Duration,
    /// The longest a change waits for its batch, even while changes keep arriving.
    pub max_lag: Duration,
    /// Due records of one object and operation from which a Bulk API 2.0 job replaces
    /// sObject Collections calls.
    pub bulk_threshold: u32,
    /// Records in one Bulk API 2.0 job.
    pub bulk_max_records: u32,
    /// Calls to Salesforce in progress at once, for every dyno together.
    pub max_concurrent_calls: u32,
    /// How often the scheduler looks for due work even without a notification.
    pub sweep_interval: Duration,
    /// How long a claimed batch stays leased to one scheduler before another may reclaim it.
    pub lease: Duration,
    /// Attempts of a transient failure before the record is parked as failed.
    pub max_attempts: i32,
    /// API calls per second to Salesforce, for every dyno together.
    pub max_calls_per_second: u32,
    /// Share of the org's daily API allowance that Sluice may use, in percent.
    pub daily_budget_percent: u8,
    /// How long the records of an unanswered sObject Collections call wait before any version of
    /// them is sent again: Salesforce may still write them until its 10-minute request limit.
    pub unanswered_hold: Duration,
    /// How long every dyno stops calling after Salesforce answers `REQUEST_LIMIT_EXCEEDED`.
    pub limit_pause: Duration,
    /// Turn the scheduler off (an API-only dyno).
    pub enabled: bool,
}

/// Everything `sluice serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub port: u16,
    pub database: DatabaseConfig,
    pub salesforce: SalesforceConfig,
    pub auth: AuthConfig,
    pub push: PushConfig,
    /// The senders' mappings (`SLUICE_MAPPINGS_DIR`), checked at load.
    pub mappings: std::sync::Arc<MappingSet>,
    /// The objects the mappings write, with their external id fields, parents first.
    pub catalog: Catalog,
    /// How long a Salesforce describe is trusted before it is read again.
    pub describe_max_age: Duration,
    pub max_body_bytes: usize,
    /// Largest NDJSON stream accepted in one request.
    pub max_stream_bytes: usize,
    /// Most decompressed bytes per compressed byte of a gzip body: a bound on zip bombs.
    pub max_decompression_ratio: usize,
    /// Most records the ingest inbox may hold before large requests are refused with 503.
    pub inbox_max_records: u64,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub log: LogConfig,
    /// The Heroku dyno's name (`DYNO`, set by Heroku), to name this process in leases.
    pub dyno: Option<String>,
    pub rate_limit: RateLimitConfig,
    /// Browser origins allowed to call the API (CORS); empty turns CORS off.
    pub cors_origins: Vec<String>,
    /// The sources that send signed webhooks, with their secrets.
    pub webhooks: std::sync::Arc<Webhooks>,
    /// The scheduled pulls and their scheduler's settings.
    pub pulls: PullConfig,
    /// The objects read back from Salesforce, and how.
    pub reads: ReadConfig,
}

/// Requests per caller (`issuer|subject`), per process: each dyno counts on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests a caller may send at once before the sustained rate applies.
    pub burst: u32,
}

/// Reads variables from a map, so tests need not touch the process environment.
pub struct Env {
    vars: HashMap<String, String>,
    /// Every name looked up, so a test can hold the README and app.json to the code.
    asked: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Env {
    pub fn from_process() -> Self {
        Self::new(std::env::vars().collect())
    }

    fn new(vars: HashMap<String, String>) -> Self {
        Self {
            vars,
            asked: Default::default(),
        }
    }

    /// The names of the variables read so far.
    pub fn names_read(&self) -> Vec<String> {
        self.asked
            .lock()
            .map(|names| names.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::new(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    fn raw(&self, name: &str) -> Option<&str> {
        if let Ok(mut asked) = self.asked.lock() {
            asked.insert(name.to_owned());
        }
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &'static str) -> Result<&str, ConfigError> {
        self.raw(name).ok_or(ConfigError::Missing(name))
    }

    pub fn parse_or<T: FromStr>(&self, name: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.raw(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
        }
    }

    fn millis_or(&self, name: &'static str, default_ms: u64) -> Result<Duration, ConfigError> {
        self.parse_or(name, default_ms).map(Duration::from_millis)
    }

    fn in_range<T: PartialOrd + std::fmt::Display>(
        name: &'static str,
        value: T,
        min: T,
        max: T,
    ) -> Result<T, ConfigError> {
        if value < min || value > max {
            return Err(ConfigError::Invalid {
                name,
                reason: format!("{value} is outside {min}..={max}"),
            });
        }
        Ok(value)
    }
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let (mappings, catalog) = mappings_from_env(env)?;
        let (webhooks, pull_sources) = sources::load(env, &mappings_dir(env), &mappings)?;
        let reads = ReadConfig::from_env(env, &catalog)?;
        Ok(Self {
            port: env.parse_or("PORT", 8080)?,
            database: DatabaseConfig::from_env(env)?,
            salesforce: salesforce_from_env(env)?,
            auth: auth_from_env(env)?,
            push: PushConfig::from_env(env)?,
            mappings: mappings.clone(),
            catalog,
            describe_max_age: Duration::from_secs(
                3600 * Env::in_range(
                    "SLUICE_DESCRIBE_MAX_AGE_HOURS",
                    env.parse_or("SLUICE_DESCRIBE_MAX_AGE_HOURS", 24u64)?,
                    1,
                    24 * 30,
                )?,
            ),
            max_body_bytes: env.parse_or("SLUICE_MAX_BODY_BYTES", 10 * 1024 * 1024)?,
            max_stream_bytes: env.parse_or("SLUICE_MAX_STREAM_BYTES", 1024 * 1024 * 1024)?,
            max_decompression_ratio: env.parse_or("SLUICE_MAX_DECOMPRESSION_RATIO", 100)?,
            inbox_max_records: env.parse_or("SLUICE_INBOX_MAX_RECORDS", 1_000_000)?,
            request_timeout: Duration::from_secs(Env::in_range(
                "SLUICE_REQUEST_TIMEOUT_SECS",
                env.parse_or("SLUICE_REQUEST_TIMEOUT_SECS", 25)?,
                1,
                29,
            )?),
            shutdown_grace: Duration::from_secs(Env::in_range(
                "SLUICE_SHUTDOWN_GRACE_SECS",
                env.parse_or("SLUICE_SHUTDOWN_GRACE_SECS", 20)?,
                1,
                28,
            )?),
            log: LogConfig::from_env(env)?,
            dyno: env.raw("DYNO").map(str::to_owned),
            rate_limit: RateLimitConfig {
                per_second: Env::in_range(
                    "SLUICE_RATE_LIMIT_PER_SECOND",
                    env.parse_or("SLUICE_RATE_LIMIT_PER_SECOND", 10)?,
                    1,
                    100_000,
                )?,
                burst: Env::in_range(
                    "SLUICE_RATE_LIMIT_BURST",
                    env.parse_or("SLUICE_RATE_LIMIT_BURST", 50)?,
                    1,
                    100_000,
                )?,
            },
            cors_origins: match env.raw("SLUICE_CORS_ORIGINS") {
                None => Vec::new(),
                Some(list) => parse_cors_origins(list).map_err(|reason| ConfigError::Invalid {
                    name: "SLUICE_CORS_ORIGINS",
                    reason,
                })?,
            },
            webhooks: std::sync::Arc::new(webhooks),
            pulls: PullConfig {
                enabled: env.parse_or("PULL_ENABLED", true)?,
                lease: Duration::from_secs(Env::in_range(
                    "PULL_LEASE_SECS",
                    env.parse_or("PULL_LEASE_SECS", 60)?,
                    1,
                    3600,
                )?),
                tick: Duration::from_secs(1),
                sources: pull_sources,
            },
            reads,
        })
    }
}

impl DatabaseConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let url = env.required("DATABASE_URL")?;
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                reason: "must start with postgres:// or postgresql://".into(),
            });
        }
        let ssl_mode = env.parse_or("DATABASE_SSL_MODE", "prefer".to_owned())?;
        if !["disable", "prefer", "require"].contains(&ssl_mode.as_str()) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_SSL_MODE",
                reason: format!("{ssl_mode:?} is not one of disable, prefer, require"),
            });
        }
        let pool_size = env.parse_or("DATABASE_POOL_SIZE", 5)?;
        Ok(Self {
            url: SecretString::from(url.to_owned()),
            pool_size: Env::in_range("DATABASE_POOL_SIZE", pool_size, 1, 100)?,
            ssl_mode,
        })
    }
}

impl PushConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let percent = env.parse_or("SALESFORCE_DAILY_BUDGET_PERCENT", 80u8)?;
        let calls = env.parse_or("SALESFORCE_MAX_CALLS_PER_SECOND", 5u32)?;
        Ok(Self {
            batch_window: env.millis_or("PUSH_BATCH_WINDOW_MS", 200)?,
            max_lag: env.millis_or("PUSH_MAX_LAG_MS", 1000)?,
            bulk_threshold: Env::in_range(
                "PUSH_BULK_THRESHOLD",
                env.parse_or("PUSH_BULK_THRESHOLD", 2000)?,
                1,
                u32::MAX,
            )?,
            bulk_max_records: Env::in_range(
                "PUSH_BULK_MAX_RECORDS",
                env.parse_or("PUSH_BULK_MAX_RECORDS", 50_000)?,
                1,
                150_000,
            )?,
            max_concurrent_calls: Env::in_range(
                "SALESFORCE_MAX_CONCURRENT_CALLS",
                env.parse_or("SALESFORCE_MAX_CONCURRENT_CALLS", 5)?,
                1,
                100,
            )?,
            sweep_interval: env.millis_or("PUSH_SWEEP_INTERVAL_MS", 2000)?,
            lease: Duration::from_secs(env.parse_or("PUSH_LEASE_SECS", 120)?),
            max_attempts: Env::in_range(
                "PUSH_MAX_ATTEMPTS",
                env.parse_or("PUSH_MAX_ATTEMPTS", 8)?,
                1,
                100,
            )?,
            max_calls_per_second: Env::in_range("SALESFORCE_MAX_CALLS_PER_SECOND", calls, 1, 1000)?,
            daily_budget_percent: Env::in_range(
                "SALESFORCE_DAILY_BUDGET_PERCENT",
                percent,
                1,
                100,
            )?,
            limit_pause: Duration::from_secs(env.parse_or("PUSH_LIMIT_PAUSE_SECS", 60)?),
            unanswered_hold: Duration::from_secs(Env::in_range(
                "PUSH_UNANSWERED_HOLD_SECS",
                env.parse_or("PUSH_UNANSWERED_HOLD_SECS", 630u64)?,
                0,
                86_400,
            )?),
            enabled: env.parse_or("PUSH_ENABLED", true)?,
        })
    }
}

impl PushConfig {
    /// The caps of the call gate every Salesforce call passes, for calls that time out after
    /// `call_timeout` (`SALESFORCE_TIMEOUT_SECS`, read once into [`SalesforceConfig`]).
    pub fn gate_settings(&self, call_timeout: Duration) -> crate::salesforce::gate::GateSettings {
        crate::salesforce::gate::GateSettings {
            max_calls_per_second: self.max_calls_per_second,
            max_concurrent_calls: self.max_concurrent_calls,
            daily_budget_percent: self.daily_budget_percent,
            call_timeout,
        }
    }
}

/// The `SALESFORCE_*` settings alone, for commands that only talk to Salesforce.
pub fn salesforce_from_env(env: &Env) -> Result<SalesforceConfig, ConfigError> {
    let login_url: Url = env.parse_or(
        "SALESFORCE_LOGIN_URL",
        Url::parse("https://login.salesforce.com").expect("constant URL"),
    )?;
    let audience = match env.raw("SALESFORCE_AUDIENCE") {
        Some(aud) => aud.to_owned(),
        None => login_url.as_str().trim_end_matches('/').to_owned(),
    };
    // Heroku config vars hold newlines, but a PEM pasted as one line with `\n` is common too.
    let key = env.required("SALESFORCE_PRIVATE_KEY")?.replace("\\n", "\n");
    if !key.contains("-----BEGIN") {
        return Err(ConfigError::Invalid {
            name: "SALESFORCE_PRIVATE_KEY",
            reason: "expected a PEM private key (-----BEGIN PRIVATE KEY-----)".into(),
        });
    }
    let api_version: ApiVersion = env
        .raw("SALESFORCE_API_VERSION")
        .unwrap_or("66.0")
        .parse()
        .map_err(
            |e: crate::salesforce::ApiVersionError| ConfigError::Invalid {
                name: "SALESFORCE_API_VERSION",
                reason: e.to_string(),
            },
        )?;
    Ok(SalesforceConfig {
        login_url,
        audience,
        client_id: env.required("SALESFORCE_CLIENT_ID")?.to_owned(),
        username: env.required("SALESFORCE_USERNAME")?.to_owned(),
        private_key_pem: SecretString::from(key),
        api_version,
        // Read here only: the gate's timings follow it through the client.
        request_timeout: Duration::from_secs(Env::in_range(
            "SALESFORCE_TIMEOUT_SECS",
            env.parse_or("SALESFORCE_TIMEOUT_SECS", 60)?,
            1,
            600,
        )?),
    })
}

fn auth_from_env(env: &Env) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_json(env.required("SLUICE_AUTH_KEYS")?).map_err(|e| ConfigError::Invalid {
        name: "SLUICE_AUTH_KEYS",
        reason: e.to_string(),
    })
}

/// Loads `SLUICE_MAPPINGS_DIR` (default `mappings`, relative to the working directory, which is
/// the app's root on Heroku) and derives the object catalog from it.
pub fn mappings_from_env(env: &Env) -> Result<(std::sync::Arc<MappingSet>, Catalog), ConfigError> {
    let dir = mappings_dir(env);
    let dir = dir.to_string_lossy();
    let invalid = |reason: String| ConfigError::Invalid {
        name: "SLUICE_MAPPINGS_DIR",
        reason,
    };
    let mappings = MappingSet::load_dir(std::path::Path::new(dir.as_ref()))
        .map_err(|e| invalid(format!("{dir}: {e}")))?;
    let catalog = Catalog::from_mappings(&mappings).map_err(|e| invalid(format!("{dir}: {e}")))?;
    Ok((std::sync::Arc::new(mappings), catalog))
}

/// What `sluice pull` needs: the mappings and the declared pulls with their credentials, not
/// Salesforce's settings nor the callers' keys.
pub fn pulls_from_env(env: &Env) -> Result<(std::sync::Arc<MappingSet>, PullConfig), ConfigError> {
    let (mappings, _) = mappings_from_env(env)?;
    let (_, sources) = sources::load(env, &mappings_dir(env), &mappings)?;
    Ok((
        mappings,
        PullConfig {
            enabled: true,
            lease: Duration::from_secs(env.parse_or("PULL_LEASE_SECS", 60)?),
            tick: Duration::from_secs(1),
            sources,
        },
    ))
}

fn mappings_dir(env: &Env) -> std::path::PathBuf {
    env.raw("SLUICE_MAPPINGS_DIR").unwrap_or("mappings").into()
}

impl LogConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let format = match env.raw("LOG_FORMAT").unwrap_or("logfmt") {
            "logfmt" => LogFormat::Logfmt,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    reason: format!("{other:?} is not one of logfmt, json"),
                });
            }
        };
        Ok(Self {
            format,
            payloads: env.parse_or("SLUICE_LOG_PAYLOADS", false)?,
        })
    }
}

/// Parses `SLUICE_CORS_ORIGINS`: comma-separated `scheme://host[:port]` origins, no paths.
fn parse_cors_origins(list: &str) -> Result<Vec<String>, String> {
    let mut origins = Vec::new();
    for raw in list.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        if raw == "*" {
            return Err("\"*\" is not allowed: list the origins".into());
        }
        let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not an origin: {e}"))?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare {
            return Err(format!(
                "{raw:?} is not an origin (scheme://host[:port], no path)"
            ));
        }
        origins.push(url.origin().ascii_serialization());
    }
    Ok(origins)
}

#[cfg(test)]
mod tests;
