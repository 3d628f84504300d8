//! Real requests through real actix-web services (`test::init_service`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{test, web, App, FromRequest, HttpResponse};
use plivo_webhook_actix::{guard::PlivoSigned, PlivoCallback};
use plivo_webhook_core::testing::{vectors, Signer};
use plivo_webhook_core::{MessageStatus, UrlPolicy, Verifier};

const VECTORS: &str = include_str!("../../plivo-webhook-core/tests/data/plivo-v3-v2.json");
const TOKEN: &str = "ACTIX_TEST_TOKEN";
const ROOT_SLASH_ONLY: &[&str] = &["v3-post-url-017", "v2-post-sdksuite-004"];
const BASE: &str = "https://example.com";
const STATUS_BODY: &str =
    "MessageUUID=m-1&From=PLIVO&To=14155550123&Status=delivered&ErrorCode=&Units=1";

async fn raw(PlivoCallback(verified): PlivoCallback) -> String {
    verified.params().get("Status").unwrap_or("-").to_owned()
}

async fn typed(PlivoCallback(status): PlivoCallback<MessageStatus>) -> String {
    format!("{} {}", status.message_uuid, status.status)
}

fn verifier() -> Verifier {
    Verifier::builder()
        .token(TOKEN)
        .public_base_url(BASE)
        .build()
        .unwrap()
}

fn app(
    verifier: Verifier,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(verifier)
        .route("/api/plivo/status", web::post().to(typed))
        .route("/api/plivo/status", web::get().to(typed))
        .route("/raw", web::post().to(raw))
}

fn signed_request(method: &str, url: &str, target: &str, body: &str) -> test::TestRequest {
    let signed = Signer::new(TOKEN).sign(method, url, body.as_bytes());
    let mut request = test::TestRequest::default()
        .method(method.parse().unwrap())
        .uri(target)
        .set_payload(body.to_owned());
    for (name, value) in signed.headers() {
        request = request.insert_header((name, value));
    }
    request
}

