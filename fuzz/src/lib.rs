//! The bodies of the fuzz targets, as plain functions over bytes.
//!
//! Each `fuzz_targets/<name>.rs` calls the function of the same name; the core's
//! `tests/fuzz_corpus.rs` includes this file with `#[path]` and replays every file of
//! `fuzz/corpus/<name>/` through it on stable. So this file uses only `std` and the public
//! API of `plivo-webhook-core` (no `libfuzzer-sys`, no `arbitrary`): structured inputs are
//! read from the bytes by hand.
//!
//! Structured inputs (`verify`, `roundtrip`) are fields separated by [`SEP`] (0x1E, the
//! ASCII record separator); the last field takes the rest of the input. A missing field
//! is empty. See `fuzz/README.md` for each layout.

use plivo_webhook_core::{
    diagnose, testing::Signer, AuthToken, CallbackRequest, FromParams, InboundMessage,
    MessageStatus, Params, SignatureHeader, UrlPolicy, Verifier, VoiceCallback,
};

/// Separates the fields of a structured input.
pub const SEP: u8 = 0x1E;
/// Separates pairs in the `params` field of a `roundtrip` input.
pub const PAIR_SEP: u8 = 0x1F;
/// Separates a key from its value in the `params` field of a `roundtrip` input.
pub const KV_SEP: u8 = 0x1D;

/// A token every `verify` verifier also holds: no error text may ever contain it.
const SECRET_TOKEN: &str = "Zq8SECRETtoken4Fuzz7Kp2LmW4vT";
const FALLBACK_TOKEN: &str = "FUZZ_AUTH_TOKEN_0123456789";
const MAIN_TOKEN: &str = "FUZZ_MAIN_ACCOUNT_TOKEN_42";

/// The headers a `verify` input can set, in field order (fields 5 to 15).
pub const VERIFY_HEADERS: [&str; 11] = [
    "X-Plivo-Signature-V3",
    "X-Plivo-Signature-Ma-V3",
    "X-Plivo-Signature-V3-Nonce",
    "X-Plivo-Signature-V2",
    "X-Plivo-Signature-Ma-V2",
    "X-Plivo-Signature-V2-Nonce",
    "Content-Type",
    "Host",
    "Forwarded",
    "X-Forwarded-Proto",
    "X-Forwarded-Host",
];

/// Splits `data` into exactly `n` fields on [`SEP`] (missing fields are empty).
fn fields(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == SEP).collect();
    out.resize(n, &[]);
    out
}

