//! Request-level failures, classified where they happen (STYLE habit 15, docs/salesforce.md §7).
//!
//! Per-record failures are not errors here: they come back as [`RecordResult`](super::RecordResult)s.
//! No variant carries a token or a record payload.

use reqwest::StatusCode;
use serde::Deserialize;

/// What the caller (the push engine) should do about a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// Retry with backoff: 5xx, Edge 420, timeouts, resets, maintenance (§7.2).
    Transient,
    /// 403 `REQUEST_LIMIT_EXCEEDED`: pause until usage recovers (§6.3).
    LimitExceeded,
    /// Resending the same request won't help: configuration, permissions, a bad request.
    Fatal,
}

#[derive(Debug, thiserror::Error)]
pub enum SalesforceError {
    /// The token endpoint refused the JWT (§1.1). A configuration problem, not transient.
    #[error("Salesforce token endpoint refused the JWT assertion: {error}: {description}")]
    Auth { error: String, description: String },
    /// 403 `REQUEST_LIMIT_EXCEEDED`: the daily allocation or the concurrent long-request cap (§6.3).
    #[error("Salesforce API limit exceeded: {message}")]
    LimitExceeded { message: String },
    /// 401 on a freshly minted token, or a 401 that a new token can't fix (§1.3).
    #[error("Salesforce rejected the session: {message}")]
    SessionInvalid { message: String },
    /// 5xx, Edge 420 (the body may be HTML).
    #[error("Salesforce unavailable: HTTP {status} {code}: {message}")]
    Unavailable {
        status: u16,
        code: String,
        message: String,
    },
    /// Timeouts, resets, DNS: the request may or may not have been applied (§7.2).
    #[error("network error talking to Salesforce ({})", network_kind(.0))]
    Network(#[source] reqwest::Error),
    /// Any other 4xx: the request itself was refused; resending it won't help.
    #[error("Salesforce rejected the request: HTTP {status} {code}: {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// A 2xx answer we could not read.
    #[error("unexpected answer from Salesforce: {0}")]
    Protocol(String),
    /// Refused before sending: a collection call takes at most 200 records (§3).
    #[error("{count} records in one collection call; the maximum is {max}")]
    TooManyRecords { count: usize, max: usize },
    /// Refused before sending: the arguments can't form a valid request.
    #[error("invalid request: {0}")]
    InvalidInput(String),
    /// The private key can't sign an RS256 JWT.
    #[error("the Salesforce private key is unusable: {0}")]
    InvalidKey(String),
    /// The Streaming API refused a Bayeux message; `error` is its `code::message`, e.g.
    /// `400::The channel you requested to subscribe to does not exist …`.
    #[error("Streaming API refused {channel}: {error}")]
    Streaming { channel: String, error: String },
    /// A subscription can't resume from `replay_id`: the event is gone (72 h retention) or never
    /// was. Changes since then must be read by query before subscribing again from -1 or -2.
    #[error("Streaming API can't replay {channel} from {replay_id}: {error}")]
    ReplayUnavailable {
        channel: String,
        replay_id: i64,
        error: String,
    },
    /// The call gate held the call: nothing was sent. Every dyno stops calling until `until`
    /// (the daily budget is spent, Salesforce is unreachable, or it answered
    /// `REQUEST_LIMIT_EXCEEDED`). Not the records' fault: they keep their attempts.
    #[error("calls to Salesforce are paused until {until} ({})", .reason.describe())]
    Held {
        reason: super::gate::PauseReason,
        until: chrono::DateTime<chrono::Utc>,
    },
    /// The call gate found no concurrency slot or place in the second in time: nothing was sent.
    #[error("the call gate stayed closed for {0:?}")]
    GateBusy(std::time::Duration),
    /// The call gate's shared state (in Postgres) could not be read: nothing was sent.
    #[error("the call gate's database")]
    Gate(#[source] sqlx::Error),
    /// `403::Organization total events daily limit exceeded`: the event-delivery allocation is
    /// spent; events wait on the bus for replay, reads fall back to polling meanwhile.
    #[error("Streaming API event delivery allocation exceeded: {error}")]
    EventLimitExceeded { error: String },
}

impl From<super::gate::GateError> for SalesforceError {
    fn from(e: super::gate::GateError) -> Self {
        use super::gate::GateError;
        match e {
            GateError::Held(hold) => Self::Held {
                reason: hold.reason,
                until: hold.until,
            },
            GateError::Busy(waited) => Self::GateBusy(waited),
            GateError::Database(e) => Self::Gate(e),
        }
    }
}

/// `REQUEST_LIMIT_EXCEEDED` is how Salesforce says "rate limited"; there is no 429 (§6.3).
const LIMIT_CODE: &str = "REQUEST_LIMIT_EXCEEDED";

/// 4xx codes that clear up on their own (§7.2): read-only during release upgrades.
const TRANSIENT_REQUEST_CODES: &[&str] = &[
    "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
    "API_CURRENTLY_DISABLED",
    "UNABLE_TO_LOCK_ROW",
];

impl SalesforceError {
    pub fn class(&self) -> FailureClass {
        match self {
            Self::LimitExceeded { .. }
            | Self::EventLimitExceeded { .. }
            | Self::Held { .. }
            | Self::GateBusy(_) => FailureClass::LimitExceeded,
            Self::Gate(_) => FailureClass::Transient,
            Self::Streaming { error, .. } if streaming_is_transient(error) => {
                FailureClass::Transient
            }
            Self::Unavailable { .. } | Self::Network(_) => FailureClass::Transient,
            Self::Rejected { code, .. } if TRANSIENT_REQUEST_CODES.contains(&code.as_str()) => {
                FailureClass::Transient
            }
            Self::Auth { .. }
            | Self::SessionInvalid { .. }
            | Self::Rejected { .. }
            | Self::Protocol(_)
            | Self::TooManyRecords { .. }
            | Self::InvalidInput(_)
            | Self::InvalidKey(_)
            | Self::Streaming { .. }
            | Self::ReplayUnavailable { .. } => FailureClass::Fatal,
        }
    }

    /// How long the call gate holds every call, when it held this one: its records go back to
    /// the queue for that long without spending an attempt.
    pub fn held_for(&self) -> Option<std::time::Duration> {
        match self {
            Self::Held { until, .. } => {
                Some((*until - chrono::Utc::now()).to_std().unwrap_or_default())
            }
            Self::GateBusy(_) => Some(std::time::Duration::ZERO),
            _ => None,
        }
    }

    /// No usable answer came back: 5xx or Edge 420, or a network failure (refused, reset,
    /// timed out). Calls in a row failing this way are an outage (see `gate::outage`).
    pub(crate) fn is_unreachable(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Network(_))
    }

    /// The concurrent-request variant of `REQUEST_LIMIT_EXCEEDED` clears in seconds, the daily one
    /// only as the rolling window moves (§6.3, §7.2).
    pub fn is_concurrency_limit(&self) -> bool {
        matches!(self, Self::LimitExceeded { message } if message.starts_with("ConcurrentRequests"))
    }

    /// Maps a non-2xx REST answer to an error. 401 is handled by the caller (re-auth, §1.3).
    pub(crate) fn from_response(
        status: StatusCode,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Self {
        let (code, message) = first_api_error(content_type, body);
        let code_u16 = status.as_u16();
        if code == LIMIT_CODE {
            return Self::LimitExceeded { message };
        }
        if status.is_server_error() || code_u16 == 420 || code_u16 == 429 {
            return Self::Unavailable {
                status: code_u16,
                code,
                message,
            };
        }
        if status == StatusCode::UNAUTHORIZED {
            return Self::SessionInvalid { message };
        }
        Self::Rejected {
            status: code_u16,
            code,
            message,
        }
    }
}

/// Bayeux errors are `code::message`; a server-side code or a forgotten client clears by retrying
/// (a new handshake), a 4xx about the request itself doesn't.
fn streaming_is_transient(error: &str) -> bool {
    let code = error.split("::").next().unwrap_or("");
    code.starts_with('5') || error.starts_with("403::Unknown client")
}

fn network_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "reading the body"
    } else {
        "request"
    }
}

