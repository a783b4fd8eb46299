//! Go's number and duration syntax, with Go's error wording.
//!
//! The Jaeger query service is written in Go and its 400 messages embed Go
//! parser errors (`strconv.ParseInt: parsing "x": invalid syntax`,
//! `time: unknown unit "x" in duration "5x"`). Tools and people match on
//! those texts, so Clew parses the same syntax and words failures the same.

/// Go's `strconv.Quote` for the inputs we quote (Rust's debug escaping is
/// the same for printable text).
fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// `strconv.ParseInt(s, 10, bits)`: optional sign, decimal digits only.
pub fn parse_int(s: &str, bits: u32) -> Result<i64, String> {
    let fail = |why: &str| format!("strconv.ParseInt: parsing {}: {why}", quote(s));
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(fail("invalid syntax"));
    }
    let v: i128 = match s.parse::<i128>() {
        Ok(v) => v,
        Err(_) => return Err(fail("value out of range")),
    };
    let max = (1i128 << (bits - 1)) - 1;
    if v > max || v < -max - 1 {
        return Err(fail("value out of range"));
    }
    Ok(v as i64)
}

/// Nanoseconds per unit, as Go's `time.ParseDuration` knows them.
fn unit_ns(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

/// `time.ParseDuration`: a signed sequence of decimal numbers, each with an
/// optional fraction and a unit (`1.5h`, `1h30m`, `500us`, `-2s`). Returns
/// nanoseconds.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let (neg, mut s) = match orig.as_bytes().first() {
        Some(b'-') => (true, &orig[1..]),
        Some(b'+') => (false, &orig[1..]),
        _ => (false, orig),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let limit: u128 = 1 << 63;
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut whole: u128 = 0;
        for c in &b[..int_len] {
            whole = whole * 10 + u128::from(c - b'0');
            if whole > limit {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut frac_len) = (0u128, 1f64, 0usize);
        if s.as_bytes().first() == Some(&b'.') {
            s = &s[1..];
            frac_len = s.bytes().take_while(|c| c.is_ascii_digit()).count();
            for c in s[..frac_len].bytes() {
                // Like Go, ignore digits beyond what the accumulator holds.
                if frac < (1 << 62) {
                    frac = frac * 10 + u128::from(c - b'0');
                    scale *= 10.0;
                }
            }
            s = &s[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .bytes()
            .take_while(|c| !(*c == b'.' || c.is_ascii_digit()))
            .count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let unit_text = &s[..unit_len];
        s = &s[unit_len..];
        let Some(unit) = unit_ns(unit_text) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                quote(unit_text),
                quote(orig)
            ));
        };
        let mut v = whole.checked_mul(unit).ok_or_else(invalid)?;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u128;
        }
        total += v;
        if total > limit {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((-(total as i128)) as i64);
    }
    if total > limit - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("1.2ms"), Ok(1_200_000));
        assert_eq!(parse_duration("500us"), Ok(500_000));
        assert_eq!(parse_duration("500µs"), Ok(500_000));
        assert_eq!(parse_duration("500μs"), Ok(500_000));
        assert_eq!(parse_duration("4500ns"), Ok(4_500));
        assert_eq!(parse_duration("2s"), Ok(2_000_000_000));
        assert_eq!(parse_duration("1m"), Ok(60_000_000_000));
        assert_eq!(parse_duration("1h"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_duration("1.s"), Ok(1_000_000_000));
        assert_eq!(parse_duration("-1.5s"), Ok(-1_500_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
    }

    #[test]
    fn duration_errors_are_worded_like_go() {
        assert_eq!(
            parse_duration("abc"),
            Err(r#"time: invalid duration "abc""#.into())
        );
        assert_eq!(
            parse_duration(""),
            Err(r#"time: invalid duration """#.into())
        );
        assert_eq!(
            parse_duration("."),
            Err(r#"time: invalid duration ".""#.into())
        );
        assert_eq!(
            parse_duration("5"),
            Err(r#"time: missing unit in duration "5""#.into())
        );
        assert_eq!(
            parse_duration("5x"),
            Err(r#"time: unknown unit "x" in duration "5x""#.into())
        );
        assert_eq!(
            parse_duration("9999999999999h"),
            Err(r#"time: invalid duration "9999999999999h""#.into())
        );
    }

    #[test]
    fn ints_parse_like_go() {
        assert_eq!(parse_int("42", 64), Ok(42));
        assert_eq!(parse_int("-7", 64), Ok(-7));
        assert_eq!(parse_int("+7", 64), Ok(7));
        assert_eq!(
            parse_int("abc", 64),
            Err(r#"strconv.ParseInt: parsing "abc": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("1.5", 64),
            Err(r#"strconv.ParseInt: parsing "1.5": invalid syntax"#.into())
        );
        assert_eq!(
            parse_int("3000000000", 32),
            Err(r#"strconv.ParseInt: parsing "3000000000": value out of range"#.into())
        );
        assert_eq!(
            parse_int("99999999999999999999", 64),
            Err(r#"strconv.ParseInt: parsing "99999999999999999999": value out of range"#.into())
        );
    }
}
