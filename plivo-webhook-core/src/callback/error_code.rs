//! Message error codes (`ErrorCode`).

/// A Plivo message error code: the known codes with their meaning, and any other code
/// kept as sent. `""`, `0` and `000` mean "no error" and parse to `None`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 10: a carrier rejected the content.
    InvalidMessage,
    /// 20: network error at the carrier; temporary.
    NetworkError,
    /// 30: spam filter, or too much long-code volume.
    SpamDetected,
    /// 40: invalid source number.
    InvalidSourceNumber,
    /// 50: invalid destination number.
    InvalidDestinationNumber,
    /// 60: loop detected.
    LoopDetected,
    /// 70: destination permanently unavailable.
    DestinationPermanentlyUnavailable,
    /// 80: destination temporarily unavailable.
    DestinationTemporarilyUnavailable,
    /// 90: no route available.
    NoRouteAvailable,
    /// 100: prohibited by the carrier.
    ProhibitedByCarrier,
    /// 110: message too long.
    MessageTooLong,
    /// 120: MMS payload too large.
    MmsTooLarge,
    /// 200: the destination opted out.
    DestinationOptedOut,
    /// 201: toll-free source to a Canadian destination blocked.
    TollFreeToCanadaBlocked,
    /// 300: failed to dispatch message.
    DispatchFailed,
    /// 420: message expired in the queue.
    MessageExpired,
    /// 450: destination country barred by Geo Permissions.
    GeoPermissionBarred,
    /// 451: fraud threshold breached.
    FraudThresholdBreached,
    /// 900: insufficient credit.
    InsufficientCredit,
    /// 910: account disabled.
    AccountDisabled,
    /// 1000: unknown error.
    UnknownError,
    /// A code this crate does not know, as Plivo sent it.
    Other(String),
}

const KNOWN: &[(u32, ErrorCode, &str, bool)] = &[
    (
        10,
        ErrorCode::InvalidMessage,
        "invalid message: a carrier rejected the content",
        false,
    ),
    (
        20,
        ErrorCode::NetworkError,
        "network error at the carrier (temporary)",
        true,
    ),
    (
        30,
        ErrorCode::SpamDetected,
        "spam detected by a carrier filter, or too much long-code volume",
        true,
    ),
    (
        40,
        ErrorCode::InvalidSourceNumber,
        "invalid source number",
        false,
    ),
    (
        50,
        ErrorCode::InvalidDestinationNumber,
        "invalid destination number",
        false,
    ),
    (
        60,
        ErrorCode::LoopDetected,
        "loop detected between source and destination",
        false,
    ),
    (
        70,
        ErrorCode::DestinationPermanentlyUnavailable,
        "destination permanently unavailable",
        false,
    ),
    (
        80,
        ErrorCode::DestinationTemporarilyUnavailable,
        "destination temporarily unavailable (handset off or out of coverage)",
        true,
    ),
    (90, ErrorCode::NoRouteAvailable, "no route available", true),
    (
        100,
        ErrorCode::ProhibitedByCarrier,
        "prohibited by carrier",
        false,
    ),
    (110, ErrorCode::MessageTooLong, "message too long", false),
    (
        120,
        ErrorCode::MmsTooLarge,
        "MMS payload too large (over 5 MB)",
        false,
    ),
    (
        200,
        ErrorCode::DestinationOptedOut,
        "destination opted out (STOP)",
        false,
    ),
    (
        201,
        ErrorCode::TollFreeToCanadaBlocked,
        "toll-free source to Canadian destination blocked",
        false,
    ),
    (
        300,
        ErrorCode::DispatchFailed,
        "failed to dispatch message",
        true,
    ),
    (
        420,
        ErrorCode::MessageExpired,
        "message expired in the queue",
        true,
    ),
    (
        450,
        ErrorCode::GeoPermissionBarred,
        "destination country barred by Geo Permissions",
        false,
    ),
    (
        451,
        ErrorCode::FraudThresholdBreached,
        "fraud threshold breached (messages per hour)",
        true,
    ),
    (
        900,
        ErrorCode::InsufficientCredit,
        "insufficient credit",
        true,
    ),
    (910, ErrorCode::AccountDisabled, "account disabled", false),
    (1000, ErrorCode::UnknownError, "unknown error", true),
];

impl ErrorCode {
    /// Parses Plivo's `ErrorCode`; `""`, `0` and `000` (success) give `None`.
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        match value.parse::<u32>() {
            Ok(0) => None,
            Ok(code) => Some(KNOWN.iter().find(|(known, ..)| *known == code).map_or_else(
                || ErrorCode::Other(value.to_owned()),
                |(_, e, ..)| e.clone(),
            )),
            Err(_) => Some(ErrorCode::Other(value.to_owned())),
        }
    }

    fn entry(&self) -> Option<&'static (u32, ErrorCode, &'static str, bool)> {
        KNOWN.iter().find(|(_, known, ..)| known == self)
    }

    /// The numeric code, when it is one.
    #[must_use]
    pub fn code(&self) -> Option<u32> {
        match self {
            ErrorCode::Other(raw) => raw.parse().ok(),
            known => known.entry().map(|(code, ..)| *code),
        }
    }

    /// The code as text (`"30"`).
    #[must_use]
    pub fn as_string(&self) -> String {
        match self {
            ErrorCode::Other(raw) => raw.clone(),
            known => known.code().map(|c| c.to_string()).unwrap_or_default(),
        }
    }

    /// A short meaning, or `"unrecognised error code"`.
    #[must_use]
    pub fn description(&self) -> &'static str {
        self.entry()
            .map_or("unrecognised error code", |(_, _, text, _)| text)
    }

    /// Whether resending the message later may succeed (our assessment, from Plivo's
    /// descriptions; unknown codes say `true`).
    #[must_use]
    pub fn resend_may_help(&self) -> bool {
        self.entry().is_none_or(|(.., retry)| *retry)
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.as_string(), self.description())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes() {
        assert_eq!(ErrorCode::parse(""), None);
        assert_eq!(ErrorCode::parse("0"), None);
        assert_eq!(ErrorCode::parse("000"), None);
        assert_eq!(ErrorCode::parse("30"), Some(ErrorCode::SpamDetected));
        assert_eq!(ErrorCode::parse("900").unwrap().code(), Some(900));
        assert!(ErrorCode::parse("20").unwrap().resend_may_help());
        assert!(!ErrorCode::parse("450").unwrap().resend_may_help());
        let other = ErrorCode::parse("7777").unwrap();
        assert_eq!(other, ErrorCode::Other("7777".into()));
        assert_eq!(other.code(), Some(7777));
        assert_eq!(other.description(), "unrecognised error code");
        assert_eq!(ErrorCode::parse("x1").unwrap().code(), None);
        assert_eq!(KNOWN.len(), 21);
    }
}
