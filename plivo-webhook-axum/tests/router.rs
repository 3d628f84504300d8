//! Real requests through real axum routers (`tower::ServiceExt::oneshot`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use axum::routing::{get, post};
use axum::{Extension, Router};
use plivo_webhook_axum::{PlivoCallback, PlivoLayer};
use plivo_webhook_core::testing::{vectors, Signer};
use plivo_webhook_core::{MessageStatus, UrlPolicy, Verified, Verifier};
use tower::ServiceExt;

const VECTORS: &str = include_str!("../../plivo-webhook-core/tests/data/plivo-v3-v2.json");
const TOKEN: &str = "AXUM_TEST_TOKEN";
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

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/api/plivo/status", post(typed).get(typed))
        .route("/raw", post(raw))
        .with_state(verifier)
}

fn signed_request(method: &str, url: &str, target: &str, body: &str) -> Request<Body> {
    let signed = Signer::new(TOKEN).sign(method, url, body.as_bytes());
    let mut request = Request::builder().method(method).uri(target);
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

async fn send(app: Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.oneshot(request).await.unwrap();
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn every_vector_through_the_router() {
    let file = vectors::parse(VECTORS).unwrap();
    let mut checked = 0;
    for v in &file.vectors {
        let (scheme, rest) = v.url.split_once("://").unwrap();
        let rest = rest.split('#').next().unwrap();
        let cut = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, target) = rest.split_at(cut);
        // An HTTP request cannot carry an empty path: `https://h` arrives as `/`.
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
        let app = Router::new()
            .route("/", post(raw).get(raw))
            .route("/{*rest}", post(raw).get(raw))
            .with_state(builder.build().unwrap());
        let mut request = Request::builder().method(v.method.as_str()).uri(&target);
        for (name, value) in &v.headers {
            request = request.header(name, value);
        }
        let (status, body) = send(app, request.body(Body::from(v.body.clone())).unwrap()).await;
        // `https://h` and `https://h/` are the same request on the wire (`/`); the
        // verifier accepts both forms for a request to `/`, so the two vectors whose only
        // fault is that root slash are valid over HTTP (see `bare_root` in the core).
        let expected_valid = v.valid || ROOT_SLASH_ONLY.contains(&v.id.as_str());
        let expected = if expected_valid {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(status, expected, "{}: {} ({body})", v.id, v.note);
        checked += 1;
    }
    assert_eq!(checked, 164);
}

#[tokio::test]
async fn valid_typed_callback() {
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        STATUS_BODY,
    );
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-1 delivered"));
}

#[tokio::test]
async fn missing_signature_and_nonce_are_400() {
    let mut request = signed_request("POST", "https://example.com/raw", "/raw", STATUS_BODY);
    request.headers_mut().remove("X-Plivo-Signature-V3");
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("missing header X-Plivo-Signature-V3"),
        "{body}"
    );

    let mut request = signed_request("POST", "https://example.com/raw", "/raw", STATUS_BODY);
    request.headers_mut().remove("X-Plivo-Signature-V3-Nonce");
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("X-Plivo-Signature-V3-Nonce"), "{body}");
}

#[tokio::test]
async fn tampered_body_is_403_and_names_no_signature() {
    let signed = Signer::new(TOKEN).sign("POST", "https://example.com/raw", STATUS_BODY.as_bytes());
    let mut request = Request::post("/raw");
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let request = request
        .body(Body::from(STATUS_BODY.replace("delivered", "failed")))
        .unwrap();
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("signature mismatch"));
    assert!(!body.contains(signed.signature()) && !body.contains(TOKEN));
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let mut request = signed_request("POST", "https://example.com/raw", "/raw", STATUS_BODY);
    request
        .headers_mut()
        .insert("Content-Type", "application/json".parse().unwrap());
    let (status, _) = send(app(verifier()), request).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn authentic_but_not_a_status_is_422() {
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        "From=a&To=b",
    );
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("MessageUUID"));
}

/// A body that counts how many bytes the server pulled from it.
fn endless_body(pulled: Arc<AtomicUsize>) -> Body {
    let chunk = Bytes::from(vec![b'a'; 1024]);
    let stream = futures_util::stream::repeat_with(move || {
        pulled.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk.clone())
    });
    Body::from_stream(stream)
}

