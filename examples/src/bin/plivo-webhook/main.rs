//! `plivo-webhook`: sign, send, verify and diagnose Plivo callbacks without a Plivo account
//! or a tunnel.
//!
//! ```text
//! plivo-webhook sign   --url https://example.com/api/plivo/status --param Status=sent
//! plivo-webhook send   --url http://127.0.0.1:3000/api/plivo/status --sequence queued,sent,delivered
//! plivo-webhook verify --url … --nonce … --signature … --body … --diagnose
//! plivo-webhook vectors plivo-v3-v2.json
//! ```
//!
//! The auth token comes from `--token` or `PLIVO_AUTH_TOKEN` and is never printed. Exit
//! codes: 0 success, 1 a negative answer (invalid signature, an unexpected HTTP status, a
//! failing vector), 2 bad input (a malformed argument, an unreadable file).

#![forbid(unsafe_code)]

mod client;
mod failure;
mod form;
mod load;
mod send;
mod sign;
mod templates;
mod vectors;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sign, send, verify and diagnose Plivo callbacks locally.
#[derive(Debug, Parser)]
#[command(name = "plivo-webhook", version, about, long_about = None)]
#[command(after_help = "Examples:
  plivo-webhook sign --url https://example.com/api/plivo/status --param Status=sent --curl
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/status --sequence queued,sent,delivered
  plivo-webhook verify --url https://example.com/api/plivo/status --nonce N --signature S --body 'Status=sent' --diagnose
  plivo-webhook vectors plivo-webhook-core/tests/data/plivo-v3-v2.json

The auth token comes from --token or the PLIVO_AUTH_TOKEN environment variable.")]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Print the signature headers Plivo would send for a request.
    Sign(sign::SignArgs),
    /// Sign built-in callbacks and send them to an endpoint (also a load generator).
    Send(send::SendArgs),
    /// Check a signature; with --diagnose, name the URL variant it matches.
    Verify(verify::VerifyArgs),
    /// Run a conformance-vector file (plivo-webhook-vectors/1) through the verifier.
    Vectors(vectors::VectorsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Sign(args) => sign::run(&args),
        Command::Send(args) => send::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Vectors(args) => vectors::run(&args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}
