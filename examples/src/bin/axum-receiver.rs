//! The axum receiver: `PLIVO_AUTH_TOKEN=… cargo run -p plivo-webhook-examples --bin axum-receiver`.
//!
//! Configuration from the environment or `.env` (see the README): `PLIVO_AUTH_TOKEN`,
//! `APP_BASE_URL`, `DATABASE_URL`, `BIND_ADDR`, `MAX_BODY_BYTES`, `RUST_LOG`. Prints
//! `listening on http://ADDR` once bound; shuts down gracefully on SIGINT and SIGTERM.

use std::process::ExitCode;
use std::sync::Arc;

use plivo_webhook_examples::{
    axum_app, config::Config, notify::LogNotifier, receiver::Receiver, store, telemetry,
};

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum-receiver: {err}");
            ExitCode::from(2)
        }
    }
}

async fn run() -> Result<(), String> {
    let config = Config::from_env()?;
    let verifier = config.verifier()?;
    let store = store::open(&config.database_url).await?;
    let mut receiver = Receiver::new(verifier, store, Arc::new(LogNotifier))
        .with_body_timeout(config.body_timeout)
        .with_replay_protection(
            store::open_nonces(&config.replay_protection, &config.database_url).await?,
        );
    if config.dashboard {
        receiver = receiver.with_feed();
    }
    let receiver = Arc::new(receiver);
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| format!("cannot bind BIND_ADDR {}: {e}", config.bind_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    telemetry::announce(addr, &config);
    axum_app::serve(
        listener,
        axum_app::router(receiver),
        config.header_timeout,
        telemetry::shutdown_signal(),
    )
    .await;
    Ok(())
}
