//! Strings kept inline up to a capacity, boxed beyond it.

use arrayvec::ArrayString;

/// A string of up to `N` bytes stored inline (no allocation), longer ones on the heap.
#[derive(Clone, Debug)]
pub(crate) enum InlineStr<const N: usize> {
    Inline(ArrayString<N>),
    Heap(Box<str>),
}

impl<const N: usize> InlineStr<N> {
    /// An empty string.
    pub(crate) fn empty() -> Self {
        InlineStr::Inline(ArrayString::new())
    }

    /// Copies `text`.
    #[inline]
    pub(crate) fn new(text: &str) -> Self {
        match ArrayString::from(text) {
            Ok(inline) => InlineStr::Inline(inline),
            Err(_) => InlineStr::Heap(text.into()),
        }
    }

    /// Replaces the text with `text`, in place when it fits inline.
    #[inline]
    pub(crate) fn set(&mut self, text: &str) {
        if let InlineStr::Inline(inline) = self {
            inline.clear();
            if inline.try_push_str(text).is_ok() {
                return;
            }
        }
        *self = InlineStr::new(text);
    }

    /// Takes `text`, copying it inline if it fits.
    pub(crate) fn from_string(text: String) -> Self {
        match ArrayString::from(&text) {
            Ok(inline) => InlineStr::Inline(inline),
            Err(_) => InlineStr::Heap(text.into_boxed_str()),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            InlineStr::Inline(inline) => inline,
            InlineStr::Heap(heap) => heap,
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            InlineStr::Inline(inline) => inline.as_str().to_owned(),
            InlineStr::Heap(heap) => heap.into_string(),
        }
    }

    #[cfg(test)]
    pub(crate) fn is_inline(&self) -> bool {
        matches!(self, InlineStr::Inline(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_inline_up_to_the_capacity_and_boxes_beyond() {
        let short = InlineStr::<4>::new("abcd");
        assert!(short.is_inline());
        assert_eq!(short.as_str(), "abcd");
        let long = InlineStr::<4>::new("abcde");
        assert!(!long.is_inline());
        assert_eq!(long.into_string(), "abcde");
        // A character is never cut: "é" is two bytes and does not fit in the last one.
        let accented = InlineStr::<4>::new("abcé");
        assert!(!accented.is_inline());
        assert_eq!(accented.as_str(), "abcé");
        assert!(InlineStr::<4>::from_string("abcd".into()).is_inline());
        assert!(!InlineStr::<4>::from_string("abcde".into()).is_inline());
        assert_eq!(InlineStr::<4>::empty().as_str(), "");
        // Set in place, boxed when too long, back inline when short again.
        let mut text = InlineStr::<4>::empty();
        text.set("abc");
        assert!(text.is_inline());
        text.set("abcde");
        assert!(!text.is_inline());
        assert_eq!(text.as_str(), "abcde");
        text.set("ab");
        assert!(text.is_inline());
        assert_eq!(text.as_str(), "ab");
    }
}
