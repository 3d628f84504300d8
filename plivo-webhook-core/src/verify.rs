//! The verifier: tokens, URL policy and limits; and `Verified<T>`, its proof.

use std::ops::Range;
use std::sync::Arc;

use smallvec::SmallVec;

use crate::callback::FromParams;
use crate::error::{excerpt, Error};
use crate::form::{Form, MAX_FORM_BYTES};
use crate::order::Orders;
use crate::params::Params;
use crate::request::{CallbackRequest, HeaderValue, Headers};
use crate::signature::v3::{self, Method};
use crate::signature::{self, v2, HmacKey, SignatureHeader};
use crate::token::AuthToken;
use crate::url::{SignedUrl, UrlPolicy};

/// Default body limit: 64 KiB. Plivo callbacks are a few KiB (a long inbound SMS is at most
/// ~10 KiB form-encoded); a bound keeps a client from making the server buffer and hash
/// arbitrary amounts of data before the signature is known to be good.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest nonce accepted. Plivo's nonces are 20 digits.
const MAX_NONCE_BYTES: usize = 256;

/// Nonce and signature header kept inline in a [`Verified`]: a 20-digit nonce and one
/// 44-character signature fit (a header with several signatures, from several tokens,
/// goes to the heap).
const SIGNED_INLINE: usize = 72;

/// Verifies Plivo callback signatures.
///
/// Holds one or more auth tokens (rotation; subaccount and main account), the
/// [`UrlPolicy`] that rebuilds the public URL, the body limit, and whether the legacy V2
/// scheme is accepted (it is not by default). A request is accepted when any signature
/// entry of `X-Plivo-Signature-V3` or `X-Plivo-Signature-Ma-V3` matches under any token.
///
/// ```
/// use plivo_webhook_core::{testing::Signer, CallbackRequest, Verifier};
///
/// let verifier = Verifier::builder()
///     .token("MY_AUTH_TOKEN")
///     .public_base_url("https://example.com")
///     .build()?;
///
/// // What Plivo would send (the signer is for tests; Plivo signs real callbacks).
/// let body = b"From=14155550100&To=14155550123&Status=delivered&MessageUUID=7a1f";
/// let signed = Signer::new("MY_AUTH_TOKEN").sign("POST", "https://example.com/api/plivo/status", body);
/// let headers = signed.headers();
///
/// // The server sees only the path; the verifier's URL policy supplies the public base.
/// let request = CallbackRequest::new("POST", "/api/plivo/status", &headers, body);
/// let verified = verifier.verify(&request)?;
/// assert_eq!(verified.params().get("Status"), Some("delivered"));
///
/// // Anything else is rejected with the status to answer.
/// let forged = CallbackRequest::new("POST", "/api/plivo/status", &headers, b"Status=failed");
/// assert_eq!(verifier.verify(&forged).unwrap_err().status(), 403);
/// # Ok::<(), plivo_webhook_core::Error>(())
/// ```
///
/// Cloning is cheap (a reference count), so a verifier can live in application state.
/// Build one per endpoint and share it: besides the keyed HMAC states of its tokens, it
/// remembers the order in which the last callback of each size was sorted, which spares
/// the next callback of the same kind most of its sorting.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    keys: Vec<HmacKey>,
    url: UrlPolicy,
    accept_v2: bool,
    diagnose: bool,
    max_body_bytes: usize,
    /// The order the last callback of each size was sorted in (see [`Orders`]).
    orders: Orders,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("tokens", &format_args!("[{} x ***]", self.inner.keys.len()))
            .field("url", &self.inner.url)
            .field("accept_v2", &self.inner.accept_v2)
            .field("diagnose", &self.inner.diagnose)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish()
    }
}

/// Builds a [`Verifier`]. Every setting documents its default and its consequence.
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    tokens: Vec<AuthToken>,
    url: Result<UrlPolicy, Error>,
    accept_v2: bool,
    diagnose: bool,
    max_body_bytes: usize,
    error: Option<Error>,
}

