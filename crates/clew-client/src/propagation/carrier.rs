//! What propagators read from and write to.

use std::collections::{BTreeMap, HashMap};

/// A carrier that can be written to (outgoing request headers, a text map).
pub trait Injector {
    /// Sets a field, replacing an existing one.
    fn set(&mut self, key: &str, value: String);
}

/// A carrier that can be read (incoming request headers, a text map).
/// Lookups are case-insensitive, as HTTP header names are.
pub trait Extractor {
    /// A field's value.
    fn get(&self, key: &str) -> Option<&str>;
    /// Calls `f` with every field (used to find prefixed baggage headers).
    fn for_each(&self, f: &mut dyn FnMut(&str, &str));
}

fn insensitive<'a, I>(mut it: I, key: &str) -> Option<&'a str>
where
    I: Iterator<Item = (&'a String, &'a String)>,
{
    it.find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

impl<S: std::hash::BuildHasher> Injector for HashMap<String, String, S> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl<S: std::hash::BuildHasher> Extractor for HashMap<String, String, S> {
    fn get(&self, key: &str) -> Option<&str> {
        match HashMap::get(self, key) {
            Some(v) => Some(v),
            None => insensitive(self.iter(), key),
        }
    }
    fn for_each(&self, f: &mut dyn FnMut(&str, &str)) {
        self.iter().for_each(|(k, v)| f(k, v));
    }
}

impl Injector for BTreeMap<String, String> {
    fn set(&mut self, key: &str, value: String) {
        self.insert(key.to_owned(), value);
    }
}

impl Extractor for BTreeMap<String, String> {
    fn get(&self, key: &str) -> Option<&str> {
        match BTreeMap::get(self, key) {
            Some(v) => Some(v),
            None => insensitive(self.iter(), key),
        }
    }
    fn for_each(&self, f: &mut dyn FnMut(&str, &str)) {
        self.iter().for_each(|(k, v)| f(k, v));
    }
}

impl Injector for http::HeaderMap {
    fn set(&mut self, key: &str, value: String) {
        let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) else {
            log::debug!("clew: cannot inject header {key:?}: invalid name or value");
            return;
        };
        self.insert(name, value);
    }
}

/// A header value as text. Any UTF-8 is returned, not only the visible
/// ASCII that `HeaderValue::to_str` accepts: a `HashMap` carrier holds
/// such values too, and the two must read the same context (a baggage
/// header with one non-ASCII member keeps its valid members, as the
/// parsers decide member by member). Values that are not UTF-8 at all
/// cannot be in a `String` map either and are skipped.
fn header_text(v: &http::HeaderValue) -> Option<&str> {
    std::str::from_utf8(v.as_bytes()).ok()
}

impl Extractor for http::HeaderMap {
    fn get(&self, key: &str) -> Option<&str> {
        http::HeaderMap::get(self, key).and_then(header_text)
    }
    fn for_each(&self, f: &mut dyn FnMut(&str, &str)) {
        for (k, v) in self {
            if let Some(v) = header_text(v) {
                f(k.as_str(), v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_ignores_case() {
        let mut m = HashMap::new();
        m.insert("Uber-Trace-Id".to_string(), "x".to_string());
        assert_eq!(Extractor::get(&m, "uber-trace-id"), Some("x"));
        let mut h = http::HeaderMap::new();
        Injector::set(&mut h, "X-B3-TraceId", "abc".into());
        assert_eq!(Extractor::get(&h, "x-b3-traceid"), Some("abc"));
        Injector::set(&mut h, "bad header", "v".into());
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn header_map_returns_utf8_values_like_string_maps() {
        let mut h = http::HeaderMap::new();
        Injector::set(&mut h, "baggage", "a=1,b=caf\u{e9}".into());
        assert_eq!(Extractor::get(&h, "baggage"), Some("a=1,b=caf\u{e9}"));
        h.insert(
            "x-latin1",
            http::HeaderValue::from_bytes(b"caf\xe9").expect("obs-text is allowed"),
        );
        assert_eq!(Extractor::get(&h, "x-latin1"), None);
        let mut seen = Vec::new();
        Extractor::for_each(&h, &mut |k, v| seen.push(format!("{k}={v}")));
        assert_eq!(seen, ["baggage=a=1,b=caf\u{e9}"]);
    }
}