async fn send(verifier: Verifier, request: test::TestRequest) -> (StatusCode, String) {
    let service = test::init_service(app(verifier)).await;
    let response = test::call_service(&service, request.to_request()).await;
    let status = response.status();
    let body = test::read_body(response).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[actix_web::test]
async fn every_vector_through_the_service() {
    let file = vectors::parse(VECTORS).unwrap();
    let mut checked = 0;
    for v in &file.vectors {
        let (scheme, rest) = v.url.split_once("://").unwrap();
        let rest = rest.split('#').next().unwrap();
        let cut = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(cut);
        let target = if target.starts_with('/') {
            target.to_owned()
        } else {
            format!("/{target}")
        };
        let mut builder = Verifier::builder()
            .token(&v.auth_token)
            .public_base_url(&format!("{scheme}://{authority}"));
        if v.scheme == "v2" {
            builder = builder.dangerous_accept_v2();
        }
        let service = test::init_service(
            App::new()
                .app_data(builder.build().unwrap())
                .default_service(web::to(raw)),
        )
        .await;
        let mut request = test::TestRequest::default()
            .method(v.method.parse().unwrap())
            .uri(&target)
            .set_payload(v.body.clone());
        for (name, value) in &v.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        let response = test::call_service(&service, request.to_request()).await;
        let expected_valid = v.valid || ROOT_SLASH_ONLY.contains(&v.id.as_str());
        let expected = if expected_valid {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(response.status(), expected, "{}: {}", v.id, v.note);
        checked += 1;
    }
    assert_eq!(checked, 164);
}

#[actix_web::test]
async fn valid_typed_callback() {
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        STATUS_BODY,
    );
    let (status, body) = send(verifier(), request).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-1 delivered"));
}

#[actix_web::test]
async fn missing_signature_and_nonce_are_400() {
    let signed = Signer::new(TOKEN).sign("POST", "https://example.com/raw", STATUS_BODY.as_bytes());
    let request = test::TestRequest::post()
        .uri("/raw")
        .insert_header(("X-Plivo-Signature-V3-Nonce", signed.nonce()))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(STATUS_BODY);
    let (status, body) = send(verifier(), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("missing header X-Plivo-Signature-V3"),
        "{body}"
    );

    let request = test::TestRequest::post()
        .uri("/raw")
        .insert_header(("X-Plivo-Signature-V3", signed.signature()))
        .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
        .set_payload(STATUS_BODY);
    let (status, body) = send(verifier(), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("X-Plivo-Signature-V3-Nonce"), "{body}");
}

#[actix_web::test]
async fn tampered_body_is_403_and_names_no_signature() {
    let signed = Signer::new(TOKEN).sign("POST", "https://example.com/raw", STATUS_BODY.as_bytes());
    let mut request = test::TestRequest::post()
        .uri("/raw")
        .set_payload(STATUS_BODY.replace("delivered", "failed"));
    for (name, value) in signed.headers() {
        request = request.insert_header((name, value));
    }
    let (status, body) = send(verifier(), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("signature mismatch"));
    assert!(!body.contains(signed.signature()) && !body.contains(TOKEN));
}

#[actix_web::test]
async fn wrong_content_type_is_415() {
    let request = signed_request("POST", "https://example.com/raw", "/raw", STATUS_BODY)
        .insert_header(("Content-Type", "application/json"));
    assert_eq!(
        send(verifier(), request).await.0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[actix_web::test]
async fn authentic_but_not_a_status_is_422() {
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        "From=a&To=b",
    );
    let (status, body) = send(verifier(), request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("MessageUUID"));
}

#[actix_web::test]
async fn oversized_body_is_413_without_reading_far_past_the_limit() {
    let limit = 4096;
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url(BASE)
        .max_body_bytes(limit)
        .build()
        .unwrap();
    // Through the service: a declared length over the limit.
    let big = "a=".to_owned() + &"x".repeat(100_000);
    let request = signed_request("POST", "https://example.com/raw", "/raw", &big);
    assert_eq!(
        send(verifier.clone(), request).await.0,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // The extractor on an endless chunked payload: it stops right after the limit.
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let stream = futures_util::stream::repeat_with(move || {
        counter.fetch_add(1024, Ordering::SeqCst);
        Ok(Bytes::from(vec![b'a'; 1024]))
    });
    let signed = Signer::new(TOKEN).sign("POST", "https://example.com/raw", b"a=1");
    let mut request = test::TestRequest::post().uri("/raw").app_data(verifier);
    for (name, value) in signed.headers() {
        request = request.insert_header((name, value));
    }
    let (req, _) = request.to_http_parts();
    let boxed: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<Bytes, actix_web::error::PayloadError>>>,
    > = Box::pin(stream);
    let mut payload = Payload::Stream { payload: boxed };
    let err = PlivoCallback::<()>::from_request(&req, &mut payload)
        .await
        .unwrap_err();
    assert_eq!(
        actix_web::ResponseError::status_code(&err),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let read = pulled.load(Ordering::SeqCst);
    assert!(
        read <= limit + 1024,
        "read {read} bytes for a {limit}-byte limit"
    );
}

#[actix_web::test]
async fn scoped_routes_verify_the_full_path() {
    let service = test::init_service(
        App::new()
            .app_data(verifier())
            .service(web::scope("/api").route("/plivo/status", web::post().to(typed))),
    )
    .await;
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        STATUS_BODY,
    );
    let response = test::call_service(&service, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[actix_web::test]
async fn get_callback_verifies_from_the_query() {
    let query = "MessageUUID=m-2&From=PLIVO&To=14155550123&Status=sent";
    let url = format!("https://example.com/api/plivo/status?{query}");
    let request = signed_request("GET", &url, &format!("/api/plivo/status?{query}"), "");
    let (status, body) = send(verifier(), request).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-2 sent"));
    let request = signed_request(
        "GET",
        &url,
        &format!("/api/plivo/status?{}", query.replace("sent", "read")),
        "",
    );
    assert_eq!(send(verifier(), request).await.0, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn public_base_url_with_a_path_prefix() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com/hooks/")
        .build()
        .unwrap();
    let request = signed_request("POST", "https://example.com/hooks/raw", "/raw", STATUS_BODY);
    assert_eq!(send(verifier, request).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn trusted_proxy_mode_on_and_off() {
    let proxied = || {
        signed_request(
            "POST",
            "https://public.example.net/raw",
            "/raw",
            STATUS_BODY,
        )
        .insert_header(("X-Forwarded-Proto", "https"))
        .insert_header(("X-Forwarded-Host", "public.example.net"))
        .insert_header(("Host", "127.0.0.1:3000"))
    };
    let trusting = Verifier::builder()
        .token(TOKEN)
        .url_policy(UrlPolicy::trusted_proxy())
        .build()
        .unwrap();
    assert_eq!(send(trusting, proxied()).await.0, StatusCode::OK);
    assert_eq!(send(verifier(), proxied()).await.0, StatusCode::FORBIDDEN);
    let direct = || {
        Verifier::builder()
            .token(TOKEN)
            .url_policy(UrlPolicy::direct(false))
            .build()
            .unwrap()
    };
    assert_eq!(send(direct(), proxied()).await.0, StatusCode::FORBIDDEN);
    let request = signed_request("POST", "http://127.0.0.1:3000/raw", "/raw", STATUS_BODY)
        .insert_header(("Host", "127.0.0.1:3000"));
    assert_eq!(send(direct(), request).await.0, StatusCode::OK);
}

#[actix_web::test]
async fn guard_routes_signed_requests_only() {
    let service = test::init_service(
        App::new().app_data(web::Data::new(verifier())).service(
            web::resource("/api/plivo/status")
                .route(web::get().guard(PlivoSigned).to(typed))
                .route(web::get().to(|| async { HttpResponse::Ok().body("healthy") })),
        ),
    )
    .await;
    let unsigned = test::TestRequest::get()
        .uri("/api/plivo/status")
        .to_request();
    let response = test::call_service(&service, unsigned).await;
    assert_eq!(test::read_body(response).await, "healthy");
    let query = "MessageUUID=m-3&From=PLIVO&To=1&Status=queued";
    let url = format!("https://example.com/api/plivo/status?{query}");
    let request =
        signed_request("GET", &url, &format!("/api/plivo/status?{query}"), "").to_request();
    let response = test::call_service(&service, request).await;
    assert_eq!(test::read_body(response).await, "m-3 queued");
    // Signed headers but a forged query: the guard routes it, the extractor refuses it.
    let request = signed_request(
        "GET",
        &url,
        &format!("/api/plivo/status?{}", query.replace("queued", "read")),
        "",
    );
    let response = test::call_service(&service, request.to_request()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
