//! Test and tooling support (feature `testing`): a signer that produces the headers
//! Plivo would send, and the runner for conformance-vector files.
//!
//! ```
//! use plivo_webhook_core::{testing::Signer, CallbackRequest, Verifier};
//!
//! let signer = Signer::new("TOKEN");
//! let url = "https://example.com/api/plivo/status";
//! let signed = signer.sign_with_nonce("POST", url, b"Status=sent", "12345678901234567890");
//! assert_eq!(signed.nonce(), "12345678901234567890");
//! let verifier = Verifier::builder().token("TOKEN").build()?;
//! let headers = signed.headers();
//! verifier.check(&CallbackRequest::with_public_url("POST", url, &headers, b"Status=sent"))?;
//! # Ok::<(), plivo_webhook_core::Error>(())
//! ```

mod signer;
pub mod vectors;

pub use signer::{random_nonce, SignedHeaders, Signer};
