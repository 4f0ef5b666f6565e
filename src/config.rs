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

use crate::auth::AuthConfig;
use crate::objects::Catalog;
use crate::salesforce::{ApiVersion, SalesforceConfig};

/// Why the configuration could not be read. Always names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required but not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Log line format on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// `key=value` pairs, what Heroku's log tools parse.
    Logfmt,
    Json,
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
    /// How long a change waits for others to share its API call.
    pub batch_window: Duration,
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
    pub catalog: Catalog,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub shutdown_grace: Duration,
    pub log_format: LogFormat,
}

/// Reads variables from a map, so tests need not touch the process environment.
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        )
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
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
        Ok(Self {
            port: env.parse_or("PORT", 8080)?,
            database: DatabaseConfig::from_env(env)?,
            salesforce: salesforce_from_env(env)?,
            auth: auth_from_env(env)?,
            push: PushConfig::from_env(env)?,
            catalog: catalog_from_env(env)?,
            max_body_bytes: env.parse_or("SLUICE_MAX_BODY_BYTES", 10 * 1024 * 1024)?,
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
            log_format: log_format_from_env(env)?,
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
            enabled: env.parse_or("PUSH_ENABLED", true)?,
        })
    }
}

fn salesforce_from_env(env: &Env) -> Result<SalesforceConfig, ConfigError> {
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
        request_timeout: Duration::from_secs(env.parse_or("SALESFORCE_TIMEOUT_SECS", 60)?),
    })
}

fn auth_from_env(env: &Env) -> Result<AuthConfig, ConfigError> {
    AuthConfig::from_json(env.required("SLUICE_AUTH_KEYS")?).map_err(|e| ConfigError::Invalid {
        name: "SLUICE_AUTH_KEYS",
        reason: e.to_string(),
    })
}

fn catalog_from_env(env: &Env) -> Result<Catalog, ConfigError> {
    match env.raw("SLUICE_OBJECTS") {
        None => Ok(Catalog::default_set()),
        Some(json) => Catalog::from_json(json).map_err(|e| ConfigError::Invalid {
            name: "SLUICE_OBJECTS",
            reason: e.to_string(),
        }),
    }
}

fn log_format_from_env(env: &Env) -> Result<LogFormat, ConfigError> {
    match env.raw("LOG_FORMAT").unwrap_or("logfmt") {
        "logfmt" => Ok(LogFormat::Logfmt),
        "json" => Ok(LogFormat::Json),
        other => Err(ConfigError::Invalid {
            name: "LOG_FORMAT",
            reason: format!("{other:?} is not one of logfmt, json"),
        }),
    }
}

#[cfg(test)]
mod tests;
