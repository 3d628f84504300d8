//! `vectors`: the core's conformance runner over a `plivo-webhook-vectors/1` file.

use std::path::PathBuf;

use clap::Args;
use plivo_webhook_core::testing::vectors;

use crate::failure::{read_file, Failure};

/// Arguments of `vectors`.
#[derive(Debug, Args)]
#[command(after_help = "Example:
  plivo-webhook vectors plivo-webhook-core/tests/data/plivo-v3-v2.json

Prints each failing id with the reason, then `N passed, N failed`. Exit 1 on any failure.")]
pub(crate) struct VectorsArgs {
    /// The vector file (JSON, format plivo-webhook-vectors/1).
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Runs `vectors`.
pub(crate) fn run(args: &VectorsArgs) -> Result<(), Failure> {
    let json = String::from_utf8(read_file(&args.file)?)
        .map_err(|_| Failure::usage(format!("{} is not UTF-8 JSON", args.file.display())))?;
    let file = vectors::parse(&json)
        .map_err(|e| Failure::usage(format!("{}: {e}", args.file.display())))?;
    let report = vectors::run(&file);
    println!("{report}");
    if report.failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Negative)
    }
}
