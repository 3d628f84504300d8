//! The hostile-input battery (see SECURITY.md for the table of inputs and answers), run
//! against both receivers over real TCP. After the battery, a valid callback is still
//! answered 200 and the process never panicked.

mod support;

use std::time::{Duration, Instant};

use plivo_webhook_core::testing::Signer;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PATH: &str = "/api/plivo/status";
const LIMIT: usize = 65536;

fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Signature headers (and content type) for `body` POSTed to `target`, as raw lines.
fn signed_lines(target: &str, body: &[u8]) -> String {
    let signed = Signer::new(TOKEN).sign("POST", &format!("{BASE}{target}"), body);
    signed
        .headers()
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect()
}

/// Reads one response's status code; 0 when the connection closed without one.
async fn read_status(stream: &mut TcpStream, within: Duration) -> u16 {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let deadline = Instant::now() + within;
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Sends raw bytes on a fresh connection and returns the status of the first response.
async fn raw(server: &Server, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr(server)).await.unwrap();
    let _ = stream.write_all(request).await;
    read_status(&mut stream, Duration::from_secs(10)).await
}

fn post(target: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// One case: its name, what is sent, and the statuses that are right.
async fn case(server: &Server, passed: &mut Vec<String>, name: &str, got: u16, want: &[u16]) {
    assert!(
        want.contains(&got),
        "{}: {name}: got {got}, want {want:?}",
        server.base
    );
    passed.push(format!("{name}: {got}"));
}

async fn battery(bin: &str) -> usize {
    let mut server = Server::start(
        bin,
        "memory:",
        &[("HEADER_TIMEOUT_SECS", "2"), ("BODY_TIMEOUT_SECS", "2")],
    );
    let mut passed = Vec::new();
    let good = status_body(&uuid(), "sent", 2, "");

    // Body over the limit, announced by Content-Length: 413 before reading it.
    let big = vec![b'a'; LIMIT + 1];
    let code = raw(&server, &post(PATH, &signed_lines(PATH, &big), &big)).await;
    case(
        &server,
        &mut passed,
        "body over limit (Content-Length)",
        code,
        &[413],
    )
    .await;

    // Body over the limit, chunked and endless: 413, and the server stops reading.
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n{}\r\n",
        signed_lines(PATH, b"a=1")
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut sent = 0usize;
    let mut code = 0;
    let chunk = format!("400\r\n{}\r\n", "a".repeat(1024));
    while sent < 4 * 1024 * 1024 {
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            code = read_status(&mut stream, Duration::from_secs(2)).await;
            break;
        }
        sent += 1024;
        let mut probe = [0u8; 1];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(5), stream.peek(&mut probe)).await
        {
            if n > 0 {
                code = read_status(&mut stream, Duration::from_secs(2)).await;
                break;
            }
        }
    }
    case(
        &server,
        &mut passed,
        "body over limit (chunked)",
        code,
        &[413],
    )
    .await;
    assert!(
        sent <= LIMIT + 256 * 1024,
        "{bin}: sent {sent} bytes before the 413"
    );
    println!("{bin}: 413 after {sent} bytes sent for a {LIMIT}-byte limit");

    // Content-Length lying: shorter than the body (the signature covers the whole body).
    let body = good.as_bytes();
    let mut request = format!(
        "POST {PATH} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n{}\r\n",
        body.len() - 10,
        signed_lines(PATH, body)
    )
    .into_bytes();
    request.extend_from_slice(body);
    let code = raw(&server, &request).await;
    case(
        &server,
        &mut passed,
        "Content-Length shorter than body",
        code,
        &[403],
    )
    .await;

    // Content-Length lying: longer than the body, then the client stops sending.
    let mut stream = TcpStream::connect(addr(&server)).await.unwrap();
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n{}\r\n{good}",
        body.len() + 100,
        signed_lines(PATH, body)
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.shutdown().await.unwrap();
    let code = read_status(&mut stream, Duration::from_secs(10)).await;
    case(
        &server,
        &mut passed,
        "Content-Length longer than body (then EOF)",
        code,
        &[400],
    )
    .await;

    // A valid chunked body.
    let id = uuid();
    let chunked_body = status_body(&id, "queued", 1, "");
    let (first, second) = chunked_body.split_at(20);
    let request = format!(
        "POST {PATH} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n{}\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
        signed_lines(PATH, chunked_body.as_bytes()),
        first.len(),
        second.len()
    );
    let code = raw(&server, request.as_bytes()).await;
    case(&server, &mut passed, "chunked body", code, &[200]).await;
    assert_eq!(status_of(&server, &id).await.1["status"], "queued");

    // Missing and duplicated signature headers.
    let code = raw(
        &server,
        &post(
            PATH,
            "Content-Type: application/x-www-form-urlencoded\r\n",
            good.as_bytes(),
        ),
    )
    .await;
    case(
        &server,
        &mut passed,
        "missing signature headers",
        code,
        &[400],
    )
    .await;
    let lines = signed_lines(PATH, good.as_bytes());
    let v3 = lines
        .lines()
        .find(|l| l.starts_with("X-Plivo-Signature-V3:"))
        .unwrap();
    let nonce = lines
        .lines()
        .find(|l| l.starts_with("X-Plivo-Signature-V3-Nonce:"))
        .unwrap();
    let code = raw(
        &server,
        &post(PATH, &format!("{lines}{v3}\r\n"), good.as_bytes()),
    )
    .await;
    case(
        &server,
        &mut passed,
        "duplicated signature header",
        code,
        &[400],
    )
    .await;
    let code = raw(
        &server,
        &post(PATH, &format!("{lines}{nonce}\r\n"), good.as_bytes()),
    )
    .await;
    case(
        &server,
        &mut passed,
        "duplicated nonce header",
        code,
        &[400],
    )
    .await;

    // Non-ASCII and invalid bytes in headers.
    let mut request = post(PATH, "Content-Type: application/x-www-form-urlencoded\r\nX-Plivo-Signature-V3-Nonce: 123\r\nX-Plivo-Signature-V3: \u{e9}\u{e9}\r\n", good.as_bytes());
    let code = raw(&server, &request).await;
    case(
        &server,
        &mut passed,
        "non-ASCII signature header",
        code,
        &[400],
    )
    .await;
    request = post(PATH, "Content-Type: application/x-www-form-urlencoded\r\nX-Plivo-Signature-V3-Nonce: 1\x012\r\nX-Plivo-Signature-V3: x\r\n", good.as_bytes());
    let code = raw(&server, &request).await;
    case(
        &server,
        &mut passed,
        "control byte in a header",
        code,
        &[400],
    )
    .await;

    // Invalid percent-encoding and invalid UTF-8 in body and query: signed, they verify
    // (the SDKs keep bad escapes literally and replace bad UTF-8) and are kept.
    let mut odd_body = format!(
        "MessageUUID={}&From=%ZZ&To=%E2%82&Status=sent&Note=",
        uuid()
    )
    .into_bytes();
    odd_body.extend_from_slice(b"\xff\xfe");
    let target = format!("{PATH}?x=%ZZ%FF&y=%");
    let code = raw(
        &server,
        &post(&target, &signed_lines(&target, &odd_body), &odd_body),
    )
    .await;
    case(
        &server,
        &mut passed,
        "invalid escapes and UTF-8, signed",
        code,
        &[200],
    )
    .await;
    let code = raw(
        &server,
        &post(
            &target,
            "Content-Type: application/x-www-form-urlencoded\r\n",
            &odd_body,
        ),
    )
    .await;
    case(
        &server,
        &mut passed,
        "invalid escapes and UTF-8, unsigned",
        code,
        &[400],
    )
    .await;

    // 10,000 parameters within the limit.
    let mut many = status_body(&uuid(), "sent", 2, "");
    for i in 0..10_000 {
        many.push_str(&format!(
            "&{}={}",
            char::from(b'a' + (i % 26) as u8),
            i % 10
        ));
    }
    assert!(many.len() < LIMIT);
    let code = raw(
        &server,
        &post(PATH, &signed_lines(PATH, many.as_bytes()), many.as_bytes()),
    )
    .await;
    case(&server, &mut passed, "10,000 parameters", code, &[200]).await;

    // A very long key.
    let long = format!(
        "{}&{}=1",
        status_body(&uuid(), "sent", 2, ""),
        "K".repeat(60_000)
    );
    let code = raw(
        &server,
        &post(PATH, &signed_lines(PATH, long.as_bytes()), long.as_bytes()),
    )
    .await;
    case(&server, &mut passed, "60 KB key", code, &[200]).await;

    // Wrong content type, wrong method, empty body.
    let lines = signed_lines(PATH, good.as_bytes())
        .replace("application/x-www-form-urlencoded", "application/json");
    let code = raw(&server, &post(PATH, &lines, good.as_bytes())).await;
    case(&server, &mut passed, "wrong content type", code, &[415]).await;
    let put = String::from_utf8(post(
        PATH,
        &signed_lines(PATH, good.as_bytes()),
        good.as_bytes(),
    ))
    .unwrap()
    .replacen("POST", "PUT", 1);
    let code = raw(&server, put.as_bytes()).await;
    case(&server, &mut passed, "wrong method", code, &[405]).await;
    let code = raw(&server, &post(PATH, &signed_lines(PATH, b""), b"")).await;
    case(
        &server,
        &mut passed,
        "empty body, signed (kept as dead letter)",
        code,
        &[200],
    )
    .await;
    let code = raw(&server, &post(PATH, "", b"")).await;
    case(&server, &mut passed, "empty body, unsigned", code, &[400]).await;

    // A slow client (one byte a second) is cut off, and others are served meanwhile.
    let slow_addr = addr(&server);
    let slow_head = tokio::spawn(async move {
        let mut stream = TcpStream::connect(slow_addr).await.unwrap();
        let started = Instant::now();
        for byte in
            b"POST /api/plivo/status HTTP/1.1\r\nHost: test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaa"
        {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            let mut probe = [0u8; 64];
            match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut probe)).await {
                Ok(Ok(_)) | Ok(Err(_)) => break, // closed (or answered) by the server
                Err(_) => {}
            }
            if started.elapsed() > Duration::from_secs(20) {
                break;
            }
        }
        started.elapsed()
    });
    let slow_addr = addr(&server);
    let slow_body = tokio::spawn(async move {
        let mut stream = TcpStream::connect(slow_addr).await.unwrap();
        let body = status_body("slow", "sent", 2, "");
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n{}\r\n",
            body.len(),
            signed_lines(PATH, body.as_bytes())
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut code = 0;
        for byte in body.as_bytes() {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            let mut probe = [0u8; 1];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(1), stream.peek(&mut probe)).await
            {
                if n > 0 {
                    code = read_status(&mut stream, Duration::from_secs(2)).await;
                }
                break;
            }
        }
        (code, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (code, _) = post_signed(&server, PATH, &status_body(&uuid(), "sent", 2, ""), TOKEN).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "served while slow clients wait"
    );
    case(
        &server,
        &mut passed,
        "served while slow clients wait",
        code,
        &[200],
    )
    .await;
    let head_time = slow_head.await.unwrap();
    assert!(
        head_time < Duration::from_secs(8),
        "{bin}: slow head cut after {head_time:?}"
    );
    case(
        &server,
        &mut passed,
        "slow request head is cut off",
        0,
        &[0],
    )
    .await;
    let (code, body_time) = slow_body.await.unwrap();
    assert!(
        body_time < Duration::from_secs(8),
        "{bin}: slow body cut after {body_time:?}"
    );
    case(&server, &mut passed, "slow body gets 408", code, &[408]).await;

    // Many concurrent connections.
    let mut tasks = Vec::new();
    for _ in 0..300 {
        let base = server.base.clone();
        tasks.push(tokio::spawn(async move {
            let body = status_body(&uuid(), "queued", 1, "");
            let signed = Signer::new(TOKEN).sign("POST", &format!("{BASE}{PATH}"), body.as_bytes());
            let mut request = reqwest::Client::new()
                .post(format!("{base}{PATH}"))
                .body(body);
            for (name, value) in signed.headers() {
                request = request.header(name, value);
            }
            request
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }));
    }
    let mut ok = 0;
    for task in tasks {
        ok += usize::from(task.await.unwrap() == 200);
    }
    case(
        &server,
        &mut passed,
        "300 concurrent connections",
        if ok == 300 { 200 } else { 0 },
        &[200],
    )
    .await;

    // Still healthy afterwards, and never panicked.
    let (code, _) = post_signed(
        &server,
        PATH,
        &status_body(&uuid(), "delivered", 3, ""),
        TOKEN,
    )
    .await;
    case(
        &server,
        &mut passed,
        "valid callback after the battery",
        code,
        &[200],
    )
    .await;
    assert!(server.is_running(), "{bin} exited");
    let log = server.log();
    assert!(!log.contains("panicked"), "{bin} panicked: {log}");
    assert!(!log.contains(TOKEN));
    println!(
        "{bin}: {} hostile-input cases passed:\n  {}",
        passed.len(),
        passed.join("\n  ")
    );
    passed.len()
}

#[tokio::test]
async fn hostile_inputs_against_both_receivers() {
    let mut total = 0;
    for bin in RECEIVERS {
        total += battery(bin).await;
    }
    println!("battery: {total} cases passed");
    assert_eq!(total, 2 * 23);
}
