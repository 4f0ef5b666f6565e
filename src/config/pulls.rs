//! The scheduled pulls: a mapping file's `[pull]` table names the JSON API its source's records
//! are read from, how often, how its pages follow each other and which field is the watermark.
//! Credentials come from the environment variables it names.

use std::time::Duration;

use secrecy::SecretString;
use toml::{Table, Value as Toml};
use url::Url;

use super::sources::{Declared, Problem, check_keys, duration_secs, optional_str};

/// Pages read in one run at most, unless the pull says otherwise: a bound on a run whose API
/// never stops answering "next".
pub const DEFAULT_MAX_PAGES: u32 = 10_000;

/// How the API's pages follow each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pagination {
    /// One request.
    None,
    /// `?page=1`, `?page=2`, … until a page is short or empty.
    Page {
        param: String,
        start: u64,
        size: Option<(String, u64)>,
    },
    /// `?offset=0`, `?offset=100`, … by the items received, until a page is short or empty.
    Offset {
        param: String,
        size: Option<(String, u64)>,
    },
    /// `?cursor=<the value at `next` in the previous page>` until it is absent or empty.
    Cursor { param: String, next: String },
    /// The `Link: <…>; rel="next"` header (RFC 8288), on the same origin only.
    Link,
}

/// Credentials sent with every request.
#[derive(Debug, Clone)]
pub enum PullAuth {
    None,
    Bearer(SecretString),
    Basic {
        user: String,
        password: SecretString,
    },
}

/// The incremental watermark: the largest `field` seen is sent as `param` by the next run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watermark {
    pub param: String,
    /// Path into each item, e.g. `updated_at`.
    pub field: String,
    /// Sent by the first run, when set.
    pub initial: Option<String>,
}

/// One source read from a JSON API on a schedule.
#[derive(Debug, Clone)]
pub struct PullSource {
    pub source: String,
    pub url: Url,
    pub every: Duration,
    pub auth: PullAuth,
    /// Where the items are in a page: `data[*]`; the default `[*]` reads a page that is an array.
    pub items: String,
    pub pagination: Pagination,
    pub watermark: Option<Watermark>,
    /// Timeout of one page's request.
    pub timeout: Duration,
    pub max_pages: u32,
}

const KEYS: &[&str] = &[
    "url",
    "every",
    "auth",
    "items",
    "pagination",
    "watermark",
    "timeout_secs",
    "max_pages",
];

