//! OAuth 2.0 JWT bearer flow (§1.1) and the cached access token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use super::config::SalesforceConfig;
use super::error::SalesforceError;

/// §1.1: "within 3 minutes". Kept at the upper bound so a slow hop doesn't expire the assertion.
const ASSERTION_LIFETIME_SECS: i64 = 180;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A bearer token and the instance every REST call must go to (never the login host, §1.1).
pub(crate) struct AccessToken {
    pub(crate) value: SecretString,
    pub(crate) instance_url: Url,
    /// Which mint this is: a 401 only forces a refresh if the failing token is still the current one.
    pub(crate) generation: u64,
}

#[derive(Serialize)]
pub(crate) struct Claims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) sub: &'a str,
    pub(crate) aud: &'a str,
    /// NumericDate: integer seconds since the epoch, UTC (§1.1, §12 item 5).
    pub(crate) exp: i64,
}

/// The token endpoint's success body. Deliberately not `Debug`: it holds the token.
#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
}

/// RFC 6749 error body: `{"error":"invalid_grant","error_description":"…"}` (§1.1).
#[derive(Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Default)]
struct Slot {
    token: Option<Arc<AccessToken>>,
    generation: u64,
}

pub(crate) struct TokenSource {
    key: EncodingKey,
    token_url: Url,
    client_id: String,
    username: String,
    audience: String,
    /// Held across the token request, so concurrent callers that find no token wait for one mint
    /// instead of each asking for their own.
    slot: tokio::sync::Mutex<Slot>,
    requests: AtomicU64,
}

impl TokenSource {
    /// Parses the key and proves it can sign, so a bad key fails at start-up, not on first use.
    pub(crate) fn new(cfg: &SalesforceConfig) -> Result<Self, SalesforceError> {
        let key = EncodingKey::from_rsa_pem(cfg.private_key_pem.expose_secret().as_bytes())
            .map_err(|e| SalesforceError::InvalidKey(e.to_string()))?;
        let mut token_url = cfg.login_url.clone();
        token_url
            .path_segments_mut()
            .map_err(|()| SalesforceError::InvalidInput("login_url can't be a base URL".into()))?
            .pop_if_empty()
            .extend(["services", "oauth2", "token"]);
        let source = Self {
            key,
            token_url,
            client_id: cfg.client_id.clone(),
            username: cfg.username.clone(),
            audience: cfg.audience.clone(),
            slot: tokio::sync::Mutex::default(),
            requests: AtomicU64::new(0),
        };
        source.assertion(Utc::now().timestamp())?;
        Ok(source)
    }

    /// The signed RS256 assertion for the given "now" (seconds since the epoch, UTC).
    pub(crate) fn assertion(&self, now: i64) -> Result<String, SalesforceError> {
        let claims = Claims {
            iss: &self.client_id,
            sub: &self.username,
            aud: &self.audience,
            exp: now + ASSERTION_LIFETIME_SECS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| SalesforceError::InvalidKey(e.to_string()))
    }

    /// How many token requests were sent (successful or not) since the client was built.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The cached token, minting one if there is none.
    pub(crate) async fn current(
        &self,
        http: &reqwest::Client,
    ) -> Result<Arc<AccessToken>, SalesforceError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = &slot.token {
            return Ok(token.clone());
        }
        self.mint(http, &mut slot).await
    }

    /// Replaces the token that got a 401, unless another caller already replaced it.
    pub(crate) async fn refresh(
        &self,
        http: &reqwest::Client,
        stale_generation: u64,
    ) -> Result<Arc<AccessToken>, SalesforceError> {
        let mut slot = self.slot.lock().await;
        if let Some(token) = &slot.token
            && token.generation != stale_generation
        {
            return Ok(token.clone());
        }
        slot.token = None;
        self.mint(http, &mut slot).await
    }

    async fn mint(
        &self,
        http: &reqwest::Client,
        slot: &mut Slot,
    ) -> Result<Arc<AccessToken>, SalesforceError> {
        let assertion = self.assertion(Utc::now().timestamp())?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        super::metrics::token_request();
        let started = Instant::now();
        let response = http
            .post(self.token_url.clone())
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", GRANT_TYPE),
                ("assertion", assertion.as_str()),
            ])
            .send()
            .await
            .map_err(SalesforceError::Network)?;
        let status = response.status();
        let body = response.bytes().await.map_err(SalesforceError::Network)?;
        let duration_ms = started.elapsed().as_millis() as u64;

        if !status.is_success() {
            tracing::warn!(
                status = status.as_u16(),
                duration_ms,
                "salesforce token request refused"
            );
            return Err(token_error(status, &body));
        }
        let parsed: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| SalesforceError::Protocol(format!("token response: {e}")))?;
        let instance_url = Url::parse(&parsed.instance_url)
            .map_err(|e| SalesforceError::Protocol(format!("token response instance_url: {e}")))?;
        if parsed.access_token.is_empty() {
            return Err(SalesforceError::Protocol(
                "token response has an empty access_token".into(),
            ));
        }
        slot.generation += 1;
        let token = Arc::new(AccessToken {
            value: SecretString::from(parsed.access_token),
            instance_url,
            generation: slot.generation,
        });
        tracing::info!(
            instance = token.instance_url.host_str().unwrap_or(""),
            generation = token.generation,
            duration_ms,
            "salesforce token acquired"
        );
        slot.token = Some(token.clone());
        Ok(token)
    }
}

