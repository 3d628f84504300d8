//! Inbound messages (the `message_url` of a Plivo Application).

use super::{
    amount, keep, number, put, read_fields, required, Amount, ErrorCode, Extra, FromParams, Text,
};
use crate::callback::MessageType;
use crate::error::Error;
use crate::params::Params;

/// `MessageIntent` of an inbound SMS.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub enum MessageIntent {
    /// `optout` (STOP, END, QUIT, ...).
    OptOut,
    /// `optin` (START, YES, ...).
    OptIn,
    /// `help`.
    Help,
    /// Any other value, as sent.
    Other(String),
}

/// One media file of an inbound MMS (`Media<n>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Media {
    /// The `<n>` of `Media<n>` (0- or 1-based: Plivo's docs disagree).
    pub index: u32,
    /// The media URL.
    pub url: Text,
}

/// An inbound SMS, MMS or WhatsApp message. There is no `Status`.
///
/// ```
/// use plivo_webhook_core::{FromParams, InboundMessage, Params};
///
/// let params = Params::decode(b"From=14155550100&To=14155550123&MessageUUID=9c2e&Type=mms&Body=hi&MediaCount=2&Media10=https%3A%2F%2Fm%2F10&Media2=https%3A%2F%2Fm%2F2");
/// let message = InboundMessage::from_params(&params)?;
/// assert_eq!(message.content(), Some("hi"));
/// let indexes: Vec<u32> = message.media.iter().map(|m| m.index).collect();
/// assert_eq!(indexes, [2, 10]);
/// # Ok::<(), plivo_webhook_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct InboundMessage {
    /// `MessageUUID`.
    pub message_uuid: Text,
    /// `From`: the sender's number.
    pub from: Text,
    /// `To`: your Plivo number.
    pub to: Text,
    /// `Type`: sms (default), mms or whatsapp.
    pub message_type: Option<MessageType>,
    /// `Text`: the text of an SMS (Plivo joins long messages).
    pub text: Option<Text>,
    /// `Body`: the text of an MMS or WhatsApp message.
    pub body: Option<Text>,
    /// `Media<n>` URLs, sorted by index numerically.
    pub media: Vec<Media>,
    /// `MediaCount`.
    pub media_count: Option<u32>,
    /// `Units`.
    pub units: Option<u32>,
    /// `TotalRate`.
    pub total_rate: Option<Amount>,
    /// `TotalAmount`.
    pub total_amount: Option<Amount>,
    /// `MessageIntent` (`None` when empty).
    pub message_intent: Option<MessageIntent>,
    /// `PowerpackUUID`.
    pub powerpack_uuid: Option<Text>,
    /// `ContentType` (WhatsApp: text, media, button, unknown).
    pub content_type: Option<Text>,
    /// `MimeType` (WhatsApp media).
    pub mime_type: Option<Text>,
    /// `ErrorCode` (WhatsApp, MMS).
    pub error_code: Option<ErrorCode>,
    /// Every other parameter, and any value above that could not be read.
    pub extra: Extra,
}

impl InboundMessage {
    /// The message text: `Text` (SMS), else `Body` (MMS, WhatsApp).
    #[must_use]
    pub fn content(&self) -> Option<&str> {
        self.text.as_deref().or(self.body.as_deref())
    }
}

impl FromParams for InboundMessage {
    fn from_params(params: &Params) -> Result<Self, Error> {
        const KIND: &str = "inbound message";
        let mut message_uuid = None;
        let mut from = None;
        let mut to = None;
        let mut m = InboundMessage {
            message_uuid: Text::default(),
            from: Text::default(),
            to: Text::default(),
            message_type: None,
            text: None,
            body: None,
            media: Vec::new(),
            media_count: None,
            units: None,
            total_rate: None,
            total_amount: None,
            message_intent: None,
            powerpack_uuid: None,
            content_type: None,
            mime_type: None,
            error_code: None,
            extra: Extra::new(),
        };
        read_fields(params, &mut m.extra, |extra, key, value| match key {
            "MessageUUID" => put(&mut message_uuid, value),
            "From" => put(&mut from, value),
            "To" => put(&mut to, value),
            "Type" => m.message_type = (!value.is_empty()).then(|| MessageType::parse(value)),
            "Text" => put(&mut m.text, value),
            "Body" => put(&mut m.body, value),
            "MediaCount" => m.media_count = number(extra, key, value),
            "Units" => m.units = number(extra, key, value),
            "TotalRate" => amount(&mut m.total_rate, extra, key, value),
            "TotalAmount" => amount(&mut m.total_amount, extra, key, value),
            "MessageIntent" => {
                m.message_intent = match value {
                    "" => None,
                    "optout" => Some(MessageIntent::OptOut),
                    "optin" => Some(MessageIntent::OptIn),
                    "help" => Some(MessageIntent::Help),
                    other => Some(MessageIntent::Other(other.to_owned())),
                };
            }
            "PowerpackUUID" => put(&mut m.powerpack_uuid, value),
            "ContentType" => put(&mut m.content_type, value),
            "MimeType" => put(&mut m.mime_type, value),
            "ErrorCode" => m.error_code = ErrorCode::parse(value),
            _ => match media_index(key) {
                Some(index) if !value.is_empty() => m.media.push(Media {
                    index,
                    url: Text::new(value),
                }),
                _ => keep(extra, key, value),
            },
        });
        m.media.sort_by_key(|media| media.index);
        m.message_uuid = required(message_uuid, KIND, "MessageUUID")?;
        m.from = required(from, KIND, "From")?;
        m.to = required(to, KIND, "To")?;
        Ok(m)
    }
}

/// `Media<digits>` → its index.
fn media_index(key: &str) -> Option<u32> {
    let digits = key.strip_prefix("Media")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}
