//! The actix-web receiver's routes, mirroring the axum router.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, Responder};
use plivo_webhook_actix::{guard::PlivoSigned, PlivoCallback, PlivoError};

use crate::receiver::{Receiver, Reply};

impl Responder for Reply {
    type Body = String;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<String> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::with_body(status, self.body).map_body(|head, body| {
            head.headers_mut().insert(
                actix_web::http::header::CONTENT_TYPE,
                actix_web::http::header::HeaderValue::from_static(self.content_type),
            );
            body
        })
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
        .route("/metrics", web::get().to(metrics));
}

async fn status(
    app: web::Data<Receiver>,
    callback: Result<PlivoCallback, PlivoError>,
) -> HttpResponse {
    match callback {
        Ok(PlivoCallback(verified)) => into_response(app.status(verified).await),
        Err(err) => {
            app.rejected("status", err.error());
            actix_web::ResponseError::error_response(&err)
        }
    }
}

async fn inbound(
    app: web::Data<Receiver>,
    callback: Result<PlivoCallback, PlivoError>,
) -> HttpResponse {
    match callback {
        Ok(PlivoCallback(verified)) => into_response(app.inbound(verified).await),
        Err(err) => {
            app.rejected("inbound", err.error());
            actix_web::ResponseError::error_response(&err)
        }
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
