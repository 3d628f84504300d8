//! Verifying an ASCII callback of up to 32 parameters does not touch the heap
//! (counted with a counting global allocator, on this thread only).

use plivo_webhook_core::{testing::Signer, CallbackRequest, MessageStatus, Params, Verifier};

const TOKEN: &str = "ALLOC_TEST_TOKEN";
const STATUS: &[u8] = include_bytes!("data/fixtures/status_sms_delivered.form");

#[test]
fn check_does_not_allocate() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .token("ROTATED_TOKEN")
        .public_base_url("https://example.com")
        .build()
        .unwrap();
    let mut bodies = vec![STATUS.to_vec()];
    for n in [1usize, 16, 32] {
        let body: Vec<String> = (0..n).map(|i| format!("K{i}=v+{i}%2Fx")).collect();
        bodies.push(body.join("&").into_bytes());
    }
    for body in &bodies {
        let signed = Signer::new(TOKEN).sign(
            "POST",
            "https://example.com/api/plivo/status?tenant=a",
            body,
        );
        let headers = signed.headers();
        let request = CallbackRequest::new("POST", "/api/plivo/status?tenant=a", &headers, body);
        assert!(verifier.check(&request).is_ok());
        let info = allocation_counter::measure(|| {
            assert!(verifier.check(&request).is_ok());
        });
        assert_eq!(
            info.count_total,
            0,
            "{} allocations for {} bytes",
            info.count_total,
            body.len()
        );
        // The failing path allocates nothing either.
        let forged = CallbackRequest::new("POST", "/api/plivo/status?tenant=b", &headers, body);
        let info = allocation_counter::measure(|| {
            assert!(verifier.check(&forged).is_err());
        });
        assert_eq!(info.count_total, 0);
        // The counter is live: decoding into owned parameters does allocate.
        let info = allocation_counter::measure(|| {
            assert!(verifier.verify(&request).is_ok());
        });
        assert!(info.count_total > 0);
    }
}

/// `verify` makes two allocations whatever the number of parameters: one string for
/// every key and value and one span array (an empty URL query costs none; the nonce and a
/// single signature are kept inline).
#[test]
fn verify_allocates_twice() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com")
        .build()
        .unwrap();
    for body in [STATUS.to_vec(), b"K=v".to_vec()] {
        let signed = Signer::new(TOKEN).sign("POST", "https://example.com/status", &body);
        let headers = signed.headers();
        let request = CallbackRequest::new("POST", "/status", &headers, &body);
        let mut verified = None;
        let info = allocation_counter::measure(|| {
            verified = Some(verifier.verify(&request).unwrap());
        });
        assert_eq!(info.count_total, 2, "for {} bytes", body.len());
        assert!(verified.unwrap().query().is_empty());
    }
}

/// Reading a typed status callback adds no allocation to `verify`'s two: its text fields
/// (UUIDs, numbers, timestamps, amounts) are kept inline.
#[test]
fn typed_status_callbacks_allocate_no_more_than_verify() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com")
        .build()
        .unwrap();
    let fixtures: [&[u8]; 3] = [
        STATUS,
        include_bytes!("data/fixtures/status_sms_undelivered.form"),
        include_bytes!("data/fixtures/status_whatsapp_read.form"),
    ];
    for body in fixtures {
        let signed = Signer::new(TOKEN).sign("POST", "https://example.com/status", body);
        let headers = signed.headers();
        let request = CallbackRequest::new("POST", "/status", &headers, body);
        let mut typed = None;
        let info = allocation_counter::measure(|| {
            typed = Some(verifier.verify_as::<MessageStatus>(&request).unwrap());
        });
        assert_eq!(info.count_total, 2, "for {}", String::from_utf8_lossy(body));
        let typed = typed.unwrap();
        assert_eq!(
            typed.message_uuid,
            typed.params().get("MessageUUID").unwrap()
        );
    }
}

/// `verify` copies the parameters out only once the signature matched: a forged request
/// allocates nothing there either. The parameters are those of decoding the body, whether
/// they are copied from the buffer they were hashed in or, when they did not fit in it
/// (past 1,024 bytes), decoded again.
#[test]
fn verify_allocates_nothing_for_a_forged_request() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com")
        .build()
        .unwrap();
    let long: Vec<String> = (0..30)
        .map(|i| format!("Key{i:02}=value+{i}%21{}", "x".repeat(20)))
        .collect();
    let long = long.join("&").into_bytes();
    assert!(long.len() > 1024);
    let unicode = "Text=%E2%82%AC+caf%C3%A9&From=14155550100&To=%2B1&Body=%FF".as_bytes();
    for body in [STATUS, &long[..], unicode] {
        let signed = Signer::new(TOKEN).sign("POST", "https://example.com/status", body);
        let headers = signed.headers();
        let forged = CallbackRequest::new("POST", "/status?x=1", &headers, body);
        // (Text that is not ASCII once decoded may allocate: `%FF` becomes U+FFFD.)
        if body != unicode {
            let info = allocation_counter::measure(|| {
                assert!(verifier.verify(&forged).is_err());
            });
            assert_eq!(info.count_total, 0, "for {} bytes", body.len());
        }
        let request = CallbackRequest::new("POST", "/status", &headers, body);
        let verified = verifier.verify(&request).unwrap();
        assert_eq!(verified.params(), &Params::decode(body));
        assert_eq!(
            verified.params().get("Body"),
            body.ends_with(b"%FF").then_some("\u{FFFD}")
        );
    }
}
