//! Voice callbacks: answer, hangup and the other call events (minimal).

use super::{amount, keep, number, required, text, Amount, Extra, FromParams, Text, Timestamp};
use crate::error::Error;
use crate::params::Params;

/// A voice callback (`answer_url`, `hangup_url`, `ring_url`, ...). Only `CallUUID` is
/// required; hangup fields are `None` on other events.
///
/// ```
/// use plivo_webhook_core::{FromParams, Params, VoiceCallback};
///
/// let params = Params::decode(b"CallUUID=c1&Event=Hangup&CallStatus=busy&HangupCauseCode=3010&Duration=0");
/// let call = VoiceCallback::from_params(&params)?;
/// assert!(call.is_hangup());
/// assert_eq!(call.hangup_cause_code, Some(3010));
/// # Ok::<(), plivo_webhook_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct VoiceCallback {
    /// `CallUUID`.
    pub call_uuid: Text,
    /// `From`.
    pub from: Option<Text>,
    /// `To`.
    pub to: Option<Text>,
    /// `Direction`: inbound or outbound.
    pub direction: Option<Text>,
    /// `CallStatus`: ringing, in-progress, completed, busy, failed, timeout, no-answer.
    pub call_status: Option<Text>,
    /// `Event`: StartApp, Ring, Hangup, MachineDetection, ...
    pub event: Option<Text>,
    /// `RequestUUID` (outbound API calls).
    pub request_uuid: Option<Text>,
    /// `Duration` in seconds (hangup).
    pub duration: Option<u32>,
    /// `BillDuration` in seconds (hangup).
    pub bill_duration: Option<u32>,
    /// `HangupCause` (`NORMAL_CLEARING`, ...).
    pub hangup_cause: Option<Text>,
    /// `HangupCauseCode` (4000, 3010, ...).
    pub hangup_cause_code: Option<u32>,
    /// `HangupCauseName`.
    pub hangup_cause_name: Option<Text>,
    /// `HangupSource` (Caller, Callee, Plivo, ...).
    pub hangup_source: Option<Text>,
    /// `TotalCost`.
    pub total_cost: Option<Amount>,
    /// `StartTime`.
    pub start_time: Option<Timestamp>,
    /// `AnswerTime` (`None` for an unanswered call).
    pub answer_time: Option<Timestamp>,
    /// `EndTime`.
    pub end_time: Option<Timestamp>,
    /// Every other parameter (`ALegUUID`, `X-PH-*` headers, ...).
    pub extra: Extra,
}

impl VoiceCallback {
    /// Whether this is the hangup event.
    #[must_use]
    pub fn is_hangup(&self) -> bool {
        self.event.as_deref() == Some("Hangup")
    }
}

impl FromParams for VoiceCallback {
    fn from_params(params: &Params) -> Result<Self, Error> {
        let mut call_uuid = None;
        let mut c = VoiceCallback {
            call_uuid: Text::default(),
            from: None,
            to: None,
            direction: None,
            call_status: None,
            event: None,
            request_uuid: None,
            duration: None,
            bill_duration: None,
            hangup_cause: None,
            hangup_cause_code: None,
            hangup_cause_name: None,
            hangup_source: None,
            total_cost: None,
            start_time: None,
            answer_time: None,
            end_time: None,
            extra: Extra::new(),
        };
        let extra = &mut c.extra;
        let mut previous = None;
        for (key, value) in params {
            // A repeated key: the first value (as `Params::get` returns) is the field's,
            // the others are kept in `extra`.
            if previous.replace(key) == Some(key) {
                keep(extra, key, value);
                continue;
            }
            let time = || (!value.is_empty()).then(|| Timestamp::parse(value));
            match key {
                "CallUUID" => call_uuid = text(value),
                "From" => c.from = text(value),
                "To" => c.to = text(value),
                "Direction" => c.direction = text(value),
                "CallStatus" => c.call_status = text(value),
                "Event" => c.event = text(value),
                "RequestUUID" => c.request_uuid = text(value),
                "Duration" => c.duration = number(extra, key, value),
                "BillDuration" => c.bill_duration = number(extra, key, value),
                "HangupCause" => c.hangup_cause = text(value),
                "HangupCauseCode" => c.hangup_cause_code = number(extra, key, value),
                "HangupCauseName" => c.hangup_cause_name = text(value),
                "HangupSource" => c.hangup_source = text(value),
                "TotalCost" => c.total_cost = amount(extra, key, value),
                "StartTime" => c.start_time = time(),
                "AnswerTime" => c.answer_time = time(),
                "EndTime" => c.end_time = time(),
                _ => keep(extra, key, value),
            }
        }
        c.call_uuid = required(call_uuid, "voice", "CallUUID")?;
        Ok(c)
    }
}
