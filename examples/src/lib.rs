//! Runnable Plivo callback receivers (axum, actix-web) with storage, and the CLI.
//!
//! Both receivers serve the same HTTP API from the same [`receiver::Receiver`]; only the
//! framework wiring differs ([`axum_app`], [`actix_app`]). Storage is in [`store`].

#![forbid(unsafe_code)]

pub mod actix_app;
pub mod axum_app;
pub mod config;
pub mod dashboard;
pub mod feed;
pub mod metrics;
pub mod notify;
pub mod receiver;
pub mod store;
pub mod telemetry;
