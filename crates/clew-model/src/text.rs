//! [`Str`]: the model's immutable string — short strings inline, longer
//! ones as a view into shared [`Bytes`].
//!
//! Decoders used to hand out every string as a slice of the request body
//! (`bytestring::ByteString`). Each slice is a reference-count increment on
//! the body when made and a decrement when dropped, and stores copying
//! spans make and drop a second slice per string: in the HTTP ingest
//! benchmark those atomic operations (`promotable_even_clone`,
//! `shared_drop`, `slice_ref`) took a fifth of server CPU. Most span
//! strings are short (tag keys such as `http.method`, values such as `GET`
//! or `200`), so a string of at most [`INLINE_MAX`] bytes is copied into
//! the `Str` itself: no reference count, no pinned request body, no
//! allocation, and the type stays 32 bytes, like `Bytes`. Longer strings
//! stay zero-copy views.

// Inline strings are bytes checked as UTF-8 once, when built; reading them
// back as `&str` without checking again is the one unsafe operation here.
#![allow(unsafe_code)]

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::str::Utf8Error;

use bytes::Bytes;
use bytestring::ByteString;

/// The longest string kept inline (the type is then as small as `Bytes`).
pub const INLINE_MAX: usize = 23;

/// An immutable UTF-8 string; cheap to clone.
#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    /// `[len, text…]`: `bytes[1..=len]` is valid UTF-8 (checked by every
    /// constructor). One 24-byte array, not a length and a 23-byte one:
    /// the odd-sized array was copied by overlapping moves through a stack
    /// temporary, and the load after them stalled (store forwarding) on
    /// every clone — a tenth of a search's CPU, where a page decode hands
    /// out the same strings again and again.
    Inline([u8; INLINE_MAX + 1]),
    Shared(ByteString),
}

impl Str {
    /// The empty string.
    pub const fn new() -> Str {
        Str(Repr::Inline([0; INLINE_MAX + 1]))
    }

    /// A string of static text (never copied).
    pub const fn from_static(s: &'static str) -> Str {
        Str(Repr::Shared(ByteString::from_static(s)))
    }

    /// `s` copied inline when short enough.
    fn inline(s: &str) -> Option<Str> {
        let len = u8::try_from(s.len())
            .ok()
            .filter(|&l| usize::from(l) <= INLINE_MAX)?;
        let mut bytes = [0; INLINE_MAX + 1];
        bytes[0] = len;
        bytes[1..=s.len()].copy_from_slice(s.as_bytes());
        Some(Str(Repr::Inline(bytes)))
    }

    /// The text of `part`, a sub-slice of `buf`, checked as UTF-8: short
    /// strings are copied inline straight from `part`, longer ones share
    /// `buf`'s memory.
    ///
    /// Decoders call this for every string of a request. Going through
    /// `buf.slice_ref(part)` first and inlining afterwards took a reference
    /// on the body and dropped it again for each short string: two atomic
    /// operations per tag key and value, 12 % of ingest CPU in a profile.
    /// A `part` outside `buf` is copied (inline or into its own buffer).
    #[inline]
    pub fn from_part_of(buf: &Bytes, part: &[u8]) -> Result<Str, Utf8Error> {
        let s = std::str::from_utf8(part)?;
        if let Some(inline) = Str::inline(s) {
            return Ok(inline);
        }
        let shared = share_or_copy(buf, part);
        // SAFETY: `part` (the same bytes) was checked as UTF-8 above.
        Ok(Str(Repr::Shared(unsafe {
            ByteString::from_bytes_unchecked(shared)
        })))
    }

    /// Whether the string lives in a shared buffer (a request body, a
    /// store's compact copy) rather than in the `Str` itself; stores that
    /// copy spans out of request bodies only need to copy these.
    pub fn is_shared(&self) -> bool {
        matches!(&self.0, Repr::Shared(s) if !s.is_empty())
    }

    /// The bytes, shared when the string is (inline strings are copied).
    pub fn into_bytes(self) -> Bytes {
        match self.0 {
            Repr::Inline(bytes) => Bytes::copy_from_slice(inline_text(&bytes)),
            Repr::Shared(s) => s.into_bytes(),
        }
    }

    /// A view of `subset`, which must be a slice of this string's text
    /// (as `Bytes::slice_ref`): shared strings share, short ones are copied.
    ///
    /// # Panics
    /// When `subset` is not inside this string (a caller bug).
    pub fn slice_ref(&self, subset: &str) -> Str {
        match &self.0 {
            Repr::Shared(s) => {
                Str::inline(subset).unwrap_or_else(|| Str(Repr::Shared(s.slice_ref(subset))))
            }
            Repr::Inline(_) => {
                let whole = self.as_str().as_bytes().as_ptr_range();
                let part = subset.as_bytes().as_ptr_range();
                assert!(
                    subset.is_empty() || (whole.start <= part.start && part.end <= whole.end),
                    "slice_ref: the subset is not part of this string"
                );
                Str::inline(subset).unwrap_or_default()
            }
        }
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline(bytes) => {
                // SAFETY: every constructor of `Repr::Inline` copies the
                // bytes of a `&str` (or of bytes checked by
                // `std::str::from_utf8`) after their length.
                unsafe { std::str::from_utf8_unchecked(inline_text(bytes)) }
            }
            Repr::Shared(s) => s,
        }
    }
}

/// The text of an inline string's `[len, text…]`.
#[inline]
fn inline_text(bytes: &[u8; INLINE_MAX + 1]) -> &[u8] {
    &bytes[1..=usize::from(bytes[0]).min(INLINE_MAX)]
}