fn byte(flags: &[u8], i: usize) -> u8 {
    flags.get(i).copied().unwrap_or(0)
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

fn valid_token(raw: &[u8], fallback: &str) -> String {
    let token = lossy(raw);
    if AuthToken::new(token.as_str()).is_ok() {
        token
    } else {
        fallback.to_owned()
    }
}

// ---------------------------------------------------------------------------------------
// Reference implementation (naive, written from the documented rules, not from the core).
// ---------------------------------------------------------------------------------------

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form-decodes one key or value: `+` is a space, `%XX` a byte, a bad escape stays
/// literal, then lossy UTF-8.
fn naive_text(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let pair = raw
                    .get(i + 1)
                    .and_then(|&h| hex(h))
                    .zip(raw.get(i + 2).and_then(|&l| hex(l)));
                if let Some((h, l)) = pair {
                    out.push(h << 4 | l);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Decodes form data naively: split on `&`, skip empty segments, split at the first `=`,
/// decode, sort by key then value.
pub fn naive_pairs(raw: &[u8]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = raw
        .split(|&b| b == b'&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| match segment.iter().position(|&b| b == b'=') {
            Some(eq) => (naive_text(&segment[..eq]), naive_text(&segment[eq + 1..])),
            None => (naive_text(segment), String::new()),
        })
        .collect();
    pairs.sort();
    pairs
}

/// `scheme://[userinfo@]authority path [?query] [#fragment]`, split as the SDKs do.
struct RefUrl<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
}

fn ref_split(url: &str) -> Option<RefUrl<'_>> {
    let at = url.find("://")?;
    let scheme = &url[..at];
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.');
    if !scheme_ok {
        return None;
    }
    let rest = &url[at + 3..];
    let rest = match rest.find('#') {
        Some(hash) => &rest[..hash],
        None => rest,
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let authority = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let rest = &rest[end..];
    let (path, query) = match rest.find('?') {
        Some(q) => (&rest[..q], Some(&rest[q + 1..])),
        None => (rest, None),
    };
    Some(RefUrl {
        scheme,
        authority,
        path,
        query,
    })
}

/// The V3 signing string, built naively: `base ["?" qstr] "." nonce` for a GET (and a POST
/// without parameters), `base "?" [qstr "."] pstr "." nonce` for a POST with parameters.
/// `None` when the URL is not absolute.
pub fn reference_signing_string(
    method: &str,
    url: &str,
    body: &[u8],
    nonce: &[u8],
) -> Option<Vec<u8>> {
    let url = ref_split(url)?;
    let query = url
        .query
        .map(|q| naive_pairs(q.as_bytes()))
        .unwrap_or_default();
    let params = if method == "GET" {
        Vec::new()
    } else {
        naive_pairs(body)
    };
    let mut out = Vec::new();
    out.extend_from_slice(url.scheme.as_bytes());
    out.extend_from_slice(b"://");
    out.extend_from_slice(url.authority.as_bytes());
    out.extend_from_slice(url.path.as_bytes());
    if !query.is_empty() || !params.is_empty() {
        out.push(b'?');
    }
    let qstr: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.extend_from_slice(qstr.join("&").as_bytes());
    if !query.is_empty() && !params.is_empty() {
        out.push(b'.');
    }
    for (k, v) in &params {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out.push(b'.');
    out.extend_from_slice(nonce);
    Some(out)
}

// ---------------------------------------------------------------------------------------
// form_decode
// ---------------------------------------------------------------------------------------

/// `Params::decode` on arbitrary bytes: sorted, equal to the naive decoding, stable under
/// `to_form` then `decode`, and `get` / `get_all` agree with the pairs.
pub fn form_decode(data: &[u8]) {
    let params = Params::decode(data);
    let pairs: Vec<(&str, &str)> = params.iter().collect();
    assert_eq!(pairs.len(), params.len());
    assert_eq!(params.is_empty(), pairs.is_empty());
    assert!(
        pairs.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by (key, value): {pairs:?}"
    );
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|&(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(owned, naive_pairs(data), "differs from the naive decoding");

    let form = params.to_form();
    assert!(form.is_ascii());
    assert_eq!(Params::decode(form.as_bytes()), params, "to_form: {form:?}");
    let collected: Params = pairs.iter().copied().collect();
    assert_eq!(collected, params);

    for (i, &(key, value)) in pairs.iter().enumerate() {
        if i > 0 && pairs[i - 1].0 == key {
            continue;
        }
        assert_eq!(params.get(key), Some(value));
        let all: Vec<&str> = params.get_all(key).collect();
        let expected: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| *k == key)
            .map(|&(_, v)| v)
            .collect();
        assert_eq!(all, expected);
    }
    let absent = format!("{}\u{1}", pairs.last().map_or("", |p| p.0));
    assert_eq!(params.get(&absent), None);
    assert_eq!(params.clone().into_vec(), owned);
}

// ---------------------------------------------------------------------------------------
// parse_callback
// ---------------------------------------------------------------------------------------

/// The value a typed callback holds for a required field is the one `Params::get`
/// returns: the first in sorted order when a key is repeated (the others go to `extra`).
fn check_required(params: &Params, key: &str, typed: &str) {
    assert!(!typed.is_empty(), "required field {key} is empty");
    assert_eq!(params.get(key), Some(typed), "{key}");
}

/// `from_params` of every callback type on decoded arbitrary bytes: never panics; when
/// it succeeds, the required fields are those of the parameters.
pub fn parse_callback(data: &[u8]) {
    let params = Params::decode(data);
    if let Ok(status) = MessageStatus::from_params(&params) {
        check_required(&params, "MessageUUID", &status.message_uuid);
        check_required(&params, "From", &status.from);
        check_required(&params, "To", &status.to);
        check_required(&params, "Status", status.status.as_str());
        let _ = status.parts();
        if let Some(code) = &status.error_code {
            let _ = (code.code(), code.description(), code.resend_may_help());
        }
        for amount in [&status.total_rate, &status.total_amount]
            .into_iter()
            .flatten()
        {
            let _ = (amount.micros(), amount.to_string());
        }
        let times = [
            &status.message_time,
            &status.queued_time,
            &status.sent_time,
            &status.delivery_report_time,
            &status.conversation_expiration,
        ];
        for time in times.into_iter().flatten() {
            let _ = (time.unix_micros(), time.raw());
        }
        let _ = status.message_type.as_ref().map(|t| t.as_str().to_owned());
    }
    if let Ok(inbound) = InboundMessage::from_params(&params) {
        check_required(&params, "MessageUUID", &inbound.message_uuid);
        check_required(&params, "From", &inbound.from);
        check_required(&params, "To", &inbound.to);
        let _ = inbound.content();
        assert!(inbound.media.windows(2).all(|w| w[0].index <= w[1].index));
        for media in &inbound.media {
            assert!(!media.url.is_empty());
        }
        for amount in [&inbound.total_rate, &inbound.total_amount]
            .into_iter()
            .flatten()
        {
            let _ = amount.micros();
        }
        if let Some(code) = &inbound.error_code {
            let _ = (code.code(), code.description());
        }
    }
    if let Ok(voice) = VoiceCallback::from_params(&params) {
        check_required(&params, "CallUUID", &voice.call_uuid);
        let _ = voice.is_hangup();
        if let Some(cost) = &voice.total_cost {
            let _ = cost.micros();
        }
        for time in [&voice.start_time, &voice.answer_time, &voice.end_time]
            .into_iter()
            .flatten()
        {
            let _ = time.unix_micros();
        }
    }
}

// ---------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------

/// Arbitrary method, request target, headers and body through `Verifier::check`,
/// `Verifier::verify` and `diagnose` under every URL policy: never panics, and the three
/// agree; a verified POST carries exactly the decoded body; no error text carries a token.
///
/// Fields: `flags` (byte 0: bit 0 diagnose mismatches, bit 1 accept V2, bit 2 a body
/// limit of `flags[1] + 1` bytes), `method`, `token`, `base` (for the public-base policy),
/// `target` (request target; also used as the full public URL), the 11 headers of
/// [`VERIFY_HEADERS`] (empty field: absent; else the first byte is `*` for a duplicated
/// header or anything else for one, and the rest is the value), then the body.
pub fn verify(data: &[u8]) {
    let f = fields(data, 5 + VERIFY_HEADERS.len() + 1);
    let flags = f[0];
    let method = lossy(f[1]);
    let token = valid_token(f[2], FALLBACK_TOKEN);
    let base = lossy(f[3]);
    let target = lossy(f[4]);
    let body = f[5 + VERIFY_HEADERS.len()];
    let mut headers: Vec<(&str, &[u8])> = Vec::new();
    for (name, field) in VERIFY_HEADERS.iter().zip(&f[5..5 + VERIFY_HEADERS.len()]) {
        if let Some((&mode, value)) = field.split_first() {
            headers.push((name, value));
            if mode == b'*' {
                headers.push((name, value));
            }
        }
    }
    let secret_in_input = contains(data, SECRET_TOKEN.as_bytes());
    let options = byte(flags, 0);
    let base_policy = UrlPolicy::public_base(&base)
        .or_else(|_| UrlPolicy::public_base("https://example.com"))
        .expect("a valid fallback base");
    let policies = [
        base_policy,
        UrlPolicy::trusted_proxy(),
        UrlPolicy::direct(true),
        UrlPolicy::direct(false),
        UrlPolicy::unset(),
    ];
    for policy in policies {
        let mut builder = Verifier::builder()
            .token(&token)
            .token(SECRET_TOKEN)
            .url_policy(policy);
        if options & 1 != 0 {
            builder = builder.diagnose_mismatches();
        }
        if options & 2 != 0 {
            builder = builder.dangerous_accept_v2();
        }
        if options & 4 != 0 {
            builder = builder.max_body_bytes(usize::from(byte(flags, 1)) + 1);
        }
        let verifier = builder.build().expect("valid tokens and body limit");
        let received = CallbackRequest::new(&method, &target, &headers, body);
        check_request(&verifier, &received, secret_in_input);
        let public = CallbackRequest::with_public_url(&method, &target, &headers, body);
        check_request(&verifier, &public, secret_in_input);
    }
}

fn check_request(verifier: &Verifier, request: &CallbackRequest<'_>, secret_in_input: bool) {
    let checked = verifier.check(request);
    let verified = verifier.verify(request);
    let diagnosis = diagnose(verifier, request);
    assert_eq!(checked.is_ok(), verified.is_ok());
    assert_eq!(diagnosis.is_valid(), verified.is_ok(), "{diagnosis:?}");
    let diagnosis_text = format!("{diagnosis} {diagnosis:?}");
    match (verified, checked) {
        (Ok(verified), Ok(matched)) => {
            assert_eq!(verified.signature(), matched);
            assert!(verified
                .nonce()
                .bytes()
                .all(|b| b.is_ascii_graphic() || b == b'?'));
            if request.method() == "POST" {
                assert_eq!(verified.params(), &Params::decode(request.body()));
            } else {
                assert!(verified.query().is_empty());
            }
            let _ = verified.parse::<MessageStatus>();
            let _ = verified.parse::<InboundMessage>();
            let _ = verified.parse::<VoiceCallback>();
        }
        (Err(err), Err(_)) => {
            assert!((400..600).contains(&err.status()), "{err:?}");
            let _ = err.reason();
            let text = format!("{err} {err:?} {diagnosis_text}");
            if !secret_in_input {
                assert!(
                    !text.contains(SECRET_TOKEN),
                    "an error shows a token: {text}"
                );
            }
        }
        _ => unreachable!("check and verify disagree"),
    }
}

// ---------------------------------------------------------------------------------------
// roundtrip
// ---------------------------------------------------------------------------------------

/// How a `roundtrip` input encodes its parameters (flags byte 1).
#[derive(Debug, Clone, Copy)]
struct Style(u8);

impl Style {
    const PLUS_SPACE: u8 = 1;
    const LOWER_HEX: u8 = 2;
    const ENCODE_ALL: u8 = 4;
    const RAW_HIGH: u8 = 8;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    /// Encodes `text` so that form decoding gives it back (`in_url`: only ASCII, no `#`).
    fn encode(self, text: &[u8], in_url: bool, out: &mut Vec<u8>) {
        const UPPER: &[u8; 16] = b"0123456789ABCDEF";
        const LOWER: &[u8; 16] = b"0123456789abcdef";
        let digits = if self.has(Self::LOWER_HEX) {
            LOWER
        } else {
            UPPER
        };
        for &b in text {
            let must = matches!(b, b'&' | b'=' | b'+' | b'%' | b'#')
                || b < 0x21
                || b == 0x7f
                || (b >= 0x80 && (in_url || !self.has(Self::RAW_HIGH)));
            if b == b' ' && self.has(Self::PLUS_SPACE) {
                out.push(b'+');
            } else if must || self.has(Self::ENCODE_ALL) {
                out.extend_from_slice(&[
                    b'%',
                    digits[usize::from(b >> 4)],
                    digits[usize::from(b & 15)],
                ]);
            } else {
                out.push(b);
            }
        }
    }

    fn form(self, pairs: &[(&[u8], &[u8])], in_url: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            self.encode(k, in_url, &mut out);
            out.push(b'=');
            self.encode(v, in_url, &mut out);
        }
        out
    }
}

fn keep(field: &[u8], allowed: impl Fn(u8) -> bool) -> String {
    field
        .iter()
        .copied()
        .filter(|&b| b.is_ascii() && allowed(b))
        .map(char::from)
        .collect()
}

/// A signed request of a `roundtrip` input.
#[derive(Debug, Clone)]
struct Signed {
    method: &'static str,
    base: String,
    target: String,
    url: String,
    body: Vec<u8>,
    nonce: String,
    signature: String,
    ma_signature: Option<String>,
}

impl Signed {
    fn headers(&self) -> Vec<(&'static str, Vec<u8>)> {
        let mut headers = vec![
            ("X-Plivo-Signature-V3", self.signature.clone().into_bytes()),
            (
                "X-Plivo-Signature-V3-Nonce",
                self.nonce.clone().into_bytes(),
            ),
            (
                "Content-Type",
                b"application/x-www-form-urlencoded; charset=utf-8".to_vec(),
            ),
        ];
        if let Some(ma) = &self.ma_signature {
            headers.push(("X-Plivo-Signature-Ma-V3", ma.clone().into_bytes()));
        }
        headers
    }
}

/// Sign-then-verify and sign-then-mutate.
///
/// Fields: `flags`, `token`, `nonce` (visible ASCII kept), `host` (`[A-Za-z0-9.-]` kept),
/// `path` (path characters kept), `query` (visible ASCII but `#` kept), then `params`:
/// pairs separated by 0x1F, key and value by 0x1D, any bytes, which this function encodes.
/// Flags: byte 0 bit 0 GET, bit 1 https, bit 2 a port (bytes 6-7), bit 3 a main-account
/// signature, bit 4 a query; byte 1 the encoding style; byte 2 the mutation; bytes 3-4 its
/// position; byte 5 its new byte.
///
/// The signed request must verify as a public URL, behind a configured base URL, behind
/// a trusted proxy and directly, with exactly the parameters that were encoded; the
/// signer's signing string must equal a naive reference. A mutated request must verify
/// if and only if the reference signing string is unchanged (so `+` versus `%20`, or a
/// change that only moves bytes between a key and its value, is not a failure).
pub fn roundtrip(data: &[u8]) {
    let f = fields(data, 7);
    let flags = f[0];
    let (opts, style, mutation) = (byte(flags, 0), Style(byte(flags, 1)), byte(flags, 2));
    let position = usize::from(u16::from_le_bytes([byte(flags, 3), byte(flags, 4)]));
    let new_byte = byte(flags, 5);
    let method = if opts & 1 != 0 { "GET" } else { "POST" };
    let mut token = valid_token(f[1], FALLBACK_TOKEN);
    if token == MAIN_TOKEN {
        // The main-account token must differ from the account's for the checks below.
        token = FALLBACK_TOKEN.to_owned();
    }
    let mut nonce = keep(f[2], |b| b.is_ascii_graphic());
    nonce.truncate(256);
    if nonce.is_empty() {
        nonce.push_str("12345678901234567890");
    }
    let mut host = keep(f[3], |b| {
        b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
    });
    if host.is_empty() {
        host.push_str("example.com");
    }
    if opts & 4 != 0 {
        let port = u16::from_le_bytes([byte(flags, 6), byte(flags, 7)]);
        host.push_str(&format!(":{port}"));
    }
    let mut path = keep(f[4], |b| {
        b.is_ascii_alphanumeric() || b"/-._~%!$&'()*+,;=:@".contains(&b)
    });
    if !path.is_empty() && !path.starts_with('/') {
        path.insert(0, '/');
    }
    let pairs: Vec<(&[u8], &[u8])> = if f[6].is_empty() {
        Vec::new()
    } else {
        f[6].split(|&b| b == PAIR_SEP)
            .map(|pair| match pair.iter().position(|&b| b == KV_SEP) {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &[][..]),
            })
            .collect()
    };
    let mut query = (opts & 16 != 0).then(|| keep(f[5], |b| b.is_ascii_graphic() && b != b'#'));
    let body = if method == "GET" {
        if !pairs.is_empty() {
            let encoded = lossy(&style.form(&pairs, true));
            query = Some(match query {
                Some(q) if !q.is_empty() => format!("{q}&{encoded}"),
                _ => encoded,
            });
        }
        Vec::new()
    } else {
        style.form(&pairs, false)
    };
    let scheme = if opts & 2 != 0 { "https" } else { "http" };
    let base = format!("{scheme}://{host}");
    let mut target = path.clone();
    if let Some(q) = &query {
        target.push('?');
        target.push_str(q);
    }
    let url = format!("{base}{target}");

    // The signer agrees with the naive reference.
    let mut signer = Signer::new(&token);
    if opts & 8 != 0 {
        signer = signer.with_main_account(AuthToken::new(MAIN_TOKEN).expect("valid"));
    }
    let reference = reference_signing_string(method, &url, &body, nonce.as_bytes())
        .expect("the generated URL is absolute");
    let ours = signer
        .signing_string(method, &url, &body, &nonce)
        .expect("the generated URL is absolute");
    assert_eq!(
        lossy(&ours),
        lossy(&reference),
        "signing string differs from the reference"
    );
    let headers = signer
        .try_sign(method, &url, &body, &nonce)
        .expect("the generated URL is absolute");
    let signed = Signed {
        method,
        base,
        target,
        url,
        body,
        nonce,
        signature: headers.signature().to_owned(),
        ma_signature: headers.ma_signature().map(str::to_owned),
    };

    // The verified parameters are exactly the encoded ones (for a GET, with the URL's).
    let expected: Vec<(String, String)> = if method == "GET" {
        naive_pairs(query.as_deref().unwrap_or_default().as_bytes())
    } else {
        let mut pairs: Vec<(String, String)> =
            pairs.iter().map(|&(k, v)| (lossy(k), lossy(v))).collect();
        pairs.sort();
        pairs
    };
    let verifier_token = if opts & 8 != 0 { MAIN_TOKEN } else { &token };
    let expected_header = if opts & 8 != 0 {
        SignatureHeader::MaV3
    } else {
        SignatureHeader::V3
    };
    for verified in verify_everywhere(&signed, verifier_token) {
        let params: Vec<(String, String)> = verified
            .params()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(params, expected, "verified parameters");
        assert_eq!(verified.signature().header, expected_header);
        assert_eq!(verified.signature().token_index, 0);
        assert_eq!(verified.nonce(), signed.nonce);
    }

    // Mutations.
    let verifier = Verifier::builder()
        .token(verifier_token)
        .build()
        .expect("a valid token");
    let mut mutant = signed.clone();
    let flip = |old: u8| if new_byte == old { old ^ 1 } else { new_byte };
    match mutation % 7 {
        1 if !mutant.body.is_empty() => {
            let i = position % mutant.body.len();
            mutant.body[i] = flip(mutant.body[i]);
        }
        2 => {
            let mut bytes = mutant.url.into_bytes();
            let i = position % bytes.len();
            bytes[i] = flip(bytes[i]) & 0x7f;
            mutant.url = lossy(&bytes);
        }
        3 => {
            let mut bytes = mutant.nonce.into_bytes();
            let i = position % bytes.len();
            bytes[i] = flip(bytes[i]);
            mutant.nonce = lossy(&bytes);
        }
        4 => {
            let signature = match &mut mutant.ma_signature {
                Some(ma) => ma,
                None => &mut mutant.signature,
            };
            let mut bytes = std::mem::take(signature).into_bytes();
            let i = position % bytes.len();
            bytes[i] = flip(bytes[i]);
            *signature = lossy(&bytes);
        }
        5 => mutant.method = if method == "GET" { "POST" } else { "GET" },
        6 => {
            // Re-encode in another style and order: the meaning is unchanged.
            let other = Style(new_byte);
            let mut shuffled = pairs.clone();
            if !shuffled.is_empty() {
                let len = shuffled.len();
                shuffled.rotate_left(position % len);
            }
            if method == "POST" {
                mutant.body = other.form(&shuffled, false);
            }
        }
        _ => {}
    }
    let headers = mutant.headers();
    let request =
        CallbackRequest::with_public_url(mutant.method, &mutant.url, &headers, &mutant.body);
    let outcome = verifier.verify(&request);
    let same = reference_signing_string(
        mutant.method,
        &mutant.url,
        &mutant.body,
        mutant.nonce.as_bytes(),
    )
    .is_some_and(|s| s == reference);
    let expect_ok = same
        && mutant.signature == signed.signature
        && mutant.ma_signature == signed.ma_signature
        && mutant.nonce.len() <= 256
        && mutant.nonce.bytes().all(|b| b.is_ascii_graphic());
    assert_eq!(
        outcome.is_ok(),
        expect_ok,
        "mutation {} of {signed:?} into {mutant:?}: {outcome:?}",
        mutation % 7
    );
}

