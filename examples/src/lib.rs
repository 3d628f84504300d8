//! Runnable Plivo callback receivers (axum, actix-web) with storage, and the CLI.
