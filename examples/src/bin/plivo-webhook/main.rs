//! The `plivo-webhook` CLI (work in progress).
fn main() {}
