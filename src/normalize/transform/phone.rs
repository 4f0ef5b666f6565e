//! Phone numbers to E.164 (`+33123456789`), using libphonenumber's metadata through the
//! `phonenumber` crate: it knows every region's trunk prefix ("0" in FR/GB/DE/ES/BE/CH/NL, kept
//! in IT, "1" in NANP) and valid lengths, which a hand-written table would get wrong.

use phonenumber::{Mode, country};
use serde_json::Value;

use super::text::as_text;
use crate::normalize::error::TransformError;

/// Parses an ISO 3166 alpha-2 region, e.g. "FR", for numbers written without "+" or "00".
pub(crate) fn region(code: &str) -> Option<country::Id> {
    code.trim().to_ascii_uppercase().parse().ok()
}

/// A number in national form is read as `default_region`'s; "+…" and "00…" forms are international.
/// Letters are refused unless `vanity`: libphonenumber reads them as keypad digits, so a typo
/// ("02 29 50 33 l5", an l for a 1) would otherwise become a wrong number without a word.
pub fn phone(v: Value, default_region: country::Id, vanity: bool) -> Result<Value, TransformError> {
    let raw = as_text(&v)?;
    if !vanity {
        let letters: String = raw.chars().filter(|c| c.is_alphabetic()).take(8).collect();
        if !letters.is_empty() {
            return Err(TransformError::PhoneLetters {
                value: raw,
                letters,
            });
        }
    }
    // "00" is the international prefix in every region we default to; the crate only knows the
    // default region's own prefix, so make it explicit ("0044 …" dialled from the US is "011 44").
    let mut cleaned = match raw.trim().strip_prefix("00") {
        Some(rest) => format!("+{rest}"),
        None => raw.trim().to_owned(),
    };
    // "+33 (0)1 …" shows the trunk prefix a caller inside the country would dial; it is not
    // part of the international number.
    if cleaned.starts_with('+') {
        cleaned = cleaned.replacen("(0)", "", 1);
    }
    // An international number needs no region, and giving one is harmful: phonenumber 0.3.10
    // strips the region's trunk prefix from it ("+33 1 23…" read with US gives "+3323…").
    let region = (!cleaned.starts_with('+')).then_some(default_region);
    let number =
        phonenumber::parse(region, &cleaned).map_err(|e| TransformError::PhoneUnparsable {
            value: raw.clone(),
            reason: e.to_string(),
        })?;
    if !phonenumber::is_valid(&number) {
        return Err(TransformError::PhoneInvalid {
            value: raw,
            country: default_region.as_ref().to_owned(),
        });
    }
    Ok(Value::String(number.format().mode(Mode::E164).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn e164(raw: &str, region_code: &str) -> Result<Value, TransformError> {
        phone(json!(raw), region(region_code).unwrap(), false)
    }

    #[test]
    fn national_numbers_drop_their_trunk_prefix() {
        let cases = [
            ("01 23 45 67 89", "FR", "+33123456789"),
            ("06.12.34.56.78", "FR", "+33612345678"),
            ("(415) 555-2671", "US", "+14155552671"),
            ("1-416-555-0199", "CA", "+14165550199"),
            ("020 7946 0018", "GB", "+442079460018"),
            ("030 123456", "DE", "+4930123456"),
            ("912 345 678", "ES", "+34912345678"),
            // Italy keeps its leading 0 in international form.
            ("06 1234 5678", "IT", "+390612345678"),
            ("02 555 12 12", "BE", "+3225551212"),
            ("044 668 18 00", "CH", "+41446681800"),
            ("020 123 4567", "NL", "+31201234567"),
        ];
        for (raw, region_code, want) in cases {
            assert_eq!(
                e164(raw, region_code).unwrap(),
                json!(want),
                "{raw} in {region_code}"
            );
        }
    }

    #[test]
    fn international_forms_ignore_the_default_region() {
        assert_eq!(
            e164("+44 20 7946 0018", "FR").unwrap(),
            json!("+442079460018")
        );
        assert_eq!(
            e164("0044 20 7946 0018", "FR").unwrap(),
            json!("+442079460018")
        );
        assert_eq!(
            e164("+33 (0)1 23 45 67 89", "US").unwrap(),
            json!("+33123456789")
        );
        assert_eq!(
            e164("+33 1 23 45 67 89", "CA").unwrap(),
            json!("+33123456789")
        );
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(
            e164("01 23", "FR").unwrap_err().to_string(),
            "\"01 23\" is not a valid FR or international (+…) phone number"
        );
    }

    #[test]
    fn letters_are_refused_unless_the_mapping_reads_vanity_numbers() {
        assert_eq!(
            e164("02 29 50 33 l5", "FR").unwrap_err().to_string(),
            "\"02 29 50 33 l5\" has letters (l): a phone number is written in digits \
             (set vanity = true to read keypad letters)"
        );
        assert!(e164("appeler le standard", "FR").is_err());
        assert_eq!(
            phone(json!("1-800-FLOWERS"), region("US").unwrap(), true).unwrap(),
            json!("+18003569377")
        );
    }
}
