//! SOQL refusals in Salesforce's shape: 400, an error code, and a message that echoes the query
//! line with a caret under the offending column, e.g.
//! `"\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'"`
//! ([OBS] messages quoted in Salesforce Stack Exchange questions; the codes are documented:
//! <https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm>,
//! "If the SOQL query string is invalid, a MALFORMED_QUERY response is returned").

use axum::http::StatusCode;

use crate::sim::error::ApiError;

/// Appended where the simulator refuses SOQL that Salesforce accepts, so nobody mistakes the
/// simulator's limit for Salesforce's.
pub const OUTSIDE_SUBSET: &str = " (outside the simulator's SOQL subset)";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SoqlError {
    pub code: &'static str,
    pub message: String,
}

impl SoqlError {
    /// An error located at byte offset `at` of `query`.
    pub fn at(code: &'static str, query: &str, at: usize, text: impl AsRef<str>) -> Self {
        let (row, col, line) = locate(query, at);
        let caret = " ".repeat(col.saturating_sub(1));
        Self {
            code,
            message: format!(
                "\n{line}\n{caret}^\nERROR at Row:{row}:Column:{col}\n{}",
                text.as_ref()
            ),
        }
    }

    pub fn malformed(query: &str, at: usize, text: impl AsRef<str>) -> Self {
        Self::at("MALFORMED_QUERY", query, at, text)
    }

    /// The parser met a token it doesn't expect there.
    pub fn unexpected(query: &str, at: usize, token: &str) -> Self {
        Self::malformed(query, at, format!("unexpected token: '{token}'"))
    }

    /// Valid SOQL the simulator doesn't implement.
    pub fn unsupported(query: &str, at: usize, token: &str) -> Self {
        Self::malformed(
            query,
            at,
            format!("unexpected token: '{token}'{OUTSIDE_SUBSET}"),
        )
    }
}

impl From<SoqlError> for ApiError {
    fn from(e: SoqlError) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, e.code, e.message)
    }
}

/// `(row, column, line text)`, 1-based, of byte offset `at`.
fn locate(query: &str, at: usize) -> (usize, usize, &str) {
    let at = at.min(query.len());
    let before = &query[..at];
    let row = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_end = query[line_start..]
        .find('\n')
        .map_or(query.len(), |i| line_start + i);
    let col = query[line_start..at].chars().count() + 1;
    (row, col, &query[line_start..line_end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_point_at_the_column() {
        let q = "SELECT Id FROM Account WHERE";
        let e = SoqlError::unexpected(q, q.len(), "<EOF>");
        assert_eq!(e.code, "MALFORMED_QUERY");
        assert_eq!(
            e.message,
            format!(
                "\n{q}\n{}^\nERROR at Row:1:Column:29\nunexpected token: '<EOF>'",
                " ".repeat(28)
            )
        );
        let e = SoqlError::malformed("SELECT Id\nFROM X", 15, "x");
        assert!(
            e.message.contains("ERROR at Row:2:Column:6"),
            "{}",
            e.message
        );
    }
}