impl Verifier {
    /// Starts a builder: no token, no URL policy, V3 only, 64 KiB body limit.
    #[must_use]
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder {
            tokens: Vec::new(),
            url: Ok(UrlPolicy::unset()),
            accept_v2: false,
            diagnose: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            error: None,
        }
    }

    /// The body limit in bytes; adapters stop reading a body past it.
    #[must_use]
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// The URL policy.
    #[must_use]
    pub fn url_policy(&self) -> &UrlPolicy {
        &self.inner.url
    }

    /// Checks the request and returns which header and token matched, or why it failed.
    ///
    /// This is the whole verification, without decoding parameters into owned strings:
    /// for an ASCII callback of up to 32 parameters it does not allocate.
    ///
    /// # Errors
    /// See [`Error`]; [`Error::status`] gives the HTTP status to answer.
    pub fn check(&self, request: &CallbackRequest<'_>) -> Result<SignatureMatch, Error> {
        self.check_bare(request)
            .map_err(|err| self.with_diagnosis(err, request))
    }

    /// The header and token that match, without diagnosing a failure.
    pub(crate) fn check_bare(
        &self,
        request: &CallbackRequest<'_>,
    ) -> Result<SignatureMatch, Error> {
        let mut query = Form::default();
        let mut params = Form::default();
        self.authenticate(request, &mut query, &mut params, None)
            .map(|checked| checked.matched)
    }

    fn with_diagnosis(&self, err: Error, request: &CallbackRequest<'_>) -> Error {
        match err {
            Error::SignatureMismatch {
                header,
                diagnosis: None,
            } if self.inner.diagnose => Error::SignatureMismatch {
                header,
                diagnosis: Some(Box::new(crate::diagnose(self, request))),
            },
            other => other,
        }
    }

    /// The header-only part of verification: a signature header that this verifier
    /// accepts is present once and well formed, with its nonce. Useful where the body is
    /// not available yet (routing guards); it proves nothing about authenticity.
    ///
    /// # Errors
    /// [`Error::MissingHeader`], [`Error::DuplicateHeader`], [`Error::MalformedHeader`] or
    /// [`Error::V2NotAccepted`].
    pub fn check_headers(&self, headers: &dyn Headers) -> Result<SignatureHeader, Error> {
        let request = CallbackRequest::with_public_url("POST", "", headers, b"");
        if let Some(header) = present(&request, signature::V3, SignatureHeader::V3)?.or(present(
            &request,
            signature::MA_V3,
            SignatureHeader::MaV3,
        )?) {
            nonce(&request, signature::V3_NONCE)?;
            return Ok(header);
        }
        match present(&request, signature::V2, SignatureHeader::V2)?.or(present(
            &request,
            signature::MA_V2,
            SignatureHeader::MaV2,
        )?) {
            Some(_) if !self.inner.accept_v2 => Err(Error::V2NotAccepted),
            Some(header) => nonce(&request, signature::V2_NONCE).map(|_| header),
            None => Err(Error::MissingHeader {
                name: signature::V3,
            }),
        }
    }

    /// Verifies the request and returns its decoded parameters, proven authentic.
    ///
    /// Cost: two allocations (the parameters' text and their positions), made once the
    /// signature matched, and a third when the nonce and the matching header together
    /// pass 72 bytes (a header listing several signatures): a request that fails
    /// allocates no more than with [`Verifier::check`], which allocates nothing for an
    /// ASCII callback. A POST's
    /// parameters are decoded once: their text is copied from the buffer in which they
    /// were hashed.
    ///
    /// # Errors
    /// See [`Error`]; [`Error::status`] gives the HTTP status to answer.
    pub fn verify(&self, request: &CallbackRequest<'_>) -> Result<Verified, Error> {
        let mut query = Form::default();
        let mut params = Form::default();
        let mut body = None;
        let checked = self
            .authenticate(request, &mut query, &mut params, Some(&mut body))
            .map_err(|err| self.with_diagnosis(err, request))?;
        let (params, query) = match checked.method {
            Method::Get => (Params::from_sorted(&query), Params::default()),
            Method::Post => (
                body.unwrap_or_else(|| Params::from_sorted(&params)),
                Params::from_sorted(&query),
            ),
        };
        // The nonce and the matching header, kept together as bytes (inline for one
        // signature): the replay key is computed from them only when asked for, and the
        // nonce read as text only when asked for.
        let mut signed = NonceAndHeader(SmallVec::new());
        signed.0.extend_from_slice(checked.nonce);
        signed.0.extend_from_slice(checked.header_value);
        Ok(Verified {
            callback: (),
            params,
            query,
            signed,
            nonce_len: checked.nonce.len(),
            matched: checked.matched,
        })
    }

    /// Verifies the request and parses it as a `T` ([`crate::MessageStatus`], ...).
    ///
    /// # Errors
    /// As [`Verifier::verify`], plus [`Error::MissingField`] (422) for an authentic
    /// callback that is not a `T`. To keep such callbacks (dead-lettering), call
    /// [`Verifier::verify`] and then [`Verified::parse`].
    pub fn verify_as<T: FromParams>(
        &self,
        request: &CallbackRequest<'_>,
    ) -> Result<Verified<T>, Error> {
        self.verify(request)?.into_typed()
    }

    /// Verifies into caller-owned pair buffers (kept on the caller's stack, not moved).
    ///
    /// With `body`, the V3 path gives a POST's parameters as an owned [`Params`] once the
    /// signature matched, copied from the buffer in which they were hashed (decoded anew
    /// only when they did not fit in it).
    fn authenticate<'r>(
        &'r self,
        request: &CallbackRequest<'r>,
        query: &mut Form<'r>,
        params: &mut Form<'r>,
        body: Option<&mut Option<Params>>,
    ) -> Result<Checked<'r>, Error> {
        let method = match request.method {
            "POST" => Method::Post,
            "GET" => Method::Get,
            other => {
                return Err(Error::UnsupportedMethod {
                    method: excerpt(other.as_bytes(), 16),
                })
            }
        };
        if request.body.len() > self.inner.max_body_bytes {
            return Err(Error::BodyTooLarge {
                limit: self.inner.max_body_bytes,
            });
        }
        let v3 = single(request, signature::V3)?;
        let ma_v3 = single(request, signature::MA_V3)?;
        if v3.is_none() && ma_v3.is_none() {
            return self.authenticate_v2(request, method, query, params);
        }
        let nonce = nonce(request, signature::V3_NONCE)?;
        check_content_type(request, method)?;
        let url = self.inner.url.resolve(request.target, request.headers)?;
        decode_sorted(
            &url,
            method,
            request.body,
            query,
            params,
            &self.inner.orders,
        );
        let signed = Signed {
            method,
            query,
            nonce,
            v3,
            ma_v3,
        };
        let mut buf = [0; std::mem::size_of::<signature::MacBuffer>()];
        // A POST's parameters, when wanted: where they end in `buf` is noted while they are
        // hashed.
        let body = body.filter(|_| method == Method::Post);
        let mut ends = signature::PairEnds::new();
        let noted = body.is_some().then_some(&mut ends);
        match self.match_v3(request, &url, &signed, params, &mut buf, noted) {
            Some((matched, hashed)) => {
                if let Some(body) = body.filter(|_| !params.is_empty()) {
                    *body = Some(match hashed.and_then(|range| buf.get(range)) {
                        Some(text) => Params::from_joined(text, &ends, params),
                        None => Params::from_sorted(params),
                    });
                }
                Ok(Checked {
                    method,
                    nonce,
                    header_value: match matched.header {
                        SignatureHeader::MaV3 => ma_v3,
                        _ => v3,
                    }
                    .unwrap_or_default(),
                    matched,
                })
            }
            None => Err(Error::SignatureMismatch {
                header: if v3.is_some() {
                    signature::V3
                } else {
                    signature::MA_V3
                },
                diagnosis: None,
            }),
        }
    }

    /// The header and token whose signature matches, trying the bare root too (see
    /// [`bare_root`]), and where in `buf` the parameters were hashed, if they still lie
    /// there whole.
    fn match_v3(
        &self,
        request: &CallbackRequest<'_>,
        url: &SignedUrl<'_>,
        signed: &Signed<'_, '_>,
        params: &Form<'_>,
        buf: &mut signature::MacBuffer,
        mut ends: Option<&mut signature::PairEnds>,
    ) -> Option<(SignatureMatch, Option<Range<usize>>)> {
        self.match_v3_at(url, signed, params, buf, ends.as_deref_mut())
            .or_else(|| {
                let bare = bare_root(request, url)?;
                self.match_v3_at(&bare, signed, params, buf, ends)
            })
    }

    fn match_v3_at(
        &self,
        url: &SignedUrl<'_>,
        signed: &Signed<'_, '_>,
        params: &Form<'_>,
        buf: &mut signature::MacBuffer,
        mut ends: Option<&mut signature::PairEnds>,
    ) -> Option<(SignatureMatch, Option<Range<usize>>)> {
        let Signed {
            method,
            query,
            nonce,
            v3,
            ma_v3,
        } = *signed;
        for (token_index, key) in self.inner.keys.iter().enumerate() {
            let mut mac = signature::BufferedMac::new(key, buf);
            if let Some(ends) = ends.as_deref_mut() {
                mac.note_pairs(ends);
            }
            v3::feed(url, method, query, params, nonce, &mut mac);
            let hashed = mac.form_at();
            let expected = mac.finish();
            for (header, value) in [(SignatureHeader::V3, v3), (SignatureHeader::MaV3, ma_v3)] {
                if let Some(value) = value {
                    if signature::any_entry_matches(value, &expected) {
                        let matched = SignatureMatch {
                            header,
                            token_index,
                        };
                        return Some((matched, hashed));
                    }
                }
            }
        }
        None
    }

    fn authenticate_v2<'r>(
        &'r self,
        request: &CallbackRequest<'r>,
        method: Method,
        query: &mut Form<'r>,
        params: &mut Form<'r>,
    ) -> Result<Checked<'r>, Error> {
        let v2 = single(request, signature::V2)?;
        let ma_v2 = single(request, signature::MA_V2)?;
        if v2.is_none() && ma_v2.is_none() {
            return Err(Error::MissingHeader {
                name: signature::V3,
            });
        }
        if !self.inner.accept_v2 {
            return Err(Error::V2NotAccepted);
        }
        let nonce = nonce(request, signature::V2_NONCE)?;
        check_content_type(request, method)?;
        let url = self.inner.url.resolve(request.target, request.headers)?;
        let bare = bare_root(request, &url);
        let variants = std::iter::once(&url).chain(bare.as_ref());
        let mut buf = [0; std::mem::size_of::<signature::MacBuffer>()];
        for (url, (token_index, key)) in
            variants.flat_map(|url| self.inner.keys.iter().enumerate().map(move |k| (url, k)))
        {
            let mut mac = signature::BufferedMac::new(key, &mut buf);
            v2::feed(url, nonce, &mut mac);
            let expected = mac.finish();
            for (header, value) in [(SignatureHeader::V2, v2), (SignatureHeader::MaV2, ma_v2)] {
                // V2 headers are compared whole: no SDK splits them on commas.
                if let Some(value) = value.filter(|value| signature::matches(value, &expected)) {
                    decode_sorted(url, method, request.body, query, params, &self.inner.orders);
                    return Ok(Checked {
                        method,
                        nonce,
                        header_value: value,
                        matched: SignatureMatch {
                            header,
                            token_index,
                        },
                    });
                }
            }
        }
        Err(Error::SignatureMismatch {
            header: if v2.is_some() {
                signature::V2
            } else {
                signature::MA_V2
            },
            diagnosis: None,
        })
    }
}

