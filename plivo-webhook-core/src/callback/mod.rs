//! Typed Plivo callbacks.
//!
//! Each type reads the fields Plivo documents (`../reference/plivo-callbacks.md`) and keeps
//! every other parameter in its `extra` map, so nothing Plivo sends is lost. Empty values
//! are `None`; only the fields a callback cannot do without are required.

mod error_code;
mod inbound_message;
mod message_status;
mod status;
mod text;
mod value;
mod voice;

pub use error_code::ErrorCode;
pub use inbound_message::{InboundMessage, Media, MessageIntent};
pub use message_status::{MessageStatus, MessageType};
pub use status::Status;
pub use text::Text;
pub use value::{Amount, Timestamp};
pub use voice::VoiceCallback;

use std::collections::BTreeMap;

use crate::error::Error;
use crate::params::Params;

/// A callback type that can be read from verified parameters.
pub trait FromParams: Sized {
    /// Reads `Self` from the parameters.
    ///
    /// # Errors
    /// [`Error::MissingField`] when a required parameter is absent or empty.
    fn from_params(params: &Params) -> Result<Self, Error>;
}

impl FromParams for () {
    fn from_params(_: &Params) -> Result<Self, Error> {
        Ok(())
    }
}

/// Parameters not modelled by a callback type, by key (repeated keys keep their values
/// joined by a comma; each value is still in [`crate::Verified::params`]).
pub type Extra = BTreeMap<String, String>;

/// Stores a non-empty value in `slot` (`None` for an empty one). The text is written in
/// place: building a `Text` and moving it into the struct costs twice as much.
#[inline]
fn put(slot: &mut Option<Text>, value: &str) {
    if value.is_empty() {
        *slot = None;
    } else {
        slot.get_or_insert_with(Text::default).set(value);
    }
}

/// Requires a non-empty value.
fn required(field: Option<Text>, kind: &'static str, name: &'static str) -> Result<Text, Error> {
    // Not `ok_or`: an `Error` built and dropped on the success path costs a drop call.
    match field {
        Some(text) => Ok(text),
        None => Err(Error::MissingField { kind, field: name }),
    }
}

/// Calls `field` with each parameter whose key differs from the one before it: the
/// first value of a repeated key (the one [`Params::get`] returns) is the field's; the
/// others are kept in `extra`. `field` gets `extra` too, for values it cannot read.
#[inline]
fn read_fields<'p>(
    params: &'p Params,
    extra: &mut Extra,
    mut field: impl FnMut(&mut Extra, &'p str, &'p str),
) {
    let mut previous = None;
    for (key, value) in params {
        if previous.replace(key) == Some(key) {
            keep(extra, key, value);
        } else {
            field(extra, key, value);
        }
    }
}

/// Adds an unmodelled (or unparseable) parameter to `extra`.
fn keep(extra: &mut Extra, key: &str, value: &str) {
    extra
        .entry(key.to_owned())
        .and_modify(|v| {
            v.push(',');
            v.push_str(value);
        })
        .or_insert_with(|| value.to_owned());
}

/// Parses a non-negative integer, or keeps the raw value in `extra`.
fn number<N: std::str::FromStr>(extra: &mut Extra, key: &str, value: &str) -> Option<N> {
    if value.is_empty() {
        return None;
    }
    match value.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            keep(extra, key, value);
            None
        }
    }
}

/// Parses a decimal amount into `slot`, or keeps the raw value in `extra`.
fn amount(slot: &mut Option<Amount>, extra: &mut Extra, key: &str, value: &str) {
    if value.is_empty() {
        *slot = None;
    } else if !Amount::parse_into(slot, value) {
        *slot = None;
        keep(extra, key, value);
    }
}

/// Reads a timestamp into `slot` (`None` for an empty value).
fn time(slot: &mut Option<Timestamp>, value: &str) {
    if value.is_empty() {
        *slot = None;
    } else {
        Timestamp::parse_into(slot, value);
    }
}
