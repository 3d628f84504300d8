//! Message status values and their order.

/// The `Status` of a message status callback.
///
/// Plivo does not promise to deliver callbacks in order, and retries make duplicates. Use
/// [`Status::supersedes`] to decide whether an arriving status should replace the stored
/// one: the current status then never moves backwards (`queued` < `sent` < `delivered`,
/// `undelivered`, `failed`, `rejected` < `read`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(into = "String"))]
pub enum Status {
    /// Accepted by the API and waiting in Plivo's queue.
    Queued,
    /// Handed to a carrier. May stay final where no delivery receipts exist.
    Sent,
    /// The carrier confirmed delivery (final; WhatsApp may still become `read`).
    Delivered,
    /// The carrier reported that delivery failed (final, charged; has an error code).
    Undelivered,
    /// Plivo could not pass the message to a carrier (final, not charged; has an error code).
    Failed,
    /// WhatsApp only: the recipient read it (final).
    Read,
    /// Legacy failure status from older docs; treated as final and failed.
    Rejected,
    /// A value this crate does not know, kept as Plivo sent it. It ranks as `sent`.
    Unknown(String),
}

impl Status {
    /// Parses Plivo's value (exact, lowercase); anything else is [`Status::Unknown`].
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value {
            "queued" => Status::Queued,
            "sent" => Status::Sent,
            "delivered" => Status::Delivered,
            "undelivered" => Status::Undelivered,
            "failed" => Status::Failed,
            "read" => Status::Read,
            "rejected" => Status::Rejected,
            other => Status::Unknown(other.to_owned()),
        }
    }

    /// The value as Plivo sends it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Status::Queued => "queued",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Undelivered => "undelivered",
            Status::Failed => "failed",
            Status::Read => "read",
            Status::Rejected => "rejected",
            Status::Unknown(other) => other,
        }
    }

    /// Whether no further status is expected (`read` aside for WhatsApp `delivered`).
    #[must_use]
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Status::Delivered
                | Status::Undelivered
                | Status::Failed
                | Status::Read
                | Status::Rejected
        )
    }

    /// Whether the message did not reach the recipient (`failed`, `undelivered`, `rejected`).
    #[must_use]
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Status::Undelivered | Status::Failed | Status::Rejected
        )
    }

    /// Rank in the lifecycle: queued 0, sent (and unknown) 1, delivered / undelivered /
    /// failed / rejected 2, read 3.
    #[must_use]
    pub fn precedence(&self) -> u8 {
        match self {
            Status::Queued => 0,
            Status::Sent | Status::Unknown(_) => 1,
            Status::Delivered | Status::Undelivered | Status::Failed | Status::Rejected => 2,
            Status::Read => 3,
        }
    }

    /// Whether `self`, arriving now, should replace `current`: only a strictly higher
    /// rank does. A late `sent` never overwrites `delivered`, and the first final status
    /// stays (a `failed` after `delivered` is kept in history, not made current).
    #[must_use]
    pub fn supersedes(&self, current: &Status) -> bool {
        self.precedence() > current.precedence()
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<Status> for String {
    fn from(status: Status) -> String {
        status.as_str().to_owned()
    }
}

impl std::str::FromStr for Status {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Status::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_moves_backwards() {
        let order = ["queued", "sent", "delivered", "read"];
        for (i, a) in order.iter().enumerate() {
            for (j, b) in order.iter().enumerate() {
                assert_eq!(
                    Status::parse(b).supersedes(&Status::parse(a)),
                    j > i,
                    "{a} -> {b}"
                );
            }
        }
        assert!(!Status::Sent.supersedes(&Status::Delivered));
        assert!(!Status::Failed.supersedes(&Status::Delivered));
        assert!(Status::Failed.supersedes(&Status::Unknown("x".into())));
        assert!(Status::parse("rejected").is_failure());
        assert_eq!(Status::parse("weird"), Status::Unknown("weird".into()));
        assert!(!Status::Sent.is_final());
    }
}
