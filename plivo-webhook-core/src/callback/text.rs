//! The string type of callback fields.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use crate::inline::InlineStr;

/// Longest text kept inline: a UUID (36 bytes), a timestamp with microseconds (26), phone
/// numbers, codes and amounts all fit.
const INLINE: usize = 39;

/// The text of a callback field (`MessageUUID`, `From`, ...): a string that keeps values
/// of up to 39 bytes inline, so reading a typed callback does not allocate one string per
/// field. Longer values (message text, media URLs) are stored on the heap.
///
/// It dereferences to `str`, compares with `str` and `String`, and converts into `String`.
///
/// ```
/// use plivo_webhook_core::Text;
///
/// let uuid = Text::new("a3f1c2d4-9e21-11ee-8c4b-0242ac110003");
/// assert_eq!(uuid, "a3f1c2d4-9e21-11ee-8c4b-0242ac110003");
/// assert!(uuid.starts_with("a3f1")); // any `str` method
/// let owned: String = uuid.into();
/// assert_eq!(owned.len(), 36);
/// ```
#[derive(Clone)]
pub struct Text(InlineStr<INLINE>);

impl Text {
    /// Copies `text`.
    #[must_use]
    #[inline]
    pub fn new(text: &str) -> Self {
        Text(InlineStr::new(text))
    }

    /// Replaces the text in place (no copy of the whole `Text` through the stack).
    #[inline]
    pub(crate) fn set(&mut self, text: &str) {
        self.0.set(text);
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(InlineStr::empty())
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}
eq_with!(str, &str, String);

impl From<&str> for Text {
    fn from(text: &str) -> Self {
        Text::new(text)
    }
}

impl From<String> for Text {
    fn from(text: String) -> Self {
        Text(InlineStr::from_string(text))
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0.into_string()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_inline_and_long_text_on_the_heap() {
        let uuid = "a3f1c2d4-9e21-11ee-8c4b-0242ac110003";
        assert!(Text::new(uuid).0.is_inline());
        assert!(Text::new(&"x".repeat(INLINE)).0.is_inline());
        let long = "é".repeat(INLINE);
        assert!(!Text::new(&long).0.is_inline());
        assert!(!Text::from(long.clone()).0.is_inline());
        for text in [uuid, "", long.as_str()] {
            assert_eq!(Text::new(text), text);
            assert_eq!(String::from(Text::from(text.to_owned())), text);
            assert_eq!(Text::new(text).as_str(), text);
        }
    }

    #[test]
    fn equality_order_and_hash_follow_the_text() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |value: &dyn Fn(&mut DefaultHasher)| {
            let mut hasher = DefaultHasher::new();
            value(&mut hasher);
            hasher.finish()
        };
        let (a, b) = (Text::new("a"), Text::new(&"b".repeat(50)));
        assert!(a < b);
        assert_ne!(a, b);
        assert_eq!(
            hash(&|h| b.hash(h)),
            hash(&|h| "b".repeat(50).as_str().hash(h))
        );
        assert_eq!(format!("{a} {a:?}"), "a \"a\"");
    }
}
