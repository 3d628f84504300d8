//! Outbound message status callbacks (the `url` of Send Message).

use super::{
    amount, keep, number, put, read_fields, required, time, Amount, ErrorCode, Extra, FromParams,
    Status, Text, Timestamp,
};
use crate::error::Error;
use crate::params::Params;

/// The channel of a message (`Type`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(into = "String"))]
pub enum MessageType {
    /// `sms`.
    Sms,
    /// `mms`.
    Mms,
    /// `whatsapp`.
    WhatsApp,
    /// Any other value, as sent.
    Other(String),
}

impl MessageType {
    /// Parses Plivo's value.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value {
            "sms" => MessageType::Sms,
            "mms" => MessageType::Mms,
            "whatsapp" => MessageType::WhatsApp,
            other => MessageType::Other(other.to_owned()),
        }
    }

    /// The value as Plivo sends it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            MessageType::Sms => "sms",
            MessageType::Mms => "mms",
            MessageType::WhatsApp => "whatsapp",
            MessageType::Other(other) => other,
        }
    }
}

impl From<MessageType> for String {
    fn from(value: MessageType) -> String {
        value.as_str().to_owned()
    }
}

/// A message status callback: Plivo calls it each time an outbound SMS, MMS or WhatsApp
/// message changes state. Only `MessageUUID`, `From`, `To` and `Status` are required.
///
/// ```
/// use plivo_webhook_core::{FromParams, MessageStatus, Params, Status};
///
/// let params = Params::decode(b"MessageUUID=7a1f&From=PLIVO&To=14155550123&Status=undelivered&ErrorCode=30&TotalAmount=0.00550");
/// let status = MessageStatus::from_params(&params)?;
/// assert_eq!(status.status, Status::Undelivered);
/// assert_eq!(status.error_code.unwrap().code(), Some(30));
/// assert_eq!(status.total_amount.unwrap().as_str(), "0.00550");
/// # Ok::<(), plivo_webhook_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct MessageStatus {
    /// `MessageUUID`.
    pub message_uuid: Text,
    /// `From`: the sender ID.
    pub from: Text,
    /// `To`: the destination number.
    pub to: Text,
    /// `Status`.
    pub status: Status,
    /// `Type`: sms, mms or whatsapp.
    pub message_type: Option<MessageType>,
    /// `ErrorCode`, for failed and undelivered messages (`""`, `0`, `000` are `None`).
    pub error_code: Option<ErrorCode>,
    /// `Units`: number of segments.
    pub units: Option<u32>,
    /// `TotalRate`: price per unit, exact decimal.
    pub total_rate: Option<Amount>,
    /// `TotalAmount`: total price, exact decimal.
    pub total_amount: Option<Amount>,
    /// `MCC`: mobile country code of `To`.
    pub mcc: Option<Text>,
    /// `MNC`: mobile network code of `To` (leading zeros kept).
    pub mnc: Option<Text>,
    /// `ParentMessageUUID`.
    pub parent_message_uuid: Option<Text>,
    /// `PartInfo` (`"1 of 2"`), raw.
    pub part_info: Option<Text>,
    /// `Sequence`: order in which Plivo generated this message's callbacks.
    pub sequence: Option<u32>,
    /// `MessageTime`: when the message was created.
    pub message_time: Option<Timestamp>,
    /// `QueuedTime`.
    pub queued_time: Option<Timestamp>,
    /// `SentTime`.
    pub sent_time: Option<Timestamp>,
    /// `DeliveryReportTime`.
    pub delivery_report_time: Option<Timestamp>,
    /// `PowerpackUUID` (`None` when no Powerpack was used).
    pub powerpack_uuid: Option<Text>,
    /// `requester_ip`: where the Send Message request came from.
    pub requester_ip: Option<Text>,
    /// `ConversationID` (WhatsApp).
    pub conversation_id: Option<Text>,
    /// `ConversationOrigin` (WhatsApp: utility, authentication, marketing, service).
    pub conversation_origin: Option<Text>,
    /// `ConversationExpirationTimestamp` (WhatsApp; Unix seconds or a date-time).
    pub conversation_expiration: Option<Timestamp>,
    /// Every other parameter, and any value above that could not be read.
    pub extra: Extra,
}