impl VerifierBuilder {
    /// Adds an auth token. Call it several times (or use [`VerifierBuilder::tokens`]) to
    /// accept the old and new token during rotation, or a subaccount's and the main
    /// account's (which signs `X-Plivo-Signature-Ma-V3`). Each token costs one HMAC per
    /// request.
    #[must_use]
    pub fn token(mut self, token: impl AsRef<str>) -> Self {
        match AuthToken::new(token.as_ref()) {
            Ok(token) => self.tokens.push(token),
            Err(err) => self.error = self.error.or(Some(err)),
        }
        self
    }

    /// Adds auth tokens.
    #[must_use]
    pub fn tokens(mut self, tokens: impl IntoIterator<Item = AuthToken>) -> Self {
        self.tokens.extend(tokens);
        self
    }

    /// Sets the public base URL Plivo calls (`APP_BASE_URL`, e.g. `https://example.com`):
    /// each request's path and query are joined to it. Forwarded headers are ignored.
    /// This is the recommended policy.
    #[must_use]
    pub fn public_base_url(mut self, base: &str) -> Self {
        self.url = UrlPolicy::public_base(base);
        self
    }

    /// Sets the URL policy. Default: unset, so only requests built with
    /// [`CallbackRequest::with_public_url`] verify.
    #[must_use]
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.url = Ok(policy);
        self
    }

    /// Sets the body limit in bytes. Default [`DEFAULT_MAX_BODY_BYTES`] (64 KiB); at most
    /// 1 GiB (`build` rejects more).
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Also accepts the legacy V2 scheme when a request carries no V3 header.
    ///
    /// Security: V2 signs only `scheme://host/path` and the nonce. Anyone who sees one V2
    /// request can replay its headers with any body and query. A request that carries a
    /// V3 header is always judged by V3 alone, never by V2.
    #[must_use]
    pub fn dangerous_accept_v2(mut self) -> Self {
        self.accept_v2 = true;
        self
    }

    /// Attaches a [`crate::Diagnosis`] to every signature mismatch
    /// ([`Error::diagnosis`]), for logs and dashboards. Default: off.
    ///
    /// Cost: a mismatching request costs up to 16 extra HMACs per token, which a flood of
    /// forged requests can make you pay; the diagnosis never reaches `Display`, so it is
    /// not sent in responses.
    #[must_use]
    pub fn diagnose_mismatches(mut self) -> Self {
        self.diagnose = true;
        self
    }

    /// Builds the verifier.
    ///
    /// # Errors
    /// [`Error::Config`] when no token was given or a token is invalid;
    /// [`Error::InvalidUrl`] for an invalid public base URL.
    pub fn build(self) -> Result<Verifier, Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let url = self.url?;
        if self.tokens.is_empty() {
            return Err(Error::Config {
                reason: "no auth token: add at least one with VerifierBuilder::token",
            });
        }
        if self.max_body_bytes == 0 || self.max_body_bytes > MAX_FORM_BYTES {
            return Err(Error::Config {
                reason: "the body limit must be between 1 byte and 1 GiB",
            });
        }
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys: self
                    .tokens
                    .iter()
                    .map(|token| HmacKey::new(token.expose_secret().as_bytes()))
                    .collect(),
                url,
                accept_v2: self.accept_v2,
                diagnose: self.diagnose,
                max_body_bytes: self.max_body_bytes,
                orders: Orders::default(),
            }),
        })
    }
}