/// Verifies a signed request under every URL policy; panics where it does not verify.
fn verify_everywhere(signed: &Signed, token: &str) -> Vec<plivo_webhook_core::Verified> {
    let mut headers = signed.headers();
    let authority = &signed.base[signed.base.find("://").map_or(0, |i| i + 3)..];
    let scheme = &signed.base[..signed.base.find("://").unwrap_or(0)];
    headers.push(("Host", authority.as_bytes().to_vec()));
    let mut out = Vec::new();
    let public = Verifier::builder()
        .token(token)
        .build()
        .expect("a valid token");
    let request =
        CallbackRequest::with_public_url(signed.method, &signed.url, &headers, &signed.body);
    out.push(public.verify(&request).expect("signed request, public URL"));
    if !signed.target.starts_with('/') {
        return out;
    }
    let request = CallbackRequest::new(signed.method, &signed.target, &headers, &signed.body);
    let base = Verifier::builder()
        .token(token)
        .public_base_url(&signed.base)
        .build()
        .expect("a valid base URL");
    out.push(base.verify(&request).expect("signed request, public base"));
    let direct = Verifier::builder()
        .token(token)
        .url_policy(UrlPolicy::direct(scheme == "https"))
        .build()
        .expect("a valid token");
    out.push(direct.verify(&request).expect("signed request, direct"));
    let mut proxied = headers.clone();
    proxied.retain(|(name, _)| *name != "Host");
    proxied.push(("Host", b"127.0.0.1:3000".to_vec()));
    proxied.push(("X-Forwarded-Proto", scheme.as_bytes().to_vec()));
    proxied.push(("X-Forwarded-Host", authority.as_bytes().to_vec()));
    let proxy = Verifier::builder()
        .token(token)
        .url_policy(UrlPolicy::trusted_proxy())
        .build()
        .expect("a valid token");
    let request = CallbackRequest::new(signed.method, &signed.target, &proxied, &signed.body);
    out.push(
        proxy
            .verify(&request)
            .expect("signed request, trusted proxy"),
    );
    out
}