/// One entry of the REST error array `[{"message","errorCode","fields"}]` (§2.2).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiErrorBody {
    #[serde(default, alias = "statusCode")]
    error_code: String,
    #[serde(default)]
    message: String,
}

/// Longest message kept from a body; a proxy's HTML page or a stack trace isn't worth more.
const MAX_MESSAGE_CHARS: usize = 500;

/// `(errorCode, message)` of the first error in a body, or a description of a body that isn't the
/// JSON error array (HTML from the Edge, empty bodies). Bodies are never echoed wholesale.
pub(crate) fn first_api_error(content_type: Option<&str>, body: &[u8]) -> (String, String) {
    let parsed = serde_json::from_slice::<Vec<ApiErrorBody>>(body)
        .ok()
        .and_then(|v| v.into_iter().next())
        .or_else(|| serde_json::from_slice::<ApiErrorBody>(body).ok());
    match parsed {
        Some(e) => (e.error_code, truncate(&e.message)),
        None => {
            let kind = content_type.unwrap_or("no content type");
            (
                String::new(),
                format!("unparseable body ({kind}, {} bytes)", body.len()),
            )
        }
    }
}

fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(status: u16, ct: &str, body: &str) -> SalesforceError {
        SalesforceError::from_response(
            StatusCode::from_u16(status).unwrap(),
            Some(ct),
            body.as_bytes(),
        )
    }

    #[test]
    fn request_limit_is_its_own_class() {
        let e = classify(
            403,
            "application/json",
            r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert!(
            matches!(&e, SalesforceError::LimitExceeded { message } if message == "TotalRequests Limit exceeded.")
        );
        assert_eq!(e.class(), FailureClass::LimitExceeded);
        assert!(!e.is_concurrency_limit());
        let e = classify(
            403,
            "application/json",
            r#"[{"message":"ConcurrentRequests (Concurrent API Requests) Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        );
        assert!(e.is_concurrency_limit());
    }

    #[test]
    fn server_and_edge_errors_are_transient_even_with_html() {
        let e = classify(
            503,
            "text/html",
            "<html><body>Down for maintenance</body></html>",
        );
        assert!(matches!(
            &e,
            SalesforceError::Unavailable { status: 503, .. }
        ));
        assert_eq!(e.class(), FailureClass::Transient);
        assert!(!e.to_string().contains("<html>"));
        let e = classify(
            500,
            "application/json",
            r#"[{"message":"An unexpected error occurred.","errorCode":"UNKNOWN_EXCEPTION"}]"#,
        );
        assert!(
            matches!(&e, SalesforceError::Unavailable { code, .. } if code == "UNKNOWN_EXCEPTION")
        );
        for status in [420, 429, 502, 504] {
            assert_eq!(
                classify(status, "text/plain", "").class(),
                FailureClass::Transient,
                "{status}"
            );
        }
    }

    #[test]
    fn other_client_errors_are_fatal_unless_maintenance() {
        let e = classify(
            400,
            "application/json",
            r#"[{"message":"record limit reached","errorCode":"EXCEEDED_ID_LIMIT"}]"#,
        );
        assert!(
            matches!(&e, SalesforceError::Rejected { status: 400, code, .. } if code == "EXCEEDED_ID_LIMIT")
        );
        assert_eq!(e.class(), FailureClass::Fatal);
        assert_eq!(
            classify(
                404,
                "application/json",
                r#"[{"errorCode":"NOT_FOUND","message":"x"}]"#
            )
            .class(),
            FailureClass::Fatal
        );
        let e = classify(
            400,
            "application/json",
            r#"[{"errorCode":"API_CURRENTLY_DISABLED","message":"x"}]"#,
        );
        assert_eq!(e.class(), FailureClass::Transient);
    }

    #[test]
    fn auth_and_local_errors_are_fatal() {
        let auth = SalesforceError::Auth {
            error: "invalid_grant".into(),
            description: "audience is invalid".into(),
        };
        assert_eq!(auth.class(), FailureClass::Fatal);
        assert_eq!(
            SalesforceError::TooManyRecords {
                count: 201,
                max: 200
            }
            .class(),
            FailureClass::Fatal
        );
        assert_eq!(
            SalesforceError::SessionInvalid {
                message: String::new()
            }
            .class(),
            FailureClass::Fatal
        );
    }

    #[test]
    fn streaming_refusals_are_classified() {
        let refused = |error: &str| SalesforceError::Streaming {
            channel: "/meta/subscribe".into(),
            error: error.into(),
        };
        assert_eq!(
            refused("403::Unknown client").class(),
            FailureClass::Transient
        );
        assert_eq!(refused("503::Server busy").class(), FailureClass::Transient);
        assert_eq!(
            refused("400::Channel name not specified").class(),
            FailureClass::Fatal
        );
        let replay = SalesforceError::ReplayUnavailable {
            channel: "/data/AccountChangeEvent".into(),
            replay_id: 7,
            error: "400::The replayId 7 you provided was invalid.".into(),
        };
        assert_eq!(replay.class(), FailureClass::Fatal);
        let spent = SalesforceError::EventLimitExceeded {
            error: "403::Organization total events daily limit exceeded".into(),
        };
        assert_eq!(spent.class(), FailureClass::LimitExceeded);
    }

    #[test]
    fn long_messages_are_truncated() {
        let body = format!(r#"[{{"errorCode":"X","message":"{}"}}]"#, "a".repeat(2000));
        let (_, message) = first_api_error(Some("application/json"), body.as_bytes());
        assert!(message.chars().count() <= MAX_MESSAGE_CHARS + 1);
    }
}
