//! Simulator configuration.

use std::time::Duration;

/// How the simulated org is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The connected app's consumer key, expected as the JWT `iss`.
    pub client_id: String,
    /// The integration user, expected as the JWT `sub`.
    pub username: String,
    /// RSA public key (`BEGIN PUBLIC KEY`) that verifies RS256 JWT assertions.
    pub public_key_pem: String,
    /// The org's daily API request allocation (docs/salesforce.md §6.1; Developer Edition: 15,000).
    pub daily_api_limit: u64,
    /// Session timeout; every authenticated call extends it (docs/salesforce.md §1.1).
    pub token_ttl: Duration,
    /// Base URL advertised as `instance_url` and accepted as JWT `aud`; default `http://{bound addr}`.
    pub public_url: Option<String>,
    /// Change events delivered to CometD clients per rolling 24 hours, separate from the API
    /// allocation. 10,000 is the Developer Edition figure of the event-delivery tables read
    /// (<https://developer.salesforce.com/docs/atlas.en-us.214.0.platform_events.meta/platform_events/platform_event_limits.htm>,
    /// <https://developer.salesforce.com/docs/platform/api-streaming/guide/limits.html>); the Change
    /// Data Capture table itself (under
    /// <https://developer.salesforce.com/docs/platform/change-data-capture/guide/cdc-considerations.html>)
    /// wasn't read [UNVERIFIED].
    pub daily_event_delivery_limit: u64,
    /// How long a CometD `/meta/connect` is held when no event arrives (Salesforce: 110 s).
    pub cometd_connect_timeout: Duration,
    /// How long a CometD client may wait between a connect's answer and its next connect
    /// before the server forgets it (Salesforce: 40 s).
    /// <https://developer.salesforce.com/docs/atlas.en-us.api_streaming.meta/api_streaming/using_streaming_api_client_connection.htm>
    pub cometd_reconnect_deadline: Duration,
    /// Refuse REST calls past this many in any one second with 403 `REQUEST_LIMIT_EXCEEDED`
    /// (see `rate.rs`); `None`: no cap.
    pub max_calls_per_second: Option<u32>,
}

impl SimConfig {
    /// The development org: the key pair in `dev/`, Developer Edition limits, 2 h sessions.
    pub fn dev() -> Self {
        Self {
            client_id: "sluice-dev-client".into(),
            username: "integration@sluice.dev".into(),
            public_key_pem: include_str!("../../dev/salesforce-dev-public.pem").into(),
            daily_api_limit: 15_000,
            token_ttl: Duration::from_secs(2 * 60 * 60),
            public_url: None,
            daily_event_delivery_limit: 10_000,
            cometd_connect_timeout: Duration::from_secs(110),
            cometd_reconnect_deadline: Duration::from_secs(40),
            max_calls_per_second: None,
        }
    }
}