/// Which header and which token authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignatureMatch {
    /// The header whose signature matched.
    pub header: SignatureHeader,
    /// The index of the matching token, in the order they were added.
    pub token_index: usize,
}

/// What a V3 signature covers besides the URL and the form parameters, and the headers
/// it is compared with.
#[derive(Clone, Copy)]
struct Signed<'f, 'r> {
    method: Method,
    query: &'f Form<'r>,
    nonce: &'r [u8],
    v3: Option<&'r [u8]>,
    ma_v3: Option<&'r [u8]>,
}

struct Checked<'r> {
    method: Method,
    nonce: &'r [u8],
    /// The whole value of the header that matched (for the replay key).
    header_value: &'r [u8],
    matched: SignatureMatch,
}

/// Decodes the URL's query and (for a POST) the body into the pair buffers, sorted as
/// signed. The signature is computed from these pairs and `Verified` is built from them:
/// the form is decoded once.
fn decode_sorted<'r>(
    url: &SignedUrl<'r>,
    method: Method,
    body: &'r [u8],
    query: &mut Form<'r>,
    params: &mut Form<'r>,
    orders: &Orders,
) {
    if let Some(raw) = url.query {
        query.fill(raw.as_bytes());
        query.sort_remembering(orders);
    }
    if method == Method::Post {
        params.fill(body);
        params.sort_remembering(orders);
    }
}

