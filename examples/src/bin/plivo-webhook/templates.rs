//! Built-in callback templates: the core's realistic fixtures, embedded at build time,
//! with fresh UUIDs for every message.

use std::collections::HashMap;

use clap::ValueEnum;

/// A callback that `send` can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    /// Message status `queued` (the first callback).
    Queued,
    /// Message status `sent` (handed to the carrier).
    Sent,
    /// Message status `delivered` (final).
    Delivered,
    /// Message status `undelivered` with an error code (30 unless --error-code).
    Undelivered,
    /// Message status `failed` with an error code (900 unless --error-code).
    Failed,
    /// WhatsApp message status `read`.
    WhatsappRead,
    /// A legacy two-part SMS: two `delivered` callbacks, part 2 naming part 1 as parent.
    Multipart,
    /// An inbound SMS (for the Application's message URL).
    InboundSms,
    /// An inbound MMS with two media URLs (for the Application's message URL).
    Mms,
    /// A voice hangup callback (outbound call, completed).
    VoiceHangup,
}

/// The fixtures, embedded (never read at run time).
mod fixture {
    pub(super) const QUEUED: &str =
        include_str!("../../../../plivo-webhook-core/tests/data/fixtures/status_sms_queued.form");
    pub(super) const SENT: &str =
        include_str!("../../../../plivo-webhook-core/tests/data/fixtures/status_sms_sent.form");
    pub(super) const DELIVERED: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/status_sms_delivered.form"
    );
    pub(super) const UNDELIVERED: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/status_sms_undelivered.form"
    );
    pub(super) const FAILED: &str =
        include_str!("../../../../plivo-webhook-core/tests/data/fixtures/status_sms_failed.form");
    pub(super) const WHATSAPP_READ: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/status_whatsapp_read.form"
    );
    pub(super) const MULTIPART_1: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/status_sms_multipart_part1_delivered.form"
    );
    pub(super) const MULTIPART_2: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/status_sms_multipart_part2_delivered.form"
    );
    pub(super) const INBOUND_SMS: &str =
        include_str!("../../../../plivo-webhook-core/tests/data/fixtures/inbound_sms.form");
    pub(super) const MMS: &str =
        include_str!("../../../../plivo-webhook-core/tests/data/fixtures/inbound_mms_media.form");
    pub(super) const VOICE_HANGUP: &str = include_str!(
        "../../../../plivo-webhook-core/tests/data/fixtures/voice_hangup_outbound_completed.form"
    );
}

impl Template {
    /// The name used on the command line.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Template::Queued => "queued",
            Template::Sent => "sent",
            Template::Delivered => "delivered",
            Template::Undelivered => "undelivered",
            Template::Failed => "failed",
            Template::WhatsappRead => "whatsapp-read",
            Template::Multipart => "multipart",
            Template::InboundSms => "inbound-sms",
            Template::Mms => "mms",
            Template::VoiceHangup => "voice-hangup",
        }
    }

    /// The fixture bodies of this template: one callback, two for `multipart`.
    fn parts(self) -> &'static [&'static str] {
        match self {
            Template::Queued => &[fixture::QUEUED],
            Template::Sent => &[fixture::SENT],
            Template::Delivered => &[fixture::DELIVERED],
            Template::Undelivered => &[fixture::UNDELIVERED],
            Template::Failed => &[fixture::FAILED],
            Template::WhatsappRead => &[fixture::WHATSAPP_READ],
            Template::Multipart => &[fixture::MULTIPART_1, fixture::MULTIPART_2],
            Template::InboundSms => &[fixture::INBOUND_SMS],
            Template::Mms => &[fixture::MMS],
            Template::VoiceHangup => &[fixture::VOICE_HANGUP],
        }
    }

    /// The parameter that identifies the message (or call) in this template.
    fn primary_key(self) -> &'static str {
        match self {
            Template::VoiceHangup => "CallUUID",
            _ => "MessageUUID",
        }
    }

    /// Whether `--error-code` applies (a status that carries an error code).
    fn has_error_code(self) -> bool {
        matches!(self, Template::Undelivered | Template::Failed)
    }
}

/// Renders the templates of one message: every callback names the same message UUID,
/// and every other UUID in the fixtures (parts, requests) is replaced by a fresh one,
/// consistently within the message.
#[derive(Debug)]
pub(crate) struct Message {
    uuid: String,
    others: HashMap<String, String>,
}

impl Message {
    /// A message with this UUID (fresh when `None`).
    pub(crate) fn new(uuid: Option<String>) -> Self {
        Message {
            uuid: uuid.unwrap_or_else(fresh_uuid),
            others: HashMap::new(),
        }
    }

    /// The message's UUID.
    pub(crate) fn uuid(&self) -> &str {
        &self.uuid
    }

    /// The form bodies of `template` for this message.
    pub(crate) fn render(&mut self, template: Template, error_code: Option<&str>) -> Vec<String> {
        let parts = template.parts();
        let primary = value_of(parts[0], template.primary_key()).unwrap_or_default();
        parts
            .iter()
            .map(|body| {
                let pairs: Vec<String> = body
                    .split('&')
                    .map(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        let value = if key.ends_with("UUID") && !value.is_empty() {
                            if value == primary {
                                self.uuid.clone()
                            } else {
                                self.others
                                    .entry(value.to_owned())
                                    .or_insert_with(fresh_uuid)
                                    .clone()
                            }
                        } else if key == "ErrorCode" && template.has_error_code() {
                            error_code.unwrap_or(value).to_owned()
                        } else {
                            value.to_owned()
                        };
                        format!("{key}={value}")
                    })
                    .collect();
                pairs.join("&")
            })
            .collect()
    }
}

/// The raw value of `key` in a form body.
fn value_of<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find_map(|(k, v)| (k == key).then_some(v))
}

/// A random UUID in the time-based style Plivo uses (`xxxxxxxx-xxxx-11ee-xxxx-xxxxxxxxxxxx`).
pub(crate) fn fresh_uuid() -> String {
    format!(
        "{:08x}-{:04x}-11ee-{:04x}-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        0x8000 | (fastrand::u16(..) & 0x3fff),
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_uuid_per_message() {
        let mut message = Message::new(Some("m-1".to_owned()));
        let queued = message.render(Template::Queued, None);
        let delivered = message.render(Template::Delivered, None);
        assert_eq!(value_of(&queued[0], "MessageUUID"), Some("m-1"));
        assert_eq!(value_of(&delivered[0], "ParentMessageUUID"), Some("m-1"));
        let parts = message.render(Template::Multipart, None);
        assert_eq!(value_of(&parts[1], "ParentMessageUUID"), Some("m-1"));
        assert_ne!(value_of(&parts[1], "MessageUUID"), Some("m-1"));
        let failed = message.render(Template::Failed, Some("450"));
        assert_eq!(value_of(&failed[0], "ErrorCode"), Some("450"));
        let call = message.render(Template::VoiceHangup, None);
        assert_eq!(value_of(&call[0], "CallUUID"), Some("m-1"));
    }
}
