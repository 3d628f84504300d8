#!/usr/bin/env bash
# Fault drill: stops and restarts the local PostgreSQL under load, then kills the receiver
# with SIGKILL under load, and checks that nothing answered 200 is lost and nothing is
# stored twice. Stops the machine's PostgreSQL for ~5 s: do not run it beside other tests.
#   scripts/fault-test.sh [DATABASE_URL]
set -euo pipefail
cd "$(dirname "$0")/.."
url="${1:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
cargo build --release -q -p plivo-webhook-examples --bin axum-receiver --example fault_drill
target/release/examples/fault_drill target/release/axum-receiver "$url"