/// A request for `/` cannot tell whether Plivo was configured with `https://host/` or
/// `https://host` (no path), which the SDKs sign differently. When the URL was resolved
/// from a received request for exactly `/`, the bare form is tried too.
fn bare_root<'a>(request: &CallbackRequest<'_>, url: &SignedUrl<'a>) -> Option<SignedUrl<'a>> {
    let received = matches!(request.target, crate::request::Target::Received(_));
    (received && url.path == "/" && url.prefix.is_empty()).then_some(SignedUrl { path: "", ..*url })
}

fn present(
    request: &CallbackRequest<'_>,
    name: &'static str,
    header: SignatureHeader,
) -> Result<Option<SignatureHeader>, Error> {
    Ok(single(request, name)?.map(|_| header))
}

fn single<'r>(
    request: &CallbackRequest<'r>,
    name: &'static str,
) -> Result<Option<&'r [u8]>, Error> {
    match request.headers.header(name) {
        HeaderValue::Absent => Ok(None),
        HeaderValue::Many => Err(Error::DuplicateHeader { name }),
        HeaderValue::One(value) => {
            // Folded without stopping early, so that it runs 16 bytes at a time.
            if value
                .iter()
                .fold(true, |ok, &b| ok & (0x20..0x7f).contains(&b))
            {
                Ok(Some(value))
            } else {
                Err(Error::MalformedHeader {
                    name,
                    reason: "expected base64 signatures separated by commas (visible ASCII)",
                })
            }
        }
    }
}

