//! The axum receiver's router.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use plivo_webhook_axum::{PlivoCallback, PlivoRejection};
use plivo_webhook_core::Verifier;

use crate::receiver::{Receiver, Reply};

/// The router state: the shared receiver.
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Receiver>);

impl FromRef<AppState> for Verifier {
    fn from_ref(state: &AppState) -> Verifier {
        state.0.verifier.clone()
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(header::CONTENT_TYPE, self.content_type)],
            self.body,
        )
            .into_response()
    }
}

/// The receiver's routes (see the README for the API).
pub fn router(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/api/plivo/status", post(status).get(status_get))
        .route("/api/plivo/inbound", post(inbound))
        .route("/api/messages", get(messages))
        .route("/api/messages/{message_uuid}", get(message))
        .route("/healthz", get(|| async { Receiver::health() }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .with_state(AppState(receiver))
}

async fn status(
    State(app): State<AppState>,
    callback: Result<PlivoCallback, PlivoRejection>,
) -> Response {
    match callback {
        Ok(PlivoCallback(verified)) => app.0.status(verified).await.into_response(),
        Err(rejection) => {
            app.0.rejected("status", rejection.error());
            rejection.into_response()
        }
    }
}

/// A signed GET is a callback (callback method GET); an unsigned GET is a health check.
async fn status_get(State(app): State<AppState>, request: Request) -> Response {
    if !app.0.is_signed(request.headers()) {
        return Receiver::health().into_response();
    }
    let callback = PlivoCallback::from_request(request, &app).await;
    status(State(app), callback).await
}

async fn inbound(
    State(app): State<AppState>,
    callback: Result<PlivoCallback, PlivoRejection>,
) -> Response {
    match callback {
        Ok(PlivoCallback(verified)) => app.0.inbound(verified).await.into_response(),
        Err(rejection) => {
            app.0.rejected("inbound", rejection.error());
            rejection.into_response()
        }
    }
}

async fn message(State(app): State<AppState>, Path(message_uuid): Path<String>) -> Reply {
    app.0.message(&message_uuid).await
}

async fn messages(State(app): State<AppState>, RawQuery(query): RawQuery) -> Reply {
    app.0.messages(query.as_deref()).await
}

async fn ready(State(app): State<AppState>) -> Reply {
    app.0.ready().await
}

async fn metrics(State(app): State<AppState>) -> Reply {
    app.0.metrics_text()
}
