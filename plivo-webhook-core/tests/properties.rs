//! Property tests: signed requests verify; any change breaks them; order never matters;
//! arbitrary bytes never panic.

use plivo_webhook_core::{
    testing::Signer, CallbackRequest, FromParams, InboundMessage, MessageStatus, Params, UrlPolicy,
    Verifier, VoiceCallback,
};
use proptest::prelude::*;

const TOKEN: &str = "PROPTEST_TOKEN_0123456789";

fn encode(text: &str) -> String {
    let mut out = String::new();
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn body_of(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn verifier() -> Verifier {
    Verifier::builder().token(TOKEN).build().unwrap()
}

fn verdict(url: &str, method: &str, body: &[u8], headers: &[(&'static str, String)]) -> bool {
    verifier()
        .check(&CallbackRequest::with_public_url(
            method, url, &headers, body,
        ))
        .is_ok()
}

/// Signs a POST of `params` and checks that `Verifier::check` accepts it and that
/// `Verifier::verify` gives the body's parameters, decoded: taken from where they were
/// hashed (with the ends noted while copying them), or decoded again past 32 pairs.
fn signed_post_verifies(
    url: &str,
    params: &[(String, String)],
    nonce: &str,
) -> Result<(), TestCaseError> {
    let body = body_of(params);
    let headers = Signer::new(TOKEN)
        .sign_with_nonce("POST", url, body.as_bytes(), nonce)
        .headers();
    prop_assert!(verdict(url, "POST", body.as_bytes(), &headers));
    let request = CallbackRequest::with_public_url("POST", url, &headers, body.as_bytes());
    let verified = verifier().verify(&request).unwrap();
    prop_assert_eq!(verified.params(), &Params::decode(body.as_bytes()));
    Ok(())
}

prop_compose! {
    fn url()(scheme in prop::sample::select(vec!["http", "https"]),
             host in "[a-zA-Z0-9.-]{1,20}",
             port in prop::option::of(1u16..),
             path in "(/[a-zA-Z0-9._~%-]{0,8}){0,4}/?",
             query in prop::option::of("[a-z]{1,5}=[a-z0-9]{0,5}(&[a-z]{1,5}=[a-z0-9]{0,5}){0,2}")) -> String {
        let mut url = format!("{scheme}://{host}");
        if let Some(port) = port { url.push_str(&format!(":{port}")); }
        url.push_str(&path);
        if let Some(q) = query { url.push('?'); url.push_str(&q); }
        url
    }
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((".{0,12}", ".{0,24}"), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn signed_requests_verify(url in url(), params in params(), nonce in "[0-9]{1,24}") {
        signed_post_verifies(&url, &params, &nonce)?;
    }

    /// Long plain keys and values, and bodies past the verifier's 1,024-byte HMAC buffer:
    /// the block-copy paths (and their exact-copy fallbacks at the end of the body).
    #[test]
    fn long_plain_params_verify(
        url in url(),
        params in prop::collection::vec(("[A-Za-z_]{1,40}", "[a-zA-Z0-9.:-]{0,100}"), 1..40),
        nonce in "[0-9]{1,24}",
    ) {
        signed_post_verifies(&url, &params, &nonce)?;
    }

    /// Short pairs, up to 40 of them (past the 32 whose ends are noted while hashing),
    /// often fitting in the HMAC buffer whole.
    #[test]
    fn verified_params_are_the_decoded_body(
        url in url(),
        params in prop::collection::vec(("[a-zA-Z%+]{0,6}", "[a-z0-9 %+&=]{0,6}"), 0..40),
        nonce in "[0-9]{1,24}",
    ) {
        signed_post_verifies(&url, &params, &nonce)?;
    }

    #[test]
    fn get_requests_verify(url in url(), nonce in "[0-9]{1,24}") {
        let signed = Signer::new(TOKEN).sign_with_nonce("GET", &url, b"", &nonce);
        prop_assert!(verdict(&url, "GET", b"", &signed.headers()));
    }

    #[test]
    fn reordering_never_changes_the_verdict(url in url(), params in params(), seed in any::<u64>()) {
        let body = body_of(&params);
        let signed = Signer::new(TOKEN).sign("POST", &url, body.as_bytes());
        let mut shuffled = params.clone();
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert!(verdict(&url, "POST", body_of(&shuffled).as_bytes(), &signed.headers()));
    }

    #[test]
    fn changing_a_key_or_value_fails(url in url(), params in params(), which in any::<prop::sample::Index>(), key in any::<bool>(), extra in "[a-zA-Z0-9]{1,3}") {
        let body = body_of(&params);
        let signed = Signer::new(TOKEN).sign("POST", &url, body.as_bytes());
        let mut changed = params.clone();
        let i = which.index(changed.len());
        if key { changed[i].0.push_str(&extra) } else { changed[i].1.push_str(&extra) }
        prop_assert!(!verdict(&url, "POST", body_of(&changed).as_bytes(), &signed.headers()));
    }

    #[test]
    fn changing_the_url_fails(url in url(), params in params(), which in 0usize..4, extra in "[a-z0-9]{1,3}") {
        let body = body_of(&params);
        let signed = Signer::new(TOKEN).sign("POST", &url, body.as_bytes());
        let other = match which {
            0 => url.replacen("://", &format!("://{extra}"), 1),
            1 => if url.starts_with("https") { url.replacen("https", "http", 1) } else { url.replacen("http", "https", 1) },
            2 => match url.split_once('?') { Some((a, b)) => format!("{a}/{extra}?{b}"), None => format!("{url}/{extra}") },
            _ => if url.contains('?') { format!("{url}&z{extra}=1") } else { format!("{url}?z{extra}=1") },
        };
        prop_assert!(!verdict(&other, "POST", body.as_bytes(), &signed.headers()));
    }

    #[test]
    fn changing_the_nonce_or_a_signature_byte_fails(url in url(), params in params(), nonce in "[0-9]{5,20}", pos in 0usize..44, byte in any::<u8>()) {
        let body = body_of(&params);
        let signed = Signer::new(TOKEN).sign_with_nonce("POST", &url, body.as_bytes(), &nonce);
        let mut headers = signed.headers();
        headers[1].1.push('7');
        prop_assert!(!verdict(&url, "POST", body.as_bytes(), &headers));
        let mut headers = signed.headers();
        let mut sig = headers[0].1.clone().into_bytes();
        prop_assume!(sig[pos] != byte && byte != b',');
        sig[pos] = byte;
        headers[0].1 = String::from_utf8_lossy(&sig).into_owned();
        prop_assert!(!verdict(&url, "POST", body.as_bytes(), &headers));
    }

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..512),
                                   target in prop::collection::vec(any::<u8>(), 0..64),
                                   sig in prop::collection::vec(any::<u8>(), 0..64),
                                   nonce in prop::collection::vec(any::<u8>(), 0..32),
                                   method in prop::sample::select(vec!["GET", "POST", "PUT", "post"])) {
        let params = Params::decode(&body);
        let _ = MessageStatus::from_params(&params);
        let _ = InboundMessage::from_params(&params);
        let _ = VoiceCallback::from_params(&params);
        let target = String::from_utf8_lossy(&target).into_owned();
        let headers: Vec<(&str, Vec<u8>)> = vec![
            ("X-Plivo-Signature-V3", sig.clone()),
            ("X-Plivo-Signature-V3-Nonce", nonce),
            ("Content-Type", b"application/x-www-form-urlencoded".to_vec()),
            ("Host", sig),
        ];
        for policy in [UrlPolicy::public_base("https://example.com").unwrap(), UrlPolicy::trusted_proxy(), UrlPolicy::direct(true)] {
            let verifier = Verifier::builder().token(TOKEN).url_policy(policy).build().unwrap();
            let request = CallbackRequest::new(method, &target, &headers, &body);
            let _ = verifier.verify(&request);
            let _ = plivo_webhook_core::diagnose(&verifier, &request);
        }
        let request = CallbackRequest::with_public_url(method, &target, &headers, &body);
        let _ = verifier().verify(&request);
    }
}

/// The replay key is SHA-256 of the nonce, a zero byte and the whole value of the header
/// that matched: `X-Plivo-Signature-V3`, or `X-Plivo-Signature-Ma-V3` when only the main
/// account's token is configured. It changes with the nonce; the nonce reads back as sent.
#[test]
fn replay_key_is_the_digest_of_nonce_and_matching_header() {
    use sha2::{Digest, Sha256};
    let url = "https://example.com/status";
    let body = b"MessageUUID=1&Status=sent";
    let main = plivo_webhook_core::AuthToken::new("MAIN_ACCOUNT_TOKEN_0123").unwrap();
    let signer = Signer::new(TOKEN).with_main_account(main);
    let key_of = |verifier_token: &str, nonce: &str| {
        let signed = signer.sign_with_nonce("POST", url, body, nonce);
        let headers = signed.headers();
        let verified = Verifier::builder()
            .token(verifier_token)
            .build()
            .unwrap()
            .verify(&CallbackRequest::with_public_url(
                "POST", url, &headers, body,
            ))
            .unwrap();
        assert_eq!(verified.nonce(), nonce);
        let header = if verifier_token == TOKEN {
            signed.signature().to_owned()
        } else {
            signed.ma_signature().unwrap().to_owned()
        };
        // `Debug` shows the nonce and the matching header as text.
        let debug = format!("{verified:?}");
        assert!(debug.contains(&format!("{nonce}{header}")), "{debug}");
        let mut digest = Sha256::new();
        digest.update(nonce.as_bytes());
        digest.update([0]);
        digest.update(header.as_bytes());
        assert_eq!(verified.replay_key(), <[u8; 32]>::from(digest.finalize()));
        verified.replay_key()
    };
    let nonce = "12345678901234567890";
    assert_eq!(key_of(TOKEN, nonce), key_of(TOKEN, nonce));
    assert_ne!(key_of(TOKEN, nonce), key_of(TOKEN, "12345678901234567891"));
    assert_ne!(
        key_of(TOKEN, nonce),
        key_of("MAIN_ACCOUNT_TOKEN_0123", nonce)
    );

    // A header listing two signatures (longer than what `Verified` keeps inline): the key
    // covers the whole header, and the nonce still reads back.
    let signed = signer.sign_with_nonce("POST", url, body, nonce);
    let list = format!("{},{}", signed.ma_signature().unwrap(), signed.signature());
    let headers: Vec<(&str, String)> = signed
        .headers()
        .into_iter()
        .map(|(name, value)| match name {
            "X-Plivo-Signature-V3" => (name, list.clone()),
            _ => (name, value),
        })
        .collect();
    let verified = verifier()
        .verify(&CallbackRequest::with_public_url(
            "POST", url, &headers, body,
        ))
        .unwrap();
    assert_eq!(verified.nonce(), nonce);
    let mut digest = Sha256::new();
    digest.update(nonce.as_bytes());
    digest.update([0]);
    digest.update(list.as_bytes());
    assert_eq!(verified.replay_key(), <[u8; 32]>::from(digest.finalize()));
    assert!(format!("{verified:?}").contains(&format!("{nonce}{list}")));
}

/// One verifier shared by threads that verify callbacks of the same size in different
/// orders at once: the remembered sort order of that size is rewritten and read
/// concurrently, and every authentic callback still verifies, every forged one fails.
#[test]
fn threads_sharing_a_verifier_agree_whatever_order_each_remembers() {
    let url = "https://example.com/status";
    let verifier = verifier();
    let signer = Signer::new(TOKEN);
    let orders: [&[u8]; 4] = [
        b"Status=delivered&From=14155550100&To=14155550123&Units=1&Type=sms&MessageUUID=a",
        b"MessageUUID=b&Type=mms&Units=2&To=14155550123&From=14155550100&Status=sent",
        b"To=1&Status=failed&MessageUUID=c&From=2&Units=3&Type=sms",
        b"Units=1&Units=2&Status=queued&MessageUUID=d&To=3&From=4",
    ];
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (verifier, signer) = (&verifier, &signer);
            scope.spawn(move || {
                for i in 0..2_000 {
                    let body = orders[(thread + i) % orders.len()];
                    let signed = signer.sign("POST", url, body);
                    let headers = signed.headers();
                    let request = CallbackRequest::with_public_url("POST", url, &headers, body);
                    assert!(verifier.check(&request).is_ok(), "{thread} {i}");
                    let forged = orders[(thread + i + 1) % orders.len()];
                    let request = CallbackRequest::with_public_url("POST", url, &headers, forged);
                    assert!(verifier.check(&request).is_err(), "{thread} {i}");
                }
            });
        }
    });
}