fn nonce<'r>(request: &CallbackRequest<'r>, name: &'static str) -> Result<&'r [u8], Error> {
    match request.headers.header(name) {
        HeaderValue::Absent => Err(Error::MissingHeader { name }),
        HeaderValue::Many => Err(Error::DuplicateHeader { name }),
        HeaderValue::One(value) => {
            let graphic = value.iter().fold(true, |ok, b| ok & b.is_ascii_graphic());
            if value.len() > MAX_NONCE_BYTES || !graphic {
                Err(Error::MalformedHeader {
                    name,
                    reason: "the nonce must be at most 256 visible ASCII characters",
                })
            } else {
                Ok(value)
            }
        }
    }
}

/// A POST with a body must be form-encoded: that is all Plivo sends, and the only body
/// the signature covers.
fn check_content_type(request: &CallbackRequest<'_>, method: Method) -> Result<(), Error> {
    if method == Method::Get || request.body.is_empty() {
        return Ok(());
    }
    const FORM: &[u8] = b"application/x-www-form-urlencoded";
    match request.headers.header("Content-Type") {
        HeaderValue::One(value) => {
            // Most senders (Plivo included) send exactly the media type.
            if value == FORM {
                return Ok(());
            }
            let media = value.split(|&b| b == b';').next().unwrap_or_default();
            let media = media.trim_ascii();
            if media.eq_ignore_ascii_case(FORM) {
                Ok(())
            } else {
                Err(Error::UnsupportedContentType {
                    found: excerpt(value, 64),
                })
            }
        }
        HeaderValue::Absent => Err(Error::UnsupportedContentType {
            found: String::new(),
        }),
        HeaderValue::Many => Err(Error::DuplicateHeader {
            name: "Content-Type",
        }),
    }
}

/// The nonce, then the value of the signature header that matched, back to back: both
/// visible ASCII (checked before hashing), kept as bytes so that `verify` converts
/// nothing it is not asked for. Shown as text by `Debug`.
#[derive(Clone)]
struct NonceAndHeader(SmallVec<[u8; SIGNED_INLINE]>);

impl std::fmt::Debug for NonceAndHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&String::from_utf8_lossy(&self.0), f)
    }
}

/// A callback whose signature was verified, with its decoded parameters and, once parsed,
/// its typed form `T` ([`crate::MessageStatus`], [`crate::InboundMessage`],
/// [`crate::VoiceCallback`]). Only a [`Verifier`] can make one, so a handler that takes a
/// `Verified<T>` cannot forget to verify.
///
/// `Verified` (that is, `Verified<()>`) holds the parameters only.
#[derive(Debug, Clone)]
pub struct Verified<T = ()> {
    callback: T,
    params: Params,
    query: Params,
    /// The nonce, then the value of the signature header that matched.
    signed: NonceAndHeader,
    nonce_len: usize,
    matched: SignatureMatch,
}

