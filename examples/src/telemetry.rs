//! Logging setup shared by the binaries.

/// Installs a `tracing` subscriber reading `RUST_LOG` (default `info`), to stderr.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Prints the one line that tells scripts and tests where the receiver listens, and logs
/// the configuration (no token).
pub fn announce(addr: std::net::SocketAddr, config: &crate::config::Config) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "listening on http://{addr}");
    let _ = stdout.flush();
    let store = config.database_url.split(':').next().unwrap_or_default();
    match &config.app_base_url {
        Some(base) => tracing::info!(%addr, store, app_base_url = %base, "receiver ready"),
        None => tracing::warn!(
            %addr,
            store,
            "APP_BASE_URL is not set: verifying against http://<Host header>; set it to the public base URL configured in Plivo"
        ),
    }
}
