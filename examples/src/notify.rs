//! The default notifier: a structured warning in the log.

use plivo_webhook_core::{MessageStatus, Notifier};

/// Logs `message failed` at WARN with the message UUID, status and error code.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait::async_trait]
impl Notifier for LogNotifier {
    async fn message_failed(&self, status: &MessageStatus) {
        tracing::warn!(
            message_uuid = %status.message_uuid,
            status = %status.status,
            error_code = status.error_code.as_ref().map(plivo_webhook_core::ErrorCode::as_string).as_deref(),
            reason = status.error_code.as_ref().map(plivo_webhook_core::ErrorCode::description),
            "message failed"
        );
    }
}
