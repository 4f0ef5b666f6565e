//! The webhook receivers: a mapping file's `[webhook]` table says how its source signs its
//! events; the secrets come from the environment, never from the file (see `mappings/README.md`).

use std::collections::HashMap;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use toml::Table;

use super::sources::{Declared, Problem, duration_secs, optional_str, secrets_from};

/// Secrets shorter than this are refused: a short HMAC key can be guessed offline from one
/// signed event.
pub const MIN_SECRET_BYTES: usize = 16;
/// How old (or how far ahead) a signed timestamp may be, unless the source says otherwise:
/// Stripe's libraries use five minutes.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// How one source signs its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// `Stripe-Signature: t=…,v1=<hex>`, HMAC-SHA256 of `{t}.{body}`; the event's `id` and `type`.
    Stripe,
    /// `X-Hub-Signature-256: sha256=<hex>` of the body; `X-GitHub-Delivery`, `X-GitHub-Event`.
    GitHub,
    /// `X-Shopify-Hmac-Sha256: <base64>` of the body; `X-Shopify-Event-Id` (else
    /// `X-Shopify-Webhook-Id`), `X-Shopify-Topic`.
    Shopify,
    /// A sender's own HMAC scheme, described field by field.
    Hmac(HmacScheme),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// Where a value of the event is: a request header, or a path into the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locator {
    Header(String),
    Body(String),
}

/// One part of the signed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Id,
    Timestamp,
    Body,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacScheme {
    /// The header holding the signature(s), several separated by spaces or commas.
    pub header: String,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
    /// Text before each signature, e.g. `sha256=` or `v1,`.
    pub prefix: String,
    /// What is signed, e.g. `{timestamp}.{body}`.
    pub signed: Vec<Part>,
    pub id: Locator,
    pub event_type: Option<Locator>,
    /// The header holding the signed Unix time, when the scheme signs one.
    pub timestamp_header: Option<String>,
}

/// One source that receives signed webhooks.
#[derive(Debug, Clone)]
pub struct WebhookSource {
    pub source: String,
    pub scheme: Scheme,
    /// Every secret that may have signed an event: several during a rotation.
    pub secrets: Vec<SecretString>,
    /// How far a signed timestamp may be from now; `None` when the scheme signs none.
    pub tolerance: Option<Duration>,
}

impl WebhookSource {
    /// Whether events of this source say their type (`on` needs one).
    pub fn has_event_types(&self) -> bool {
        match &self.scheme {
            Scheme::Hmac(h) => h.event_type.is_some(),
            _ => true,
        }
    }
}

/// Every webhook source, by name.
#[derive(Debug, Clone, Default)]
pub struct Webhooks {
    sources: Vec<WebhookSource>,
}

impl Webhooks {
    pub fn new(sources: Vec<WebhookSource>) -> Self {
        Self { sources }
    }

    pub fn get(&self, source: &str) -> Option<&WebhookSource> {
        self.sources.iter().find(|s| s.source == source)
    }

    pub fn iter(&self) -> impl Iterator<Item = &WebhookSource> {
        self.sources.iter()
    }
}

const KEYS: &[&str] = &[
    "scheme",
    "secrets_env",
    "tolerance_secs",
    "header",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "id_header",
    "id_path",
    "type_header",
    "type_path",
    "timestamp_header",
];

/// Reads one `[webhook]` table; `extra` holds the source's secrets from `SLUICE_WEBHOOKS`.
pub(super) fn parse(
    declared: &Declared,
    table: &Table,
    lookup: &dyn Fn(&str) -> Option<String>,
    extra: Vec<String>,
) -> Result<WebhookSource, Problem> {
    super::sources::check_keys(table, KEYS)?;
    let scheme = match optional_str(table, "scheme")?.ok_or(Problem::Missing("scheme"))? {
        "stripe" => Scheme::Stripe,
        "github" => Scheme::GitHub,
        "shopify" => Scheme::Shopify,
        "hmac" => Scheme::Hmac(hmac_scheme(table)?),
        other => {
            return Err(Problem::Invalid(format!(
                "scheme {other:?} is not one of stripe, github, shopify, hmac"
            )));
        }
    };
    if !matches!(scheme, Scheme::Hmac(_)) {
        for key in KEYS.iter().skip(3) {
            if table.contains_key(*key) {
                return Err(Problem::Invalid(format!(
                    "\"{key}\" is for scheme = \"hmac\" only"
                )));
            }
        }
    }
    let signs_time = match &scheme {
        Scheme::Stripe => true,
        Scheme::Hmac(h) => h.timestamp_header.is_some(),
        Scheme::GitHub | Scheme::Shopify => false,
    };
    let tolerance = match duration_secs(table, "tolerance_secs")? {
        Some(_) if !signs_time => {
            return Err(Problem::Invalid(
                "\"tolerance_secs\" needs a scheme that signs a timestamp (stripe, or hmac with timestamp_header)".into(),
            ));
        }
        Some(t) => Some(t),
        None => signs_time.then_some(DEFAULT_TOLERANCE),
    };
    let mut secrets = extra;
    if let Some(var) = optional_str(table, "secrets_env")? {
        let value = lookup(var).ok_or_else(|| Problem::MissingVariable(var.to_owned()))?;
        secrets.extend(secrets_from(&value));
    }
    if secrets.is_empty() {
        return Err(Problem::Invalid(format!(
            "no secret: set the variable named by \"secrets_env\", or SLUICE_WEBHOOKS={{\"{}\": [\"...\"]}}",
            declared.source
        )));
    }
    if let Some(short) = secrets.iter().find(|s| s.len() < MIN_SECRET_BYTES) {
        return Err(Problem::Invalid(format!(
            "a secret of {} bytes is too short (at least {MIN_SECRET_BYTES})",
            short.len()
        )));
    }
    Ok(WebhookSource {
        source: declared.source.clone(),
        scheme,
        secrets: secrets.into_iter().map(SecretString::from).collect(),
        tolerance,
    })
}

