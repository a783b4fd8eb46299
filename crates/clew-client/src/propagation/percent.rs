//! Percent-encoding for header values (baggage), as URL query escaping does.

/// Escapes everything but unreserved characters (`A-Za-z0-9-_.~`).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` (and `+` as space when `plus` is set). Invalid escapes and
/// non-UTF-8 results give `None`.
pub(crate) fn decode(s: &str, plus: bool) -> Option<String> {
    if !(s.contains('%') || plus && s.contains('+')) {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = hex_val(*bytes.get(i + 1)?)?;
                let lo = hex_val(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Like [`decode`], but never fails, as URL decoders in the OpenTelemetry
/// SDKs do (Python's `unquote_plus`): an invalid escape is kept as written
/// and bytes that are not UTF-8 become U+FFFD.
pub(crate) fn decode_lossy(s: &str, plus: bool) -> String {
    if let Some(d) = decode(s, plus) {
        return d;
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = (bytes[i] == b'%')
            .then(|| Some(hex_val(*bytes.get(i + 1)?)? << 4 | hex_val(*bytes.get(i + 2)?)?))
            .flatten();
        match (escape, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
            }
            (None, b'+') if plus => {
                out.push(b' ');
                i += 1;
            }
            (None, b) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_forms() {
        assert_eq!(encode("a b,c=d"), "a%20b%2Cc%3Dd");
        assert_eq!(decode("a%20b+c", true).as_deref(), Some("a b c"));
        assert_eq!(decode("a+c", false).as_deref(), Some("a+c"));
        assert_eq!(decode("%zz", false), None);
        assert_eq!(decode("%4", false), None);
        assert_eq!(decode("%ff", false), None);
        assert_eq!(decode_lossy("a%zz+b%4", true), "a%zz b%4");
        assert_eq!(decode_lossy("%ff%41", false), "\u{fffd}A");
    }

    proptest! {
        #[test]
        fn round_trips(s in ".*") {
            prop_assert_eq!(decode(&encode(&s), false), Some(s));
        }
    }
}
