//! The actix-web receiver (work in progress).
fn main() {}
