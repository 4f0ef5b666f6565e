//! One page of a pull: the request for a position, and what the answer says about the next one.

use reqwest::header::{ACCEPT, LINK};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::config::pulls::{Pagination, PullAuth, PullSource};
use crate::normalize::path;

/// Where a run is: which page comes next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Position {
    First,
    Page {
        page: u64,
    },
    Offset {
        offset: u64,
    },
    Cursor {
        cursor: String,
    },
    /// A `Link: rel="next"` URL, already holding every parameter.
    Url {
        url: String,
    },
}

/// A page's items and the position after it (`None`: the last page).
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
    pub next: Option<Position>,
}

/// Why a page could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Worth another try: a timeout, a dropped connection, 429, 5xx.
    #[error("{0}")]
    Transient(String),
    /// Another try would get the same answer: 4xx, not JSON, a next link to another origin.
    #[error("{0}")]
    Fatal(String),
}

/// The URL of the page at `position`.
pub fn url(pull: &PullSource, position: &Position, watermark: Option<&str>) -> Url {
    if let Position::Url { url } = position
        && let Ok(url) = Url::parse(url)
    {
        return url;
    }
    let mut url = pull.url.clone();
    {
        let mut query = url.query_pairs_mut();
        if let (Some(w), Some(value)) = (&pull.watermark, watermark) {
            query.append_pair(&w.param, value);
        }
        let size = |query: &mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>,
                    size: &Option<(String, u64)>| {
            if let Some((param, n)) = size {
                query.append_pair(param, &n.to_string());
            }
        };
        match (&pull.pagination, position) {
            (
                Pagination::Page {
                    param,
                    start,
                    size: s,
                },
                p,
            ) => {
                let page = match p {
                    Position::Page { page } => *page,
                    _ => *start,
                };
                query.append_pair(param, &page.to_string());
                size(&mut query, s);
            }
            (Pagination::Offset { param, size: s }, p) => {
                let offset = match p {
                    Position::Offset { offset } => *offset,
                    _ => 0,
                };
                query.append_pair(param, &offset.to_string());
                size(&mut query, s);
            }
            (Pagination::Cursor { param, .. }, Position::Cursor { cursor }) => {
                query.append_pair(param, cursor);
            }
            _ => {}
        }
    }
    // `query_pairs_mut` leaves a bare `?` when it appended nothing.
    if url.query() == Some("") {
        url.set_query(None);
    }
    url
}

/// Requests one page and reads it.
pub async fn page(
    http: &reqwest::Client,
    pull: &PullSource,
    position: &Position,
    watermark: Option<&str>,
) -> Result<Page, FetchError> {
    let url = url(pull, position, watermark);
    let request = http
        .get(url.clone())
        .header(ACCEPT, "application/json")
        .timeout(pull.timeout);
    let request = match &pull.auth {
        PullAuth::None => request,
        PullAuth::Bearer(token) => request.bearer_auth(token.expose_secret()),
        PullAuth::Basic { user, password } => {
            request.basic_auth(user, Some(password.expose_secret()))
        }
    };
    let response = request.send().await.map_err(|e| {
        // The URL is ours, never the credentials (they are in headers).
        FetchError::Transient(format!("GET {}: {}", redact(&url), error_chain(&e)))
    })?;
    let status = response.status();
    if status.as_u16() == 429 || status.is_server_error() {
        return Err(FetchError::Transient(format!(
            "GET {} answered {status}",
            redact(&url)
        )));
    }
    if !status.is_success() {
        return Err(FetchError::Fatal(format!(
            "GET {} answered {status}",
            redact(&url)
        )));
    }
    let link = response
        .headers()
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_link);
    let body: Value = response.json().await.map_err(|e| {
        FetchError::Fatal(format!(
            "GET {}: the answer is not JSON: {}",
            redact(&url),
            error_chain(&e)
        ))
    })?;
    let mut selected = Vec::new();
    path::select(&body, &pull.items, &mut selected);
    let items: Vec<Value> = selected.into_iter().cloned().collect();
    let next = next(pull, position, &items, &body, link.as_deref(), &url)?;
    Ok(Page { items, next })
}

fn next(
    pull: &PullSource,
    position: &Position,
    items: &[Value],
    body: &Value,
    link: Option<&str>,
    url: &Url,
) -> Result<Option<Position>, FetchError> {
    let short = |size: &Option<(String, u64)>| {
        items.is_empty()
            || size
                .as_ref()
                .is_some_and(|(_, n)| (items.len() as u64) < *n)
    };
    Ok(match &pull.pagination {
        Pagination::None => None,
        Pagination::Page { start, size, .. } => (!short(size)).then(|| Position::Page {
            page: match position {
                Position::Page { page } => page + 1,
                _ => start + 1,
            },
        }),
        Pagination::Offset { size, .. } => (!short(size)).then(|| Position::Offset {
            offset: match position {
                Position::Offset { offset } => offset + items.len() as u64,
                _ => items.len() as u64,
            },
        }),
        Pagination::Cursor { next, .. } => match path::get(body, next) {
            _ if items.is_empty() => None,
            Some(Value::String(s)) if !s.is_empty() => Some(Position::Cursor { cursor: s.clone() }),
            Some(Value::Number(n)) => Some(Position::Cursor {
                cursor: n.to_string(),
            }),
            _ => None,
        },
        Pagination::Link => match link {
            None => None,
            Some(target) => {
                let target = url
                    .join(target)
                    .map_err(|e| FetchError::Fatal(format!("Link rel=\"next\" {target:?}: {e}")))?;
                // The credentials go with every request: never to another host.
                if target.origin() != pull.url.origin() {
                    return Err(FetchError::Fatal(format!(
                        "Link rel=\"next\" points at another origin ({}); not followed",
                        target.origin().ascii_serialization()
                    )));
                }
                Some(Position::Url {
                    url: target.to_string(),
                })
            }
        },
    })
}

/// The `rel="next"` target of a `Link` header value (RFC 8288): `<url>; rel="next", <…>; …`.
fn next_link(value: &str) -> Option<String> {
    value.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let is_next = params.split(';').any(|p| {
            let Some((k, v)) = p.trim().split_once('=') else {
                return false;
            };
            k.trim().eq_ignore_ascii_case("rel")
                && v.trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        is_next.then(|| target.to_owned())
    })
}

/// The URL without its query, which may hold tokens some APIs take as parameters.
fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.to_string()
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        let header = r#"<https://api.example.com/o?page=3>; rel="next", <https://api.example.com/o?page=9>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.example.com/o?page=3")
        );
        assert_eq!(next_link(r#"<https://x/?p=1>; rel="prev""#), None);
    }
}
