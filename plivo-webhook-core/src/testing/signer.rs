//! Signing requests as Plivo does.

use hmac::Mac;

use crate::error::Error;
use crate::signature::{self, v2, v3, v3::Method};
use crate::token::AuthToken;
use crate::url::{split, SignedUrl};

/// Signs requests with an auth token (and optionally a main-account token for the
/// `Ma` headers), as Plivo's servers do. For tests and tools; `Debug` is redacted.
#[derive(Debug, Clone)]
pub struct Signer {
    token: AuthToken,
    main_account: Option<AuthToken>,
}

/// The signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    scheme_v2: bool,
    signature: String,
    ma_signature: Option<String>,
    nonce: String,
    content_type: bool,
}

impl Signer {
    /// A signer for `token`.
    ///
    /// # Panics
    /// When the token is empty or has surrounding whitespace (a test-setup mistake).
    #[must_use]
    pub fn new(token: &str) -> Self {
        Signer {
            token: AuthToken::new(token)
                .expect("a non-empty auth token without surrounding whitespace"),
            main_account: None,
        }
    }

    /// A signer for an already validated token.
    #[must_use]
    pub fn from_token(token: AuthToken) -> Self {
        Signer {
            token,
            main_account: None,
        }
    }

    /// Also signs `X-Plivo-Signature-Ma-V3` / `-Ma-V2` with the main account's token.
    #[must_use]
    pub fn with_main_account(mut self, token: AuthToken) -> Self {
        self.main_account = Some(token);
        self
    }

    /// Signs with V3 and a random nonce. `url` is the full public URL (for GET, with
    /// the parameters in its query).
    ///
    /// # Panics
    /// When `url` is not absolute; use [`Signer::try_sign`] for untrusted input.
    #[must_use]
    pub fn sign(&self, method: &str, url: &str, body: &[u8]) -> SignedHeaders {
        self.sign_with_nonce(method, url, body, &random_nonce())
    }

    /// Signs with V3 and the given nonce.
    ///
    /// # Panics
    /// When `url` is not absolute; use [`Signer::try_sign`] for untrusted input.
    #[must_use]
    pub fn sign_with_nonce(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        nonce: &str,
    ) -> SignedHeaders {
        self.try_sign(method, url, body, nonce)
            .expect("an absolute URL")
    }

    /// Signs with V3, reporting an invalid URL as an error.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not absolute.
    pub fn try_sign(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        nonce: &str,
    ) -> Result<SignedHeaders, Error> {
        let message = self.signing_string(method, url, body, nonce)?;
        let sign = |token: &AuthToken| {
            let mut mac = token.hmac_key();
            mac.update(&message);
            String::from_utf8_lossy(&signature::finish(mac)).into_owned()
        };
        Ok(SignedHeaders {
            scheme_v2: false,
            signature: sign(&self.token),
            ma_signature: self.main_account.as_ref().map(sign),
            nonce: nonce.to_owned(),
            content_type: method != "GET" && !body.is_empty(),
        })
    }

    /// The V3 signing string (no secret in it; it is what gets HMAC'd).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not absolute.
    pub fn signing_string(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        nonce: &str,
    ) -> Result<Vec<u8>, Error> {
        let url = signed_url(url)?;
        let method = if method == "GET" {
            Method::Get
        } else {
            Method::Post
        };
        Ok(v3::signing_string(&url, method, body, nonce.as_bytes()))
    }

    /// Signs with the legacy V2 scheme (`X-Plivo-Signature-V2`).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not absolute.
    pub fn sign_v2(
        &self,
        method: &str,
        url: &str,
        body: &[u8],
        nonce: &str,
    ) -> Result<SignedHeaders, Error> {
        let url = signed_url(url)?;
        let sign = |token: &AuthToken| {
            let mut mac = token.hmac_key();
            v2::feed(&url, nonce.as_bytes(), &mut |b: &[u8]| mac.update(b));
            String::from_utf8_lossy(&signature::finish(mac)).into_owned()
        };
        Ok(SignedHeaders {
            scheme_v2: true,
            signature: sign(&self.token),
            ma_signature: self.main_account.as_ref().map(sign),
            nonce: nonce.to_owned(),
            content_type: method != "GET" && !body.is_empty(),
        })
    }
}

fn signed_url(url: &str) -> Result<SignedUrl<'_>, Error> {
    let parts = split(url)?;
    Ok(SignedUrl {
        scheme: parts.scheme,
        authority: parts.authority,
        prefix: "",
        path: parts.path,
        query: parts.query,
    })
}

impl SignedHeaders {
    /// The signature (`X-Plivo-Signature-V3`, or `-V2`).
    #[must_use]
    pub fn signature(&self) -> &str {
        &self.signature
    }

    /// The main-account signature, when the signer has a main-account token.
    #[must_use]
    pub fn ma_signature(&self) -> Option<&str> {
        self.ma_signature.as_deref()
    }

    /// The nonce.
    #[must_use]
    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The headers as `(name, value)` pairs: signature(s), nonce and, for a POST with a
    /// body, `Content-Type: application/x-www-form-urlencoded`.
    #[must_use]
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let (sig, ma, nonce) = if self.scheme_v2 {
            (signature::V2, signature::MA_V2, signature::V2_NONCE)
        } else {
            (signature::V3, signature::MA_V3, signature::V3_NONCE)
        };
        let mut headers = vec![(sig, self.signature.clone()), (nonce, self.nonce.clone())];
        if let Some(ma_signature) = &self.ma_signature {
            headers.push((ma, ma_signature.clone()));
        }
        if self.content_type {
            headers.push((
                "Content-Type",
                "application/x-www-form-urlencoded".to_owned(),
            ));
        }
        headers
    }
}

/// A random 20-digit nonce, like Plivo's.
#[must_use]
pub fn random_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let high = hasher.finish() % 10_000_000_000;
    hasher.write_u64(high);
    let low = hasher.finish() % 10_000_000_000;
    format!("{high:010}{low:010}")
}
