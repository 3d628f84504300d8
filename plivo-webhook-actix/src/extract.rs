//! The `PlivoCallback<T>` extractor.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use plivo_webhook_core::{CallbackRequest, FromParams, Verified, Verifier};

use crate::body::{self, ActixHeaders};
use crate::error::PlivoError;

/// A verified Plivo callback, parsed as `T`.
///
/// `T` is [`plivo_webhook_core::MessageStatus`], [`plivo_webhook_core::InboundMessage`],
/// [`plivo_webhook_core::VoiceCallback`], or `()` (the default) for the raw verified
/// parameters. The [`Verifier`] comes from `app_data`; its body limit bounds how much of
/// the payload is read. A GET callback verifies from the query.
///
/// ```
/// use actix_web::{test, web, App};
/// use plivo_webhook_actix::PlivoCallback;
/// use plivo_webhook_core::{testing::Signer, MessageStatus, Verifier};
///
/// async fn status(PlivoCallback(callback): PlivoCallback<MessageStatus>) -> String {
///     format!("{} {}", callback.message_uuid, callback.status)
/// }
///
/// # #[actix_web::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder().token("TOKEN").public_base_url("https://example.com").build()?;
/// let app = test::init_service(App::new().app_data(verifier).route("/status", web::post().to(status))).await;
///
/// let body = "MessageUUID=m1&From=PLIVO&To=14155550123&Status=delivered";
/// let signed = Signer::new("TOKEN").sign("POST", "https://example.com/status", body.as_bytes());
/// let mut request = test::TestRequest::post().uri("/status").set_payload(body);
/// for (name, value) in signed.headers() {
///     request = request.insert_header((name, value));
/// }
/// let response = test::call_service(&app, request.to_request()).await;
/// assert_eq!(response.status(), 200);
///
/// // Unsigned: 400.
/// let request = test::TestRequest::post().uri("/status").set_payload(body).to_request();
/// assert_eq!(test::call_service(&app, request).await.status(), 400);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PlivoCallback<T = ()>(pub Verified<T>);

impl<T: FromParams + 'static> FromRequest for PlivoCallback<T> {
    type Error = PlivoError;
    type Future = LocalBoxFuture<'static, Result<Self, PlivoError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let verifier = req
            .app_data::<Verifier>()
            .or_else(|| {
                req.app_data::<web::Data<Verifier>>()
                    .map(web::Data::get_ref)
            })
            .cloned();
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let verifier = verifier.ok_or(PlivoError::MissingVerifier)?;
            let bytes = body::read(req.headers(), payload, verifier.max_body_bytes()).await?;
            let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
            let headers = ActixHeaders(req.headers());
            let request = CallbackRequest::new(req.method().as_str(), target, &headers, &bytes);
            let verified = verifier.verify(&request)?;
            Ok(PlivoCallback(verified.into_typed()?))
        })
    }
}

impl<T> std::ops::Deref for PlivoCallback<T> {
    type Target = Verified<T>;

    fn deref(&self) -> &Verified<T> {
        &self.0
    }
}