#[tokio::test]
async fn oversized_body_is_413_without_reading_far_past_the_limit() {
    let limit = 4096;
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url(BASE)
        .max_body_bytes(limit)
        .build()
        .unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let signed = Signer::new(TOKEN).sign("POST", "https://example.com/raw", b"a=1");
    let mut request = Request::post("/raw");
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let request = request.body(endless_body(pulled.clone())).unwrap();
    let (status, _) = send(app(verifier.clone()), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let read = pulled.load(Ordering::SeqCst);
    assert!(
        read <= limit + 1024,
        "read {read} bytes for a {limit}-byte limit"
    );

    // A declared Content-Length over the limit is refused before reading anything.
    let pulled = Arc::new(AtomicUsize::new(0));
    let request = Request::post("/raw")
        .header("Content-Length", "1000000")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(endless_body(pulled.clone()))
        .unwrap();
    let (status, _) = send(app(verifier), request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(pulled.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn nested_router_verifies_the_original_path() {
    let inner = Router::new().route("/plivo/status", post(typed));
    let app = Router::new().nest("/api", inner).with_state(verifier());
    let request = signed_request(
        "POST",
        "https://example.com/api/plivo/status",
        "/api/plivo/status",
        STATUS_BODY,
    );
    let (status, body) = send(app, request).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn get_callback_verifies_from_the_query() {
    let query = "MessageUUID=m-2&From=PLIVO&To=14155550123&Status=sent";
    let url = format!("https://example.com/api/plivo/status?{query}");
    let request = signed_request("GET", &url, &format!("/api/plivo/status?{query}"), "");
    let (status, body) = send(app(verifier()), request).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "m-2 sent"));
    // The same query, altered: 403.
    let request = signed_request(
        "GET",
        &url,
        &format!("/api/plivo/status?{}", query.replace("sent", "read")),
        "",
    );
    assert_eq!(
        send(app(verifier()), request).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn public_base_url_with_a_path_prefix() {
    let verifier = Verifier::builder()
        .token(TOKEN)
        .public_base_url("https://example.com/hooks/")
        .build()
        .unwrap();
    // The proxy strips /hooks before the request reaches us.
    let request = signed_request("POST", "https://example.com/hooks/raw", "/raw", STATUS_BODY);
    assert_eq!(send(app(verifier), request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn trusted_proxy_mode_on_and_off() {
    let proxied = || {
        let mut request = signed_request(
            "POST",
            "https://public.example.net/raw",
            "/raw",
            STATUS_BODY,
        );
        let headers = request.headers_mut();
        headers.insert("X-Forwarded-Proto", "https".parse().unwrap());
        headers.insert("X-Forwarded-Host", "public.example.net".parse().unwrap());
        headers.insert("Host", "127.0.0.1:3000".parse().unwrap());
        request
    };
    let trusting = Verifier::builder()
        .token(TOKEN)
        .url_policy(UrlPolicy::trusted_proxy())
        .build()
        .unwrap();
    assert_eq!(send(app(trusting), proxied()).await.0, StatusCode::OK);
    // Default policy (configured base): forwarded headers are ignored.
    assert_eq!(
        send(app(verifier()), proxied()).await.0,
        StatusCode::FORBIDDEN
    );
    // Direct mode reads Host, not the forwarded headers.
    let direct = Verifier::builder()
        .token(TOKEN)
        .url_policy(UrlPolicy::direct(false))
        .build()
        .unwrap();
    assert_eq!(send(app(direct), proxied()).await.0, StatusCode::FORBIDDEN);
    let request = signed_request("POST", "http://127.0.0.1:3000/raw", "/raw", STATUS_BODY);
    let direct = Verifier::builder()
        .token(TOKEN)
        .url_policy(UrlPolicy::direct(false))
        .build()
        .unwrap();
    let mut request = request;
    request
        .headers_mut()
        .insert("Host", "127.0.0.1:3000".parse().unwrap());
    assert_eq!(send(app(direct), request).await.0, StatusCode::OK);
}

#[tokio::test]
async fn layer_verifies_every_route_and_hands_the_body_on() {
    async fn with_extension(Extension(verified): Extension<Verified>, body: Bytes) -> String {
        format!(
            "{} {}",
            verified.params().get("Status").unwrap_or("-"),
            body.len()
        )
    }
    let app = Router::new()
        .route("/ext", post(with_extension))
        .route("/typed", post(typed))
        .route("/health", get(|| async { "ok" }))
        .layer(PlivoLayer::new(verifier()))
        .with_state(verifier());
    let request = signed_request("POST", "https://example.com/ext", "/ext", STATUS_BODY);
    let (status, body) = send(app.clone(), request).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, format!("delivered {}", STATUS_BODY.len()))
    );
    let request = signed_request("POST", "https://example.com/typed", "/typed", STATUS_BODY);
    assert_eq!(send(app.clone(), request).await.1, "m-1 delivered");
    let unsigned = Request::get("/health").body(Body::empty()).unwrap();
    assert_eq!(send(app, unsigned).await.0, StatusCode::BAD_REQUEST);
}