impl MessageStatus {
    /// `PartInfo` as `(part, of)`, when it reads `"<n> of <m>"`.
    #[must_use]
    pub fn parts(&self) -> Option<(u32, u32)> {
        let (n, m) = self.part_info.as_deref()?.split_once(" of ")?;
        Some((n.trim().parse().ok()?, m.trim().parse().ok()?))
    }
}

impl FromParams for MessageStatus {
    fn from_params(params: &Params) -> Result<Self, Error> {
        const KIND: &str = "message status";
        let mut message_uuid = None;
        let mut from = None;
        let mut to = None;
        let mut status = None;
        let mut s = MessageStatus {
            message_uuid: Text::default(),
            from: Text::default(),
            to: Text::default(),
            status: Status::Queued,
            message_type: None,
            error_code: None,
            units: None,
            total_rate: None,
            total_amount: None,
            mcc: None,
            mnc: None,
            parent_message_uuid: None,
            part_info: None,
            sequence: None,
            message_time: None,
            queued_time: None,
            sent_time: None,
            delivery_report_time: None,
            powerpack_uuid: None,
            requester_ip: None,
            conversation_id: None,
            conversation_origin: None,
            conversation_expiration: None,
            extra: Extra::new(),
        };
        read_fields(params, &mut s.extra, |extra, key, value| match key {
            "MessageUUID" => put(&mut message_uuid, value),
            "From" => put(&mut from, value),
            "To" => put(&mut to, value),
            "Status" => status = (!value.is_empty()).then_some(value),
            "Type" => s.message_type = (!value.is_empty()).then(|| MessageType::parse(value)),
            "ErrorCode" => s.error_code = ErrorCode::parse(value),
            "Units" => s.units = number(extra, key, value),
            "TotalRate" => amount(&mut s.total_rate, extra, key, value),
            "TotalAmount" => amount(&mut s.total_amount, extra, key, value),
            "MCC" => put(&mut s.mcc, value),
            "MNC" => put(&mut s.mnc, value),
            "ParentMessageUUID" => put(&mut s.parent_message_uuid, value),
            "PartInfo" => put(&mut s.part_info, value),
            "Sequence" => s.sequence = number(extra, key, value),
            "MessageTime" => time(&mut s.message_time, value),
            "QueuedTime" => time(&mut s.queued_time, value),
            "SentTime" => time(&mut s.sent_time, value),
            "DeliveryReportTime" => time(&mut s.delivery_report_time, value),
            "PowerpackUUID" => put(&mut s.powerpack_uuid, value),
            "requester_ip" => put(&mut s.requester_ip, value),
            "ConversationID" => put(&mut s.conversation_id, value),
            "ConversationOrigin" => put(&mut s.conversation_origin, value),
            "ConversationExpirationTimestamp" => time(&mut s.conversation_expiration, value),
            _ => keep(extra, key, value),
        });
        s.message_uuid = required(message_uuid, KIND, "MessageUUID")?;
        s.from = required(from, KIND, "From")?;
        s.to = required(to, KIND, "To")?;
        let Some(status) = status else {
            return Err(Error::MissingField {
                kind: KIND,
                field: "Status",
            });
        };
        s.status = Status::parse(status);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "MessageUUID=u&From=a&To=b&Status=sent&Units=1";

    #[test]
    fn names_the_first_missing_required_field() {
        for field in ["MessageUUID", "From", "To", "Status"] {
            let without: Vec<&str> = FULL
                .split('&')
                .filter(|pair| !pair.starts_with(&format!("{field}=")))
                .collect();
            let emptied = FULL.replace(&format!("{field}="), &format!("{field}=&X="));
            for body in [without.join("&"), emptied] {
                let err = MessageStatus::from_params(&Params::decode(body.as_bytes()));
                assert!(
                    matches!(err, Err(Error::MissingField { kind: "message status", field: f }) if f == field),
                    "{body}: {err:?}"
                );
            }
        }
        let err = MessageStatus::from_params(&Params::decode(b"Units=1"));
        assert!(
            matches!(
                err,
                Err(Error::MissingField {
                    field: "MessageUUID",
                    ..
                })
            ),
            "{err:?}"
        );
        let status = MessageStatus::from_params(&Params::decode(FULL.as_bytes())).unwrap();
        assert_eq!(
            (
                &*status.message_uuid,
                &*status.from,
                &*status.to,
                status.units
            ),
            ("u", "a", "b", Some(1))
        );
        assert_eq!(status.status, Status::Sent);
    }
}