impl<T> Verified<T> {
    /// The typed callback.
    pub fn callback(&self) -> &T {
        &self.callback
    }

    /// The typed callback, consuming the proof.
    pub fn into_callback(self) -> T {
        self.callback
    }

    /// The signed parameters: the form body of a POST, the query of a GET.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// For a POST, the parameters of the URL's own query (also signed); empty for a GET.
    pub fn query(&self) -> &Params {
        &self.query
    }

    /// The nonce (`X-Plivo-Signature-V3-Nonce`), for replay detection.
    pub fn nonce(&self) -> &str {
        // Visible ASCII (checked), so the conversion never fails.
        let nonce = self.signed.0.get(..self.nonce_len).unwrap_or_default();
        std::str::from_utf8(nonce).unwrap_or_default()
    }

    /// A digest of the nonce and the signature header that matched: the same for a
    /// replay of this request. For a [`crate::NonceStore`]. Computed on each call (one
    /// SHA-256 of about 70 bytes), so that verifications that do not need it do not pay.
    #[must_use]
    pub fn replay_key(&self) -> [u8; 32] {
        use sha2::Digest;
        let signed = &self.signed.0;
        let (nonce, header) = signed.split_at(self.nonce_len.min(signed.len()));
        let mut hash = sha2::Sha256::new();
        hash.update(nonce);
        hash.update([0]);
        hash.update(header);
        hash.finalize().into()
    }

    /// Which header and token matched.
    pub fn signature(&self) -> SignatureMatch {
        self.matched
    }

    /// Splits into the typed callback and the parameters.
    pub fn into_parts(self) -> (T, Params) {
        (self.callback, self.params)
    }
}

impl Verified {
    /// Parses the parameters as a `T`, keeping this proof (for dead-lettering on error).
    ///
    /// # Errors
    /// [`Error::MissingField`] when a field that `T` requires is absent or empty.
    pub fn parse<T: FromParams>(&self) -> Result<T, Error> {
        T::from_params(&self.params)
    }

    /// Parses the parameters as a `T` and carries them on in a `Verified<T>`.
    ///
    /// # Errors
    /// As [`Verified::parse`].
    pub fn into_typed<T: FromParams>(self) -> Result<Verified<T>, Error> {
        let callback = T::from_params(&self.params)?;
        Ok(Verified {
            callback,
            params: self.params,
            query: self.query,
            signed: self.signed,
            nonce_len: self.nonce_len,
            matched: self.matched,
        })
    }
}

impl<T> std::ops::Deref for Verified<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.callback
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_content_type_is_compared_without_case_or_parameters() {
        let check = |value: &str| {
            let headers = [("Content-Type", value)];
            let request = CallbackRequest::new("POST", "/", &headers, b"a=1");
            check_content_type(&request, Method::Post).is_ok()
        };
        assert!(check("application/x-www-form-urlencoded"));
        assert!(check("Application/X-WWW-Form-Urlencoded; charset=UTF-8"));
        assert!(check(" application/x-www-form-urlencoded ;charset=utf-8"));
        assert!(!check("application/x-www-form-urlencoded2"));
        assert!(!check("text/plain"));
        assert!(!check(""));
    }

    #[test]
    fn the_body_limit_is_checked_when_building() {
        let build = |limit| {
            Verifier::builder()
                .token("TOKEN")
                .max_body_bytes(limit)
                .build()
        };
        assert!(matches!(build(0), Err(Error::Config { .. })));
        assert!(matches!(
            build(MAX_FORM_BYTES + 1),
            Err(Error::Config { .. })
        ));
        assert_eq!(
            build(MAX_FORM_BYTES).unwrap().max_body_bytes(),
            MAX_FORM_BYTES
        );
        assert!(matches!(
            Verifier::builder().build(),
            Err(Error::Config { .. })
        ));
    }
}
