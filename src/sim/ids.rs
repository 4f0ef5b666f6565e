//! Salesforce record ids: 15-char case-sensitive base-62 plus a 3-char case-insensitive checksum (docs/salesforce.md §8).

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Appends the checksum to a 15-char id (docs/salesforce.md §8: one bit per upper-case letter, per 5-char chunk).
pub fn to_18(id15: &str) -> String {
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

/// Builds the `n`-th id of an object: prefix, a fixed pod marker, then a zero-padded base-62 counter,
/// so ids sort in creation order.
pub fn generate(prefix: &str, n: u64) -> String {
    let mut digits = [b'0'; 10];
    let mut rest = n;
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(rest % 62) as usize];
        rest /= 62;
    }
    let body = std::str::from_utf8(&digits).unwrap_or("0000000000");
    to_18(&format!("{prefix}5g{body}"))
}

/// Parses a 15- or 18-char id into its canonical 18-char form; `None` when malformed (docs/salesforce.md §8:
/// "An ID must be either 15 characters, or 18 characters with a valid case-insensitive extension").
pub fn normalize(raw: &str) -> Option<String> {
    if !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    match raw.len() {
        15 => Some(to_18(raw)),
        18 => {
            let canonical = to_18(&raw[..15]);
            canonical[15..]
                .eq_ignore_ascii_case(&raw[15..])
                .then_some(canonical)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_the_documented_vectors() {
        for (short, long) in [
            ("70130000001tcyI", "70130000001tcyIAAQ"),
            ("00558000001N0Ke", "00558000001N0KeAAK"),
            ("001550V000WOQZi", "001550V000WOQZiACP"),
            ("a0BA0000000L2ZC", "a0BA0000000L2ZCMA0"),
            ("AAaAAbbBBBCcCCC", "AAaAAbbBBBCcCCC123"),
            ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
        ] {
            assert_eq!(to_18(short), long);
            assert_eq!(normalize(short).as_deref(), Some(long));
            let mut lower_suffix = long[..15].to_string();
            lower_suffix.push_str(&long[15..].to_lowercase());
            assert_eq!(normalize(&lower_suffix).as_deref(), Some(long));
        }
    }

    #[test]
    fn rejects_malformed_ids() {
        assert_eq!(normalize("001RM000003oLrB000"), None);
        assert_eq!(normalize("001-"), None);
        assert_eq!(normalize("0015g0000000001"), Some(to_18("0015g0000000001")));
    }

    #[test]
    fn generated_ids_are_valid_and_ordered() {
        let a = generate("001", 1);
        let b = generate("001", 62);
        assert_eq!(a.len(), 18);
        assert!(a < b);
        assert_eq!(normalize(&a), Some(a.clone()));
    }
}
