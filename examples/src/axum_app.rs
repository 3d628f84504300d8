//! The axum receiver's router.

use std::sync::Arc;

use axum::extract::{FromRef, FromRequest, Path, RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use plivo_webhook_axum::PlivoCallback;
use plivo_webhook_core::{Verified, Verifier};

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

/// Serves `router` on `listener` with hyper directly, so that slow clients are cut off:
/// the request head must arrive within `header_timeout` (`axum::serve` sets no such
/// timeout). Stops accepting on `shutdown` and lets open requests finish (10 s at most).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    header_timeout: std::time::Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto::Builder;
    use hyper_util::service::TowerToHyperService;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let service = TowerToHyperService::new(router.clone());
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
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
        .route("/", get(dashboard))
        .route("/dashboard/{*rest}", get(dashboard))
        .with_state(AppState(receiver))
}

/// `GET /` and `GET /dashboard/…` (see [`crate::dashboard`]).
async fn dashboard(State(app): State<AppState>, request: Request) -> Response {
    let uri = request.uri();
    let last_event_id = request
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok());
    let dashboard_request = crate::dashboard::Request {
        path: uri.path(),
        query: uri.query(),
        last_event_id,
    };
    match crate::dashboard::handle(&app.0, dashboard_request).await {
        crate::dashboard::Answer::Reply(reply) => reply.into_response(),
        crate::dashboard::Answer::Events(events) => {
            let chunks = futures_util::stream::unfold(events, |mut events| async move {
                let chunk = events.next_chunk().await?;
                Some((Ok::<_, std::convert::Infallible>(chunk), events))
            });
            (
                [
                    (header::CONTENT_TYPE, "text/event-stream"),
                    (header::CACHE_CONTROL, "no-cache"),
                ],
                axum::body::Body::from_stream(chunks),
            )
                .into_response()
        }
    }
}

/// Verifies a callback within the body timeout, counting and answering rejections.
async fn verified(
    app: &AppState,
    endpoint: &'static str,
    request: Request,
) -> Result<Verified, Response> {
    match tokio::time::timeout(
        app.0.body_timeout,
        PlivoCallback::from_request(request, app),
    )
    .await
    {
        Ok(Ok(PlivoCallback(verified))) => Ok(verified),
        Ok(Err(rejection)) => {
            app.0.rejected(endpoint, rejection.error());
            Err(rejection.into_response())
        }
        Err(_) => Err(app.0.body_timed_out(endpoint).into_response()),
    }
}

async fn status(State(app): State<AppState>, request: Request) -> Response {
    match verified(&app, "status", request).await {
        Ok(verified) => app.0.status(verified).await.into_response(),
        Err(response) => response,
    }
}

/// A signed GET is a callback (callback method GET); an unsigned GET is a health check.
async fn status_get(State(app): State<AppState>, request: Request) -> Response {
    if !app.0.is_signed(request.headers()) {
        return Receiver::health().into_response();
    }
    status(State(app), request).await
}

async fn inbound(State(app): State<AppState>, request: Request) -> Response {
    match verified(&app, "inbound", request).await {
        Ok(verified) => app.0.inbound(verified).await.into_response(),
        Err(response) => response,
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
