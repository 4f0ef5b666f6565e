//! Salesforce record Ids: 15 case-sensitive characters, or 18 with a case-insensitive checksum.

use std::fmt;

const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A record Id in its 18-character form, the one the REST API returns and the hub stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct SalesforceId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSalesforceId {
    #[error("a Salesforce Id is 15 or 18 letters and digits")]
    Shape,
    #[error("the last 3 characters are not the checksum of the first 15")]
    Checksum,
}

impl SalesforceId {
    /// Accepts the 15-character form Apex and the UI show, and the 18-character API form whose
    /// suffix may be in any case ("Object Reference: ID Field Type", Salesforce Object Reference).
    pub fn parse(raw: &str) -> Result<Self, InvalidSalesforceId> {
        if !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(InvalidSalesforceId::Shape);
        }
        match raw.len() {
            15 => Ok(Self(with_checksum(raw))),
            18 => {
                let canonical = with_checksum(&raw[..15]);
                match canonical[15..].eq_ignore_ascii_case(&raw[15..]) {
                    true => Ok(Self(canonical)),
                    false => Err(InvalidSalesforceId::Checksum),
                }
            }
            _ => Err(InvalidSalesforceId::Shape),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One suffix character per 5-character chunk: bit i set when the chunk's i-th character is an
/// upper-case letter.
fn with_checksum(id15: &str) -> String {
    let mut out = String::with_capacity(18);
    out.push_str(id15);
    for chunk in id15.as_bytes().chunks(5) {
        let bits = chunk
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        out.push(char::from(SUFFIX[bits]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_get_their_checksum_and_long_ones_keep_it_in_upper_case() {
        for (short, long) in [
            ("00558000001N0Ke", "00558000001N0KeAAK"),
            ("001550V000WOQZi", "001550V000WOQZiACP"),
            ("a0BA0000000L2ZC", "a0BA0000000L2ZCMA0"),
        ] {
            assert_eq!(SalesforceId::parse(short).unwrap().as_str(), long);
            assert_eq!(SalesforceId::parse(long).unwrap().as_str(), long);
            let lower = format!("{}{}", &long[..15], long[15..].to_lowercase());
            assert_eq!(SalesforceId::parse(&lower).unwrap().as_str(), long);
        }
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert_eq!(
            SalesforceId::parse("001RM000003oLrB000"),
            Err(InvalidSalesforceId::Checksum)
        );
        for bad in ["", "001", "0035g00000AbCdE-", "0035g00000AbCdEFGHIJ"] {
            assert_eq!(SalesforceId::parse(bad), Err(InvalidSalesforceId::Shape));
        }
    }
}
