//! Conformance runner: verifies every vector of a `plivo-webhook-vectors/1` file.
//!
//! ```text
//! cargo run -p plivo-webhook-core --features testing --example vectors -- FILE.json
//! ```
//!
//! Prints each failing id with the reason, then `N passed, N failed`; exits 1 on any
//! failure and 2 when the file cannot be read.

use std::process::ExitCode;

use plivo_webhook_core::testing::vectors;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: vectors FILE.json");
        return ExitCode::from(2);
    };
    let file = match std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {path}: {e}"))
        .and_then(|json| vectors::parse(&json))
    {
        Ok(file) => file,
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let report = vectors::run(&file);
    println!("{report}");
    if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
