//! Guards for what guards can do: route only requests that carry Plivo's signature
//! headers.
//!
//! An actix guard sees the request head only, runs synchronously and, when it fails,
//! makes the router try the next route and finally answer 404. So a guard **cannot
//! verify a signature** (the signature covers the body) and should not be used to reject:
//! use it to send signed requests to the callback handler and everything else elsewhere
//! (for example an unsigned `GET` to a health check). The [`crate::PlivoCallback`]
//! extractor in the handler verifies the signature.
//!
//! ```
//! use actix_web::{test, web, App, HttpResponse};
//! use plivo_webhook_actix::{guard::PlivoSigned, PlivoCallback};
//! use plivo_webhook_core::Verifier;
//!
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder().token("TOKEN").public_base_url("https://example.com").build()?;
//! let app = test::init_service(
//!     App::new().app_data(verifier).service(
//!         web::resource("/status")
//!             .route(web::get().guard(PlivoSigned).to(|_: PlivoCallback| async { HttpResponse::Ok() }))
//!             .route(web::get().to(|| async { HttpResponse::Ok().body("healthy") })),
//!     ),
//! )
//! .await;
//! let response = test::call_service(&app, test::TestRequest::get().uri("/status").to_request()).await;
//! assert_eq!(test::read_body(response).await, "healthy");
//! # Ok(())
//! # }
//! ```

use actix_web::guard::{Guard, GuardContext};
use actix_web::web;
use plivo_webhook_core::Verifier;

use crate::body::ActixHeaders;

/// Passes requests that carry a signature header the app's verifier accepts, once and
/// well formed, with its nonce ([`Verifier::check_headers`]). Without a `Verifier` in
/// `app_data` it passes nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlivoSigned;

impl Guard for PlivoSigned {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        let headers = ctx.head().headers();
        let verifier = ctx.app_data::<Verifier>().or_else(|| {
            ctx.app_data::<web::Data<Verifier>>()
                .map(web::Data::get_ref)
        });
        verifier.is_some_and(|verifier| verifier.check_headers(&ActixHeaders(headers)).is_ok())
    }
}
