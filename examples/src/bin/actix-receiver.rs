//! The actix-web receiver: `PLIVO_AUTH_TOKEN=… cargo run -p plivo-webhook-examples --bin actix-receiver`.
//!
//! Same configuration and HTTP API as `axum-receiver`. Prints `listening on http://ADDR`
//! once bound; actix-web shuts down gracefully on SIGINT and SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use actix_web::{web, App, HttpServer};
use plivo_webhook_examples::{
    actix_app, config::Config, notify::LogNotifier, receiver::Receiver, store, telemetry,
};

#[actix_web::main]
async fn main() -> ExitCode {
    telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("actix-receiver: {err}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let verifier = config.verifier()?;
    let store = store::open(&config.database_url).await?;
    let mut receiver = Receiver::new(verifier.clone(), store, Arc::new(LogNotifier))
        .with_body_timeout(config.body_timeout)
        .with_replay_protection(
            store::open_nonces(&config.replay_protection, &config.database_url).await?,
        );
    if config.dashboard {
        receiver = receiver.with_feed();
    }
    let receiver = web::Data::new(receiver);
    let listener = std::net::TcpListener::bind(config.bind_addr)
        .map_err(|e| format!("cannot bind BIND_ADDR {}: {e}", config.bind_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(receiver.clone())
            .configure(actix_app::routes)
    })
    // The request head must arrive within the header timeout (slow clients are cut off).
    .client_request_timeout(config.header_timeout)
    .client_disconnect_timeout(std::time::Duration::from_secs(1))
    .shutdown_timeout(10)
    .listen(listener)
    .map_err(|e| format!("cannot listen: {e}"))?
    .run();
    telemetry::announce(addr, &config);
    server.await.map_err(|e| format!("server error: {e}"))
}
