//! Verification cost against the HMAC floor.
//!
//! `hmac_floor` is a raw HMAC-SHA256 of the signing string of the same request that
//! `verify_status_callback` checks from raw body bytes, so their ratio is the overhead of
//! decoding, sorting and comparing. Run: `cargo bench -p plivo-webhook-core`.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use hmac::{Hmac, Mac};
use plivo_webhook_core::{testing::Signer, CallbackRequest, MessageStatus, Verifier};
use sha2::Sha256;

const TOKEN: &str = "MAZDQ1ZJIYMDA5ZGE5ZD_bench_token";
const URL: &str = "https://example.com/api/plivo/status";
/// A realistic 16-parameter status callback (Plivo's order, `+` and `%XX` escapes).
const STATUS: &[u8] = b"Status=delivered&From=14155550100&ParentMessageUUID=a3f1c2d4-9e21-11ee-8c4b-0242ac110003&TotalRate=0.00550&MCC=310&PartInfo=1+of+1&ErrorCode=&To=14155550123&Units=1&TotalAmount=0.00550&MNC=260&MessageUUID=a3f1c2d4-9e21-11ee-8c4b-0242ac110003&Type=sms&Sequence=3&MessageTime=2023-12-19+14%3A02%3A11.481236&requester_ip=203.0.113.24";

fn body_with(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("Key{i:03}=value+{i}%21"))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

fn bench(c: &mut Criterion) {
    let signer = Signer::new(TOKEN);
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com")
        .build()
        .unwrap();

    let signed = signer.sign("POST", URL, STATUS);
    let headers = signed.headers();
    let message = signer
        .signing_string("POST", URL, STATUS, signed.nonce())
        .unwrap();
    let key = Hmac::<Sha256>::new_from_slice(TOKEN.as_bytes()).unwrap();
    let request = CallbackRequest::new("POST", "/api/plivo/status", &headers, STATUS);
    assert!(verifier.check(&request).is_ok());

    c.bench_function("hmac_floor", |b| {
        b.iter(|| {
            let mut mac = key.clone();
            mac.update(black_box(&message));
            black_box(mac.finalize().into_bytes())
        });
    });
    c.bench_function("verify_status_callback", |b| {
        b.iter(|| black_box(verifier.check(black_box(&request)).is_ok()));
    });
    c.bench_function("verify_owned_params", |b| {
        b.iter(|| black_box(verifier.verify(black_box(&request)).is_ok()));
    });
    c.bench_function("verify_and_parse", |b| {
        b.iter(|| {
            black_box(
                verifier
                    .verify_as::<MessageStatus>(black_box(&request))
                    .is_ok(),
            )
        });
    });

    let mut group = c.benchmark_group("verify_params");
    for n in [1usize, 16, 300] {
        let body = body_with(n);
        let signed = signer.sign("POST", URL, &body);
        let headers = signed.headers();
        let request = CallbackRequest::new("POST", "/api/plivo/status", &headers, &body);
        assert!(verifier.check(&request).is_ok());
        group.bench_with_input(BenchmarkId::from_parameter(n), &request, |b, request| {
            b.iter(|| black_box(verifier.check(black_box(request)).is_ok()));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