fn token_error(status: reqwest::StatusCode, body: &[u8]) -> SalesforceError {
    let parsed = serde_json::from_slice::<TokenError>(body).ok();
    let code = status.as_u16();
    if status.is_server_error() || code == 420 || code == 429 {
        let (code_text, message) = match parsed {
            Some(e) => (e.error, e.error_description),
            None => (
                String::new(),
                format!("unparseable body ({} bytes)", body.len()),
            ),
        };
        return SalesforceError::Unavailable {
            status: code,
            code: code_text,
            message,
        };
    }
    match parsed {
        Some(e) => SalesforceError::Auth {
            error: e.error,
            description: e.error_description,
        },
        None => SalesforceError::Auth {
            error: format!("http_{code}"),
            description: "unparseable body".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    const KEY: &str = include_str!("../../dev/salesforce-dev-key.pem");
    const PUBLIC: &str = include_str!("../../dev/salesforce-dev-public.pem");

    #[derive(Deserialize)]
    struct Decoded {
        iss: String,
        sub: String,
        aud: String,
        exp: i64,
    }

    fn config() -> SalesforceConfig {
        SalesforceConfig::new(
            "sluice-dev-client",
            "integration@sluice.dev",
            SecretString::from(KEY),
        )
    }

    #[test]
    fn assertion_carries_the_documented_claims() {
        let source = TokenSource::new(&config()).unwrap();
        let now = Utc::now().timestamp();
        let jwt = source.assertion(now).unwrap();

        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&["https://login.salesforce.com"]);
        validation.set_issuer(&["sluice-dev-client"]);
        let key = DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap();
        let data = jsonwebtoken::decode::<Decoded>(&jwt, &key, &validation).unwrap();
        assert_eq!(data.header.alg, Algorithm::RS256);
        assert_eq!(data.claims.iss, "sluice-dev-client");
        assert_eq!(data.claims.sub, "integration@sluice.dev");
        assert_eq!(data.claims.aud, "https://login.salesforce.com");
        assert_eq!(data.claims.exp, now + 180);
        // Seconds, not milliseconds (§12 item 5): the raw claim is a 10-digit integer.
        assert!(data.claims.exp < 10_000_000_000);
    }

    #[test]
    fn token_url_is_under_the_login_host() {
        let source = TokenSource::new(&config()).unwrap();
        assert_eq!(
            source.token_url.as_str(),
            "https://login.salesforce.com/services/oauth2/token"
        );
    }

    #[test]
    fn a_bad_key_fails_up_front() {
        let mut cfg = config();
        cfg.private_key_pem =
            SecretString::from("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        assert!(matches!(
            TokenSource::new(&cfg),
            Err(SalesforceError::InvalidKey(_))
        ));
        cfg.private_key_pem = SecretString::from("not a pem");
        assert!(matches!(
            TokenSource::new(&cfg),
            Err(SalesforceError::InvalidKey(_))
        ));
    }

    #[test]
    fn token_endpoint_errors_map_to_auth_or_unavailable() {
        let e = token_error(
            reqwest::StatusCode::BAD_REQUEST,
            br#"{"error":"invalid_grant","error_description":"audience is invalid"}"#,
        );
        assert!(matches!(e, SalesforceError::Auth { ref error, .. } if error == "invalid_grant"));
        let e = token_error(reqwest::StatusCode::SERVICE_UNAVAILABLE, b"<html>");
        assert!(matches!(
            e,
            SalesforceError::Unavailable { status: 503, .. }
        ));
    }
}
