//! API usage: the `Sforce-Limit-Info` header and the `/limits/` resource (§6.2).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The org's rolling-24 h API request usage, as last reported by Salesforce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiUsage {
    pub used: u64,
    pub max: u64,
    /// The connected app's own share, when the org sets per-app limits.
    pub per_app: Option<PerAppUsage>,
    /// When the response carrying this header was received.
    pub observed_at: DateTime<Utc>,
}

impl ApiUsage {
    /// Requests left in the rolling window (0 when over the soft cap).
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }
}

/// `per-app-api-usage=17/250(appName=sample-connected-app)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerAppUsage {
    pub used: u64,
    pub max: u64,
    pub app_name: Option<String>,
}

/// Parses `api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)`.
///
/// Returns `None` when there is no `api-usage` part (the header is absent on the Versions URI, §6.2).
/// Unknown parts are ignored so a new Salesforce addition can't break every call.
pub fn parse_limit_info(header: &str, observed_at: DateTime<Utc>) -> Option<ApiUsage> {
    let mut total = None;
    let mut per_app = None;
    for part in header.split(';') {
        let Some((key, value)) = part.trim().split_once('=') else {
            continue;
        };
        match key.trim() {
            "api-usage" => total = parse_ratio(value),
            "per-app-api-usage" => {
                let (ratio, app_name) = match value.split_once('(') {
                    Some((ratio, rest)) => {
                        let inner = rest.trim_end().trim_end_matches(')');
                        let name = inner.strip_prefix("appName=").map(str::to_owned);
                        (ratio, name)
                    }
                    None => (value, None),
                };
                per_app = parse_ratio(ratio).map(|(used, max)| PerAppUsage {
                    used,
                    max,
                    app_name,
                });
            }
            _ => {}
        }
    }
    let (used, max) = total?;
    Some(ApiUsage {
        used,
        max,
        per_app,
        observed_at,
    })
}

fn parse_ratio(s: &str) -> Option<(u64, u64)> {
    let (used, max) = s.trim().split_once('/')?;
    Some((used.trim().parse().ok()?, max.trim().parse().ok()?))
}

/// One entry of `/limits/`: `{"Max": 15000, "Remaining": 14200}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct OrgLimit {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

/// The `/limits/` answer keyed by limit name (`DailyApiRequests`, `DailyBulkApiBatches`, …).
///
/// Values are "accurate within five minutes" (§6.2), so prefer [`ApiUsage`] for pacing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgLimits {
    pub limits: BTreeMap<String, OrgLimit>,
}

impl OrgLimits {
    pub fn get(&self, name: &str) -> Option<OrgLimit> {
        self.limits.get(name).copied()
    }

    pub fn daily_api_requests(&self) -> Option<OrgLimit> {
        self.get("DailyApiRequests")
    }

    pub fn daily_bulk_api_batches(&self) -> Option<OrgLimit> {
        self.get("DailyBulkApiBatches")
    }

    /// Keeps every entry shaped `{Max, Remaining}`; nested sub-limits (e.g.
    /// `PermissionSets.CreateCustom`) are flattened to `Parent.Child`.
    pub(crate) fn from_json(body: &Value) -> Option<Self> {
        let mut limits = BTreeMap::new();
        for (name, value) in body.as_object()? {
            collect(name, value, &mut limits);
        }
        Some(Self { limits })
    }
}

fn collect(name: &str, value: &Value, out: &mut BTreeMap<String, OrgLimit>) {
    let Some(object) = value.as_object() else {
        return;
    };
    if let Ok(limit) = OrgLimit::deserialize(value) {
        out.insert(name.to_owned(), limit);
    }
    for (child, inner) in object {
        if inner.is_object() {
            collect(&format!("{name}.{child}"), inner, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn parses_total_usage() {
        let u = parse_limit_info("api-usage=10018/100000", now()).unwrap();
        assert_eq!((u.used, u.max, u.remaining()), (10018, 100000, 89982));
        assert_eq!(u.per_app, None);
        assert_eq!(u.observed_at, now());
    }

    #[test]
    fn parses_per_app_usage() {
        let u = parse_limit_info(
            "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)",
            now(),
        )
        .unwrap();
        assert_eq!((u.used, u.max), (25, 5000));
        let app = u.per_app.unwrap();
        assert_eq!((app.used, app.max), (17, 250));
        assert_eq!(app.app_name.as_deref(), Some("sample-connected-app"));
    }

    #[test]
    fn ignores_garbage_and_unknown_parts() {
        assert_eq!(parse_limit_info("", now()), None);
        assert_eq!(parse_limit_info("api-usage=abc/5", now()), None);
        assert_eq!(parse_limit_info("per-app-api-usage=1/2", now()), None);
        let u = parse_limit_info("something-new=1; api-usage=1/2", now()).unwrap();
        assert_eq!((u.used, u.max), (1, 2));
    }

    #[test]
    fn org_limits_keep_max_remaining_entries_and_nested_ones() {
        let body = serde_json::json!({
            "DailyApiRequests": {"Max": 5000, "Remaining": 4937},
            "PermissionSets": {"Max": 1500, "Remaining": 1499, "CreateCustom": {"Max": 1000, "Remaining": 999}},
            "Weird": 3
        });
        let limits = OrgLimits::from_json(&body).unwrap();
        assert_eq!(
            limits.daily_api_requests(),
            Some(OrgLimit {
                max: 5000,
                remaining: 4937
            })
        );
        assert_eq!(
            limits.get("PermissionSets.CreateCustom").unwrap().remaining,
            999
        );
        assert_eq!(limits.get("Weird"), None);
    }
}
