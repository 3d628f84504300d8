//! The actix-web receiver's routes, mirroring the axum router.

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, Responder};
use plivo_webhook_actix::{guard::PlivoSigned, PlivoCallback};
use plivo_webhook_core::Verified;

use crate::receiver::{Receiver, Reply};

impl Responder for Reply {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse {
        into_response(self)
    }
}

/// Registers the receiver's routes. The app needs `app_data` of the receiver's
/// `Verifier` and `web::Data<Receiver>`.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/api/plivo/status")
                .route(web::post().to(status))
                .route(web::get().guard(PlivoSigned).to(status))
                .route(web::get().to(|| async { Receiver::health() })),
        )
        .route("/api/plivo/inbound", web::post().to(inbound))
        .route("/api/messages", web::get().to(messages))
        .route("/api/messages/{message_uuid}", web::get().to(message))
        .route("/healthz", web::get().to(|| async { Receiver::health() }))
        .route("/readyz", web::get().to(ready))
        .route("/metrics", web::get().to(metrics))
        .route("/", web::get().to(dashboard))
        .route("/dashboard/{rest:.*}", web::get().to(dashboard));
}

/// `GET /` and `GET /dashboard/…` (see [`crate::dashboard`]).
async fn dashboard(app: web::Data<Receiver>, request: HttpRequest) -> HttpResponse {
    let last_event_id = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok());
    let dashboard_request = crate::dashboard::Request {
        path: request.path(),
        query: Some(request.query_string()).filter(|q| !q.is_empty()),
        last_event_id,
    };
    match crate::dashboard::handle(&app.into_inner(), dashboard_request).await {
        crate::dashboard::Answer::Reply(reply) => into_response(reply),
        crate::dashboard::Answer::Events(events) => {
            let chunks = futures_util::stream::unfold(events, |mut events| async move {
                let chunk = events.next_chunk().await?;
                Some((
                    Ok::<_, std::convert::Infallible>(actix_web::web::Bytes::from(chunk)),
                    events,
                ))
            });
            HttpResponse::Ok()
                .content_type("text/event-stream")
                .insert_header(("Cache-Control", "no-cache"))
                .streaming(chunks)
        }
    }
}

/// Verifies a callback within the body timeout, counting and answering rejections.
async fn verified(
    app: &Receiver,
    endpoint: &'static str,
    request: &HttpRequest,
    payload: web::Payload,
) -> Result<Verified, HttpResponse> {
    let mut payload = payload.into_inner();
    let extract = PlivoCallback::<()>::from_request(request, &mut payload);
    match tokio::time::timeout(app.body_timeout, extract).await {
        Ok(Ok(PlivoCallback(verified))) => Ok(verified),
        Ok(Err(err)) => {
            app.rejected(endpoint, err.error());
            Err(actix_web::ResponseError::error_response(&err))
        }
        Err(_) => Err(into_response(app.body_timed_out(endpoint))),
    }
}

async fn status(
    app: web::Data<Receiver>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match verified(&app, "status", &request, payload).await {
        Ok(verified) => into_response(app.status(verified).await),
        Err(response) => response,
    }
}

async fn inbound(
    app: web::Data<Receiver>,
    request: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    match verified(&app, "inbound", &request, payload).await {
        Ok(verified) => into_response(app.inbound(verified).await),
        Err(response) => response,
    }
}

async fn message(app: web::Data<Receiver>, path: web::Path<String>) -> Reply {
    app.message(&path).await
}

async fn messages(app: web::Data<Receiver>, request: HttpRequest) -> Reply {
    app.messages(request.uri().query()).await
}

async fn ready(app: web::Data<Receiver>) -> Reply {
    app.ready().await
}

async fn metrics(app: web::Data<Receiver>) -> Reply {
    app.metrics_text()
}

fn into_response(reply: Reply) -> HttpResponse {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type(reply.content_type)
        .body(reply.body)
}
