//! The `PlivoCallback<T>` extractor.

use axum_core::extract::{FromRef, FromRequest, Request};
use plivo_webhook_core::{FromParams, Verified, Verifier};

use crate::body;
use crate::rejection::PlivoRejection;

/// A verified Plivo callback, parsed as `T`.
///
/// `T` is [`plivo_webhook_core::MessageStatus`], [`plivo_webhook_core::InboundMessage`],
/// [`plivo_webhook_core::VoiceCallback`], or `()` (the default) for the raw verified
/// parameters. The [`Verifier`] comes from the router state through [`FromRef`]; its
/// body limit bounds how much is read. A GET callback verifies from the query.
///
/// Behind [`crate::PlivoLayer`], the extractor reuses the layer's verification.
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Router};
/// use plivo_webhook_axum::PlivoCallback;
/// use plivo_webhook_core::{testing::Signer, MessageStatus, Verifier};
/// use tower::ServiceExt;
///
/// async fn status(PlivoCallback(callback): PlivoCallback<MessageStatus>) -> String {
///     format!("{} {}", callback.message_uuid, callback.status)
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder().token("TOKEN").public_base_url("https://example.com").build()?;
/// let app = Router::new().route("/status", post(status)).with_state(verifier);
///
/// let body = "MessageUUID=m1&From=PLIVO&To=14155550123&Status=delivered";
/// let signed = Signer::new("TOKEN").sign("POST", "https://example.com/status", body.as_bytes());
/// let mut request = Request::post("/status");
/// for (name, value) in signed.headers() {
///     request = request.header(name, value);
/// }
/// let response = app.clone().oneshot(request.body(Body::from(body))?).await?;
/// assert_eq!(response.status(), 200);
///
/// // Unsigned: 400. Tampered: 403.
/// let response = app.oneshot(Request::post("/status").body(Body::from(body))?).await?;
/// assert_eq!(response.status(), 400);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PlivoCallback<T = ()>(pub Verified<T>);

impl<S, T> FromRequest<S> for PlivoCallback<T>
where
    Verifier: FromRef<S>,
    S: Send + Sync,
    T: FromParams + Send,
{
    type Rejection = PlivoRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(verified) = req.extensions().get::<Verified>() {
            return Ok(PlivoCallback(verified.clone().into_typed()?));
        }
        let verifier = Verifier::from_ref(state);
        let (parts, body) = req.into_parts();
        let bytes = body::read(&parts, body, verifier.max_body_bytes()).await?;
        let verified = body::verify(&verifier, &parts, &bytes)?;
        Ok(PlivoCallback(verified.into_typed()?))
    }
}

impl<T> std::ops::Deref for PlivoCallback<T> {
    type Target = Verified<T>;

    fn deref(&self) -> &Verified<T> {
        &self.0
    }
}
