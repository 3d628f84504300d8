//! A bare actix-web route that reads the request body and does nothing else: the HTTP
//! ceiling the benchmarks compare against. `BIND_ADDR` (default `127.0.0.1:0`); prints
//! `listening on http://ADDR`.

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("BIND_ADDR").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = std::net::TcpListener::bind(&addr)?;
    println!("listening on http://{}", listener.local_addr()?);
    actix_web::HttpServer::new(|| {
        actix_web::App::new().default_service(actix_web::web::to(
            |_body: actix_web::web::Bytes| async { "ok" },
        ))
    })
    .listen(listener)?
    .run()
    .await
}
