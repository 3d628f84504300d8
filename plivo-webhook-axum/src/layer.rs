//! A tower layer that verifies every request of a router.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::extract::Request;
use axum_core::response::{IntoResponse, Response};
use plivo_webhook_core::Verifier;
use tower_layer::Layer;
use tower_service::Service;

use crate::body;

/// Verifies every request before the inner service sees it.
///
/// A request that fails is answered by the layer (400, 403, 413, 415). One that passes
/// reaches the inner service with its buffered body and a [`plivo_webhook_core::Verified`]
/// in its extensions, which [`crate::PlivoCallback`] picks up without verifying again.
///
/// ```
/// use axum::{body::Body, http::Request, routing::post, Extension, Router};
/// use plivo_webhook_axum::PlivoLayer;
/// use plivo_webhook_core::{Verified, Verifier};
/// use tower::ServiceExt;
///
/// async fn any(Extension(verified): Extension<Verified>) -> String {
///     verified.params().get("Status").unwrap_or_default().to_owned()
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder().token("TOKEN").public_base_url("https://example.com").build()?;
/// let app = Router::new().route("/hook", post(any)).layer(PlivoLayer::new(verifier));
/// let response = app.oneshot(Request::post("/hook").body(Body::from("Status=sent"))?).await?;
/// assert_eq!(response.status(), 400); // unsigned
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PlivoLayer {
    verifier: Verifier,
}

impl PlivoLayer {
    /// A layer verifying with `verifier`.
    #[must_use]
    pub fn new(verifier: Verifier) -> Self {
        PlivoLayer { verifier }
    }
}

impl<S> Layer<S> for PlivoLayer {
    type Service = PlivoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PlivoService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// The service made by [`PlivoLayer`].
#[derive(Debug, Clone)]
pub struct PlivoService<S> {
    inner: S,
    verifier: Verifier,
}

impl<S> Service<Request> for PlivoService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send + 'static>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was polled ready serves this request; a fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let bytes = match body::read(&parts, body, verifier.max_body_bytes()).await {
                Ok(bytes) => bytes,
                Err(rejection) => return Ok(rejection.into_response()),
            };
            match body::verify(&verifier, &parts, &bytes) {
                Ok(verified) => {
                    parts.extensions.insert(verified);
                    inner
                        .call(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(rejection) => Ok(rejection.into_response()),
            }
        })
    }
}
