//! Figures as people read them, on the status page and in `sluice status`.

/// Thousands separated by commas, so budgets read at a glance.
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A duration in seconds as a person says it: `40 s`, `3 min`, `2 h 5 min`.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_naturally() {
        assert_eq!(number(15000), "15,000");
        assert_eq!(number(999), "999");
        assert_eq!(number(-1234567), "-1,234,567");
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(185.0), "3 min");
        assert_eq!(duration(7500.0), "2 h 5 min");
    }
}