/// `part` as `Bytes`: a view of `buf` when `part` lies inside it (no copy),
/// else a copy — for decoders whose slices usually, but not provably, come
/// from the request body.
pub fn share_or_copy(buf: &Bytes, part: &[u8]) -> Bytes {
    let whole = buf.as_ptr_range();
    let range = part.as_ptr_range();
    if part.is_empty() {
        Bytes::new()
    } else if whole.start <= range.start && range.end <= whole.end {
        buf.slice_ref(part)
    } else {
        Bytes::copy_from_slice(part)
    }
}

impl Default for Str {
    fn default() -> Str {
        Str::new()
    }
}

impl Deref for Str {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashes as `str` does, so maps keyed by `Str` can be searched by `&str`.
impl Hash for Str {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::inline(s).unwrap_or_else(|| Str(Repr::Shared(ByteString::from(s))))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::inline(&s).unwrap_or_else(|| Str(Repr::Shared(ByteString::from(s))))
    }
}

impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Str {
        Str::from(String::from(s))
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Str {
        Str::from(s.as_str())
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.as_str().to_owned()
    }
}

impl TryFrom<Bytes> for Str {
    type Error = Utf8Error;

    /// Checks `b` as UTF-8; short strings are copied inline, longer ones
    /// share `b`'s buffer.
    fn try_from(b: Bytes) -> Result<Str, Utf8Error> {
        let s = std::str::from_utf8(&b)?;
        Ok(match Str::inline(s) {
            Some(inline) => inline,
            // SAFETY: `b` was checked as UTF-8 just above.
            None => Str(Repr::Shared(unsafe { ByteString::from_bytes_unchecked(b) })),
        })
    }
}

impl TryFrom<&[u8]> for Str {
    type Error = Utf8Error;

    fn try_from(b: &[u8]) -> Result<Str, Utf8Error> {
        Ok(Str::from(std::str::from_utf8(b)?))
    }
}

impl TryFrom<Vec<u8>> for Str {
    type Error = Utf8Error;

    fn try_from(b: Vec<u8>) -> Result<Str, Utf8Error> {
        match String::from_utf8(b) {
            Ok(s) => Ok(Str::from(s)),
            Err(e) => Err(e.utf8_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_strings_are_inline_and_long_ones_share_the_buffer() {
        assert_eq!(std::mem::size_of::<Str>(), 32);
        let body = Bytes::from(b"GET /a-path-longer-than-twenty-three".to_vec());
        let short = Str::try_from(body.slice(0..3)).expect("utf-8");
        let long = Str::try_from(body.slice(4..)).expect("utf-8");
        assert!(!short.is_shared());
        assert!(long.is_shared());
        assert_eq!(short, "GET");
        assert_eq!(long.as_ptr(), body[4..].as_ptr(), "no copy");
        assert!(!Str::from("x".repeat(INLINE_MAX)).is_shared());
        assert!(Str::from("x".repeat(INLINE_MAX + 1)).is_shared());
    }

    #[test]
    fn invalid_utf8_is_refused_whatever_the_length() {
        assert!(Str::try_from(Bytes::from_static(&[0xff])).is_err());
        assert!(Str::try_from(Bytes::from(vec![0xffu8; 40])).is_err());
        assert!(Str::try_from(&[b'a', 0xc3][..]).is_err());
        assert!(Str::try_from(vec![0xe2, 0x82]).is_err());
    }

    #[test]
    fn equality_order_and_hash_follow_the_text_not_the_storage() {
        let inline = Str::from("abc");
        let shared = Str::from_static("abc");
        assert!(shared.is_shared() && !inline.is_shared());
        assert_eq!(inline, shared);
        assert_eq!(Str::from("abd").cmp(&shared), Ordering::Greater);
        let mut map = HashMap::new();
        map.insert(inline, 1);
        assert_eq!(map.get("abc"), Some(&1));
        assert_eq!(map.get(&shared), Some(&1));
    }

    #[test]
    fn from_part_of_inlines_short_text_and_shares_long_text() {
        let body = Bytes::from(format!("{}|short|{}", "x".repeat(40), "é".repeat(20)));
        let short = Str::from_part_of(&body, &body[41..46]).expect("utf-8");
        assert_eq!(short, "short");
        assert!(!short.is_shared());
        let long = Str::from_part_of(&body, &body[47..]).expect("utf-8");
        assert_eq!(long.as_str(), "é".repeat(20));
        assert!(long.is_shared());
        assert_eq!(long.as_str().as_ptr(), body[47..].as_ptr());
        let foreign = "y".repeat(30);
        let copied = Str::from_part_of(&body, foreign.as_bytes()).expect("utf-8");
        assert_eq!(copied, foreign.as_str());
        assert!(Str::from_part_of(&body, &[0xff, 0xfe]).is_err());
        let bad_long = Bytes::from(vec![0xffu8; 40]);
        assert!(Str::from_part_of(&bad_long, &bad_long[..]).is_err());
    }

    #[test]
    fn slice_ref_keeps_the_text() {
        let long = Str::from("0123456789abcdefghijklmnopqrstuvwxyz");
        let part = long.slice_ref(&long[2..30]);
        assert_eq!(part, "23456789abcdefghijklmnopqrst");
        assert!(part.is_shared());
        assert_eq!(long.slice_ref(&long[0..2]), "01");
        let short = Str::from("hello");
        assert_eq!(short.slice_ref(&short[1..3]), "el");
        assert_eq!(String::from(short.clone()), "hello");
        assert_eq!(&short.into_bytes()[..], b"hello");
    }

    #[test]
    #[should_panic(expected = "not part of this string")]
    fn slice_ref_of_foreign_text_panics() {
        let short = Str::from("hello");
        let _ = short.slice_ref("he");
    }
}
