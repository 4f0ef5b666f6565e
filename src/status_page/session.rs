//! The status page's login: a browser can't send a bearer header when it navigates, so the admin
//! pastes a JWT with `sync:admin` once and gets it back as an HttpOnly, SameSite=Strict cookie.
//! Every request re-verifies the token with the same [`Authenticator`] as the API, so an expired
//! or revoked key ends the session.
//!
//! CSRF: SameSite=Strict keeps the cookie off cross-site requests, and every POST form also
//! carries a per-session token (a hash of the session's JWT, unreadable to another origin), and
//! POSTs with a foreign `Origin` are refused.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::{Authenticator, Caller, Scope};
use crate::state::AppState;

pub const COOKIE: &str = "sluice_admin";
pub const LOGIN_PATH: &str = "/admin/login";

/// A logged-in admin: the cookie's token verified and carrying `sync:admin`.
pub struct AdminSession {
    pub caller: Caller,
    pub csrf: String,
}

impl AdminSession {
    pub fn from_token(authenticator: &Authenticator, token: &str) -> Option<Self> {
        let caller = authenticator.verify(token).ok()?;
        caller.require(Scope::SyncAdmin).ok()?;
        Some(Self {
            caller,
            csrf: csrf_token(token),
        })
    }

    /// Whether a submitted form's `csrf` field is this session's.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(submitted.as_bytes()))
    }
}

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if parts.method == axum::http::Method::POST && !same_origin(&parts.headers) {
            return Err((
                axum::http::StatusCode::FORBIDDEN,
                "cross-origin form refused",
            )
                .into_response());
        }
        cookie(&parts.headers, COOKIE)
            .and_then(|token| Self::from_token(&state.authenticator, token))
            .ok_or_else(|| Redirect::to(LOGIN_PATH).into_response())
    }
}

fn csrf_token(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"sluice-admin-csrf\0")
        .chain_update(token.as_bytes())
        .finalize();
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A browser sends `Origin` on POST; when it is there it must name this host.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

/// Loopback hosts are served over plain HTTP in development; everywhere else (Heroku terminates
/// TLS at its router) the cookie is `Secure`.
fn is_loopback(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// `Set-Cookie` for a new session holding `token`.
pub fn session_cookie(headers: &HeaderMap, token: &str) -> HeaderValue {
    let secure = if is_loopback(headers) { "" } else { "; Secure" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/admin; HttpOnly; SameSite=Strict{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("sluice_admin=; Path=/admin; Max-Age=0"))
}

/// `Set-Cookie` that ends the session.
pub fn cleared_cookie() -> HeaderValue {
    HeaderValue::from_static("sluice_admin=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; sluice_admin=tok.en; b=2")]);
        assert_eq!(cookie(&h, COOKIE), Some("tok.en"));
        assert_eq!(cookie(&headers(&[("cookie", "a=1")]), COOKIE), None);
    }

    #[test]
    fn the_cookie_is_secure_except_on_loopback() {
        let local = session_cookie(&headers(&[("host", "127.0.0.1:8080")]), "t");
        assert!(!local.to_str().unwrap().contains("Secure"));
        let heroku = session_cookie(&headers(&[("host", "hub.herokuapp.com")]), "t");
        let heroku = heroku.to_str().unwrap();
        assert!(heroku.contains("; Secure") && heroku.contains("HttpOnly"));
        assert!(heroku.contains("SameSite=Strict"));
    }

    #[test]
    fn foreign_origins_are_refused() {
        assert!(same_origin(&headers(&[
            ("host", "h:1"),
            ("origin", "http://h:1")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "h:1"),
            ("origin", "https://evil.example")
        ])));
        assert!(same_origin(&headers(&[("host", "h:1")])));
    }

    #[test]
    fn csrf_tokens_differ_by_session() {
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_eq!(csrf_token("a").len(), 32);
    }
}
