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

/// A non-empty value.
fn text(value: &str) -> Option<Text> {
    if value.is_empty() {
        None
    } else {
        Some(Text::new(value))
    }
}

/// Requires a non-empty value.
fn required(field: Option<Text>, kind: &'static str, name: &'static str) -> Result<Text, Error> {
    field.ok_or(Error::MissingField { kind, field: name })
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

/// Parses a decimal amount, or keeps the raw value in `extra`.
fn amount(extra: &mut Extra, key: &str, value: &str) -> Option<Amount> {
    if value.is_empty() {
        return None;
    }
    let parsed = Amount::parse(value);
    if parsed.is_none() {
        keep(extra, key, value);
    }
    parsed
}
