//! A bare axum route that reads the request body and does nothing else: the HTTP ceiling
//! the benchmarks compare against. `BIND_ADDR` (default `127.0.0.1:0`); prints
//! `listening on http://ADDR`.

#[tokio::main]
async fn main() {
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind BIND_ADDR");
    println!(
        "listening on http://{}",
        listener.local_addr().expect("local address")
    );
    let app = axum::Router::new().fallback(|_body: axum::body::Bytes| async { "ok" });
    axum::serve(listener, app).await.expect("serve");
}
