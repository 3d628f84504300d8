//! Voice callbacks: answer, hangup and the other call events (minimal).

use super::{
    amount, keep, number, put, read_fields, required, time, Amount, Extra, FromParams, Text,
    Timestamp,
};
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
        read_fields(params, &mut c.extra, |extra, key, value| match key {
            "CallUUID" => put(&mut call_uuid, value),
            "From" => put(&mut c.from, value),
            "To" => put(&mut c.to, value),
            "Direction" => put(&mut c.direction, value),
            "CallStatus" => put(&mut c.call_status, value),
            "Event" => put(&mut c.event, value),
            "RequestUUID" => put(&mut c.request_uuid, value),
            "Duration" => c.duration = number(extra, key, value),
            "BillDuration" => c.bill_duration = number(extra, key, value),
            "HangupCause" => put(&mut c.hangup_cause, value),
            "HangupCauseCode" => c.hangup_cause_code = number(extra, key, value),
            "HangupCauseName" => put(&mut c.hangup_cause_name, value),
            "HangupSource" => put(&mut c.hangup_source, value),
            "TotalCost" => amount(&mut c.total_cost, extra, key, value),
            "StartTime" => time(&mut c.start_time, value),
            "AnswerTime" => time(&mut c.answer_time, value),
            "EndTime" => time(&mut c.end_time, value),
            _ => keep(extra, key, value),
        });
        c.call_uuid = required(call_uuid, "voice", "CallUUID")?;
        Ok(c)
    }
}
