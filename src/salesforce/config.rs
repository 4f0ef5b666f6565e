//! Connection settings for one Salesforce org.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// The production login host; sandboxes use `https://test.salesforce.com` (§1.1).
pub const DEFAULT_LOGIN_URL: &str = "https://login.salesforce.com";

/// The version pinned when none is configured. §2.1: pin one, never "latest".
pub const DEFAULT_API_VERSION: ApiVersion = ApiVersion {
    major: 66,
    minor: 0,
};

/// Settings for [`SalesforceClient`](super::SalesforceClient). `Debug` and `Display` never show the key.
#[derive(Clone, Debug)]
pub struct SalesforceConfig {
    /// Where the token is requested: `{login_url}/services/oauth2/token` (login, test, or a My Domain host).
    pub login_url: Url,
    /// The JWT `aud` claim. Configurable apart from `login_url` because My Domain orgs may need a
    /// different audience from the host that serves the token endpoint (§1.1).
    pub audience: String,
    /// Consumer key of the connected app: the JWT `iss`.
    pub client_id: String,
    /// The integration user: the JWT `sub`.
    pub username: String,
    /// PEM private key (PKCS#1 or PKCS#8) whose certificate is uploaded to the connected app.
    pub private_key_pem: SecretString,
    /// The REST API version every path uses.
    pub api_version: ApiVersion,
    /// Whole-request timeout (connect, send, and read the body) for every call.
    pub request_timeout: Duration,
}

impl SalesforceConfig {
    /// A config for `login.salesforce.com`, API [`DEFAULT_API_VERSION`], a 60 s timeout.
    pub fn new(
        client_id: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: SecretString,
    ) -> Self {
        let login_url = Url::parse(DEFAULT_LOGIN_URL).expect("DEFAULT_LOGIN_URL is a valid URL");
        Self {
            audience: audience_for(&login_url),
            login_url,
            client_id: client_id.into(),
            username: username.into(),
            private_key_pem,
            api_version: DEFAULT_API_VERSION,
            request_timeout: Duration::from_secs(60),
        }
    }

    /// Points the config at another login host and resets `audience` to match it.
    pub fn with_login_url(mut self, login_url: Url) -> Self {
        self.audience = audience_for(&login_url);
        self.login_url = login_url;
        self
    }
}

impl fmt::Display for SalesforceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "login_url={} audience={} client_id={} username={} api_version={} request_timeout_ms={}",
            self.login_url,
            self.audience,
            self.client_id,
            self.username,
            self.api_version,
            self.request_timeout.as_millis()
        )
    }
}

/// The default JWT audience for a login host: its URL without the trailing slash, as Salesforce
/// spells it (`https://login.salesforce.com`, §1.1).
pub fn audience_for(login_url: &Url) -> String {
    login_url.as_str().trim_end_matches('/').to_owned()
}

/// A REST API version such as `v66.0`. Parsed from `"66.0"` or `"v66.0"`; displayed as `v66.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

impl ApiVersion {
    /// sObject Collections upsert and the `created` flag exist from v46.0 (§2.3, §3).
    pub const MINIMUM: ApiVersion = ApiVersion {
        major: 46,
        minor: 0,
    };

    pub fn major(self) -> u16 {
        self.major
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

/// Why a string is not an [`ApiVersion`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Salesforce API version {input:?}: {reason}")]
pub struct ApiVersionError {
    input: String,
    reason: &'static str,
}

impl FromStr for ApiVersion {
    type Err = ApiVersionError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ApiVersionError {
            input: input.to_owned(),
            reason,
        };
        let digits = input.strip_prefix('v').unwrap_or(input);
        let (major, minor) = digits
            .split_once('.')
            .ok_or_else(|| err("expected MAJOR.MINOR, e.g. 66.0"))?;
        let number = |s: &str| {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err("expected MAJOR.MINOR, e.g. 66.0"));
            }
            s.parse::<u16>().map_err(|_| err("number out of range"))
        };
        let version = ApiVersion {
            major: number(major)?,
            minor: number(minor)?,
        };
        if version < Self::MINIMUM {
            return Err(err("versions before 46.0 lack collection upserts"));
        }
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_version_parses_with_or_without_v() {
        assert_eq!("66.0".parse::<ApiVersion>().unwrap().to_string(), "v66.0");
        assert_eq!("v67.0".parse::<ApiVersion>().unwrap().to_string(), "v67.0");
        assert_eq!(DEFAULT_API_VERSION.to_string(), "v66.0");
    }

    #[test]
    fn api_version_rejects_garbage_and_retired_versions() {
        for bad in [
            "",
            "66",
            "v",
            "latest",
            "v66.x",
            "66.0.1",
            "+66.0",
            "v 66.0",
            "99999999.0",
            "45.0",
        ] {
            assert!(
                bad.parse::<ApiVersion>().is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn config_never_shows_the_key() {
        let cfg = SalesforceConfig::new(
            "cid",
            "user@x",
            SecretString::from("-----BEGIN SUPERSECRET"),
        );
        assert!(!format!("{cfg}").contains("SUPERSECRET"));
        assert!(!format!("{cfg:?}").contains("SUPERSECRET"));
        assert_eq!(cfg.audience, "https://login.salesforce.com");
    }

    #[test]
    fn audience_follows_login_url() {
        let cfg = SalesforceConfig::new("c", "u", SecretString::from("k"))
            .with_login_url(Url::parse("https://test.salesforce.com/").unwrap());
        assert_eq!(cfg.audience, "https://test.salesforce.com");
    }
}
