//! The axum receiver (work in progress).
fn main() {}
