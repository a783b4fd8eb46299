//! Numbers and JSON text exactly as Go's `encoding/json` writes them.
//!
//! Jaeger is written in Go, and what its APIs print — and what its tag
//! search compares — is Go's text for a value. A Node client's tag `42`
//! arrives as the float64 `42.0`; Jaeger shows `42` and finds it with
//! `tag=42`, so Clew must print and compare the same text.
//!
//! Go's rule for a float64 (`encoding/json`'s float encoder, also used by
//! OpenTelemetry's `pcommon.Value.AsString`): the shortest decimal that
//! round-trips, in plain `%f` layout, except exponent form when the magnitude
//! is below `1e-6` or at least `1e21`; the exponent carries a sign and at
//! least one digit (`1e+21`, `1e-7`, `1.5e-10`). Negative zero prints `-0`.
//! `encoding/json` refuses NaN and ±Inf; [`GoFloat`] prints them as Go's
//! `strconv.FormatFloat(v, 'g', -1, 64)` does (`NaN`, `+Inf`, `-Inf`), which is
//! also the text OpenTelemetry's JSON writer quotes for them.

use std::fmt;

/// A float64 displayed as Go prints it (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GoFloat(pub f64);

impl GoFloat {
    /// True for values JSON can hold as a number (not NaN, not infinite).
    pub fn is_json_number(self) -> bool {
        self.0.is_finite()
    }
}

impl fmt::Display for GoFloat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            return f.write_str("NaN");
        }
        if v.is_infinite() {
            return f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        }
        let abs = v.abs();
        if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
            // Rust's shortest exponent form is `1e21` / `1.5e-7`; Go's adds
            // the sign of a positive exponent. Both use the fewest digits.
            let text = format!("{v:e}");
            return match text.split_once('e') {
                Some((mantissa, exp)) if !exp.starts_with('-') => {
                    write!(f, "{mantissa}e+{exp}")
                }
                _ => f.write_str(&text),
            };
        }
        // Rust's `Display` is the shortest round-trip digits without an
        // exponent, and keeps the sign of negative zero: Go's `'f', -1`.
        write!(f, "{v}")
    }
}

/// Appends `s` as a JSON string the way Go's `encoding/json` escapes it
/// (HTML-safe: `<`, `>`, `&` and U+2028/U+2029 become `\uXXXX`).
pub fn write_go_json_string(out: &mut String, s: &str) {
    use fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Standard base64 with padding (Go's `base64.StdEncoding`), the text Go
/// gives a byte slice in JSON and OpenTelemetry gives bytes in `AsString`.
pub fn write_base64(out: &mut String, bytes: &[u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(v: f64) -> String {
        GoFloat(v).to_string()
    }

    #[test]
    fn floats_print_as_go_encoding_json() {
        // Whole numbers lose the `.0` Rust's serde_json would add.
        assert_eq!(go(42.0), "42");
        assert_eq!(go(-3.0), "-3");
        assert_eq!(go(0.0), "0");
        assert_eq!(go(-0.0), "-0");
        assert_eq!(go(72.5), "72.5");
        assert_eq!(go(0.1), "0.1");
        assert_eq!(go(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(go(9007199254740993.0), "9007199254740992");
        // The plain range ends just below 1e21 and starts at 1e-6.
        assert_eq!(go(1e20), "100000000000000000000");
        assert_eq!(go(999999999999999900000.0), "999999999999999900000");
        assert_eq!(go(1e21), "1e+21");
        assert_eq!(go(-1.5e21), "-1.5e+21");
        assert_eq!(go(1.2345e300), "1.2345e+300");
        assert_eq!(go(f64::MAX), "1.7976931348623157e+308");
        assert_eq!(go(0.000001), "0.000001");
        assert_eq!(go(0.0000009), "9e-7");
        assert_eq!(go(1e-7), "1e-7");
        assert_eq!(go(-2.5e-9), "-2.5e-9");
        assert_eq!(go(1.5e-10), "1.5e-10");
        assert_eq!(go(5e-324), "5e-324");
        assert_eq!(go(f64::NAN), "NaN");
        assert_eq!(go(f64::INFINITY), "+Inf");
        assert_eq!(go(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn json_strings_escape_as_go() {
        let mut s = String::new();
        write_go_json_string(&mut s, "a\"b\\<&>\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\"b\\\u003c\u0026\u003e\n\u0001\u2028é""#);
    }

    #[test]
    fn base64_is_standard_with_padding() {
        let enc = |b: &[u8]| {
            let mut s = String::new();
            write_base64(&mut s, b);
            s
        };
        assert_eq!(enc(b""), "");
        assert_eq!(enc(b"f"), "Zg==");
        assert_eq!(enc(b"fo"), "Zm8=");
        assert_eq!(enc(b"foo"), "Zm9v");
        assert_eq!(enc(&[0, 0, 0x30, 0x39]), "AAAwOQ==");
        assert_eq!(enc(&[0xfb, 0xff]), "+/8=");
    }
}