fn hmac_scheme(table: &Table) -> Result<HmacScheme, Problem> {
    let locator = |header: &'static str, path: &'static str| -> Result<Option<Locator>, Problem> {
        match (optional_str(table, header)?, optional_str(table, path)?) {
            (Some(h), None) => Ok(Some(Locator::Header(h.to_owned()))),
            (None, Some(p)) => Ok(Some(Locator::Body(p.to_owned()))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(Problem::Invalid(format!(
                "give \"{header}\" or \"{path}\", not both"
            ))),
        }
    };
    let id = locator("id_header", "id_path")?.ok_or(Problem::Missing("id_header or id_path"))?;
    let timestamp_header = optional_str(table, "timestamp_header")?.map(str::to_owned);
    let default_signed = match timestamp_header {
        Some(_) => "{timestamp}.{body}",
        None => "{body}",
    };
    let signed = template(optional_str(table, "signed")?.unwrap_or(default_signed))?;
    if signed.contains(&Part::Timestamp) != timestamp_header.is_some() {
        return Err(Problem::Invalid(
            "\"signed\" has {timestamp} exactly when \"timestamp_header\" is set".into(),
        ));
    }
    if signed.contains(&Part::Id) && !matches!(id, Locator::Header(_)) {
        return Err(Problem::Invalid(
            "{id} in \"signed\" needs \"id_header\"".into(),
        ));
    }
    let header = optional_str(table, "header")?.unwrap_or("X-Signature");
    axum::http::HeaderName::try_from(header)
        .map_err(|_| Problem::Invalid(format!("header {header:?} is not a header name")))?;
    Ok(HmacScheme {
        header: header.to_owned(),
        algorithm: match optional_str(table, "algorithm")?.unwrap_or("sha256") {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => {
                return Err(Problem::Invalid(format!(
                    "algorithm {other:?} is not sha256 or sha512"
                )));
            }
        },
        encoding: match optional_str(table, "encoding")?.unwrap_or("hex") {
            "hex" => Encoding::Hex,
            "base64" => Encoding::Base64,
            other => {
                return Err(Problem::Invalid(format!(
                    "encoding {other:?} is not hex or base64"
                )));
            }
        },
        prefix: optional_str(table, "prefix")?.unwrap_or("").to_owned(),
        signed,
        id,
        event_type: locator("type_header", "type_path")?,
        timestamp_header,
    })
}

/// `{timestamp}.{body}` → [Timestamp, Literal("."), Body]; `{body}` must appear once.
fn template(text: &str) -> Result<Vec<Part>, Problem> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(open) = rest.find('{') else {
            parts.push(Part::Literal(rest.to_owned()));
            break;
        };
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| Problem::Invalid(format!("\"signed\" {text:?} has a {{ without }}")))?;
        parts.push(match &rest[open + 1..open + close] {
            "id" => Part::Id,
            "timestamp" => Part::Timestamp,
            "body" => Part::Body,
            other => {
                return Err(Problem::Invalid(format!(
                    "\"signed\" knows {{id}}, {{timestamp}} and {{body}}, not {{{other}}}"
                )));
            }
        });
        rest = &rest[open + close + 1..];
    }
    if parts.iter().filter(|p| **p == Part::Body).count() != 1 {
        return Err(Problem::Invalid("\"signed\" must hold {body} once".into()));
    }
    Ok(parts)
}

/// `SLUICE_WEBHOOKS`: `{"source": ["secret", "older secret"], "other": "secret"}`.
pub(super) fn secrets_json(text: &str) -> Result<HashMap<String, Vec<String>>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("expected an object of source names to secrets".into());
    };
    let mut out = HashMap::new();
    for (source, secrets) in map {
        let list = match secrets {
            serde_json::Value::String(s) => vec![s],
            serde_json::Value::Array(items) => items
                .into_iter()
                .map(|s| match s {
                    serde_json::Value::String(s) => Ok(s),
                    _ => Err(format!("{source}: every secret is a string")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(format!("{source}: expected a secret or a list of secrets")),
        };
        out.insert(source, list);
    }
    Ok(out)
}

/// The secrets as bytes, for the HMAC keys.
pub fn secret_bytes(secret: &SecretString) -> &[u8] {
    secret.expose_secret().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_name_their_parts() {
        assert_eq!(
            template("{id}.{timestamp}.{body}").unwrap(),
            [
                Part::Id,
                Part::Literal(".".into()),
                Part::Timestamp,
                Part::Literal(".".into()),
                Part::Body
            ]
        );
        assert!(template("{timestamp}").is_err());
        assert!(template("{body}{nonce}").is_err());
    }

    #[test]
    fn sluice_webhooks_takes_one_secret_or_a_list() {
        let secrets = secrets_json(r#"{"a": "s1", "b": ["s2", "s3"]}"#).unwrap();
        assert_eq!(secrets["a"], ["s1"]);
        assert_eq!(secrets["b"], ["s2", "s3"]);
        assert!(secrets_json(r#"{"a": 1}"#).is_err());
        assert!(secrets_json("[]").is_err());
    }
}