pub(super) fn parse(
    declared: &Declared,
    table: &Table,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<PullSource, Problem> {
    check_keys(table, KEYS)?;
    let url = optional_str(table, "url")?.ok_or(Problem::Missing("url"))?;
    let url = Url::parse(url).map_err(|e| Problem::Invalid(format!("url {url:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Problem::Invalid("url must be http or https".into()));
    }
    let every = optional_str(table, "every")?.ok_or(Problem::Missing("every"))?;
    let every = humantime::parse_duration(every)
        .map_err(|e| Problem::Invalid(format!("every {every:?}: {e} (e.g. \"15m\", \"1h\")")))?;
    if every < Duration::from_secs(1) {
        return Err(Problem::Invalid("every must be at least 1s".into()));
    }
    let items = optional_str(table, "items")?.unwrap_or("[*]");
    crate::normalize::path::check(items, true)
        .map_err(|e| Problem::Invalid(format!("items: {e}")))?;
    let max_pages = match table.get("max_pages") {
        None => DEFAULT_MAX_PAGES,
        Some(Toml::Integer(n)) if (1..=1_000_000).contains(n) => *n as u32,
        Some(_) => return Err(Problem::Invalid("max_pages must be 1..=1000000".into())),
    };
    Ok(PullSource {
        source: declared.source.clone(),
        url,
        every,
        auth: auth(table, lookup)?,
        items: items.to_owned(),
        pagination: pagination(table)?,
        watermark: watermark(table)?,
        timeout: duration_secs(table, "timeout_secs")?.unwrap_or(Duration::from_secs(30)),
        max_pages,
    })
}

fn sub_table<'a>(table: &'a Table, key: &'static str) -> Result<Option<&'a Table>, Problem> {
    match table.get(key) {
        None => Ok(None),
        Some(Toml::Table(t)) => Ok(Some(t)),
        Some(_) => Err(Problem::Invalid(format!("\"{key}\" must be a table"))),
    }
}

fn auth(table: &Table, lookup: &dyn Fn(&str) -> Option<String>) -> Result<PullAuth, Problem> {
    let Some(auth) = sub_table(table, "auth")? else {
        return Ok(PullAuth::None);
    };
    check_keys(auth, &["bearer_env", "user_env", "password_env"])?;
    let var = |key: &'static str| -> Result<Option<String>, Problem> {
        match optional_str(auth, key)? {
            None => Ok(None),
            Some(name) => lookup(name)
                .map(Some)
                .ok_or_else(|| Problem::MissingVariable(name.to_owned())),
        }
    };
    match (var("bearer_env")?, var("user_env")?, var("password_env")?) {
        (Some(token), None, None) => Ok(PullAuth::Bearer(SecretString::from(token))),
        (None, Some(user), Some(password)) => Ok(PullAuth::Basic {
            user,
            password: SecretString::from(password),
        }),
        _ => Err(Problem::Invalid(
            "auth takes bearer_env, or user_env and password_env".into(),
        )),
    }
}

fn size(table: &Table) -> Result<Option<(String, u64)>, Problem> {
    match (optional_str(table, "size_param")?, table.get("size")) {
        (None, None) => Ok(None),
        (Some(param), Some(Toml::Integer(n))) if *n > 0 => Ok(Some((param.to_owned(), *n as u64))),
        _ => Err(Problem::Invalid(
            "pagination takes size_param and size (a positive integer) together".into(),
        )),
    }
}

fn pagination(table: &Table) -> Result<Pagination, Problem> {
    let Some(p) = sub_table(table, "pagination")? else {
        return Ok(Pagination::None);
    };
    let style = optional_str(p, "style")?.ok_or(Problem::Missing("pagination.style"))?;
    let param = |default: &str| -> Result<String, Problem> {
        Ok(optional_str(p, "param")?.unwrap_or(default).to_owned())
    };
    Ok(match style {
        "page" => {
            check_keys(p, &["style", "param", "start", "size_param", "size"])?;
            let start = match p.get("start") {
                None => 1,
                Some(Toml::Integer(n)) if *n >= 0 => *n as u64,
                Some(_) => return Err(Problem::Invalid("pagination.start must be >= 0".into())),
            };
            Pagination::Page {
                param: param("page")?,
                start,
                size: size(p)?,
            }
        }
        "offset" => {
            check_keys(p, &["style", "param", "size_param", "size"])?;
            Pagination::Offset {
                param: param("offset")?,
                size: size(p)?,
            }
        }
        "cursor" => {
            check_keys(p, &["style", "param", "next"])?;
            let next = optional_str(p, "next")?.ok_or(Problem::Missing("pagination.next"))?;
            crate::normalize::path::check(next, false)
                .map_err(|e| Problem::Invalid(format!("pagination.next: {e}")))?;
            Pagination::Cursor {
                param: param("cursor")?,
                next: next.to_owned(),
            }
        }
        "link" => {
            check_keys(p, &["style"])?;
            Pagination::Link
        }
        "none" => Pagination::None,
        other => {
            return Err(Problem::Invalid(format!(
                "pagination.style {other:?} is not one of page, offset, cursor, link, none"
            )));
        }
    })
}

fn watermark(table: &Table) -> Result<Option<Watermark>, Problem> {
    let Some(w) = sub_table(table, "watermark")? else {
        return Ok(None);
    };
    check_keys(w, &["param", "field", "initial"])?;
    let field = optional_str(w, "field")?.ok_or(Problem::Missing("watermark.field"))?;
    crate::normalize::path::check(field, false)
        .map_err(|e| Problem::Invalid(format!("watermark.field: {e}")))?;
    Ok(Some(Watermark {
        param: optional_str(w, "param")?
            .ok_or(Problem::Missing("watermark.param"))?
            .to_owned(),
        field: field.to_owned(),
        initial: optional_str(w, "initial")?.map(str::to_owned),
    }))
}

/// Settings of the pull scheduler (`PULL_*`).
#[derive(Debug, Clone)]
pub struct PullConfig {
    /// Run the pull scheduler in this process.
    pub enabled: bool,
    /// How long a running pull belongs to one process before another may take it over; renewed
    /// with every page.
    pub lease: Duration,
    /// How often the scheduler looks for a due pull or a run an operator asked for.
    pub tick: Duration,
    /// The pulls the mappings declare.
    pub sources: Vec<PullSource>,
}

impl PullConfig {
    pub fn get(&self, source: &str) -> Option<&PullSource> {
        self.sources.iter().find(|p| p.source == source)
    }
}
