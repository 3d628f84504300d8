//! The `plivo-webhook` CLI, run as a process: `verify --diagnose` names each URL variant,
//! `sign` output verifies, `vectors` passes the SDK vectors, every `--help` has an example,
//! bad input exits 2, and end to end against both receivers over TCP.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use assert_cmd::Command;
use plivo_webhook_core::testing::Signer;

const TOKEN: &str = "CLI_TEST_TOKEN_7c1e9a";
const PUBLIC: &str = "https://hooks.example.com";
const RECEIVERS: [&str; 2] = ["axum-receiver", "actix-receiver"];

/// The CLI with a clean environment (no token inherited from the shell).
fn cli() -> Command {
    let mut command = Command::cargo_bin("plivo-webhook").expect("the plivo-webhook binary");
    command.env_remove("PLIVO_AUTH_TOKEN");
    command
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Runs `verify --diagnose` for a request Plivo signed for `signed_url` while the server
/// checks `checked_url`; returns the exit code and stdout.
fn diagnose(signed_url: &str, checked_url: &str, token: &str) -> (Option<i32>, String) {
    let body = "MessageUUID=a3f1c2d4-9e21-11ee-8c4b-0242ac110003&Status=delivered&ErrorCode=";
    let signed = Signer::new(TOKEN).sign_with_nonce(
        "POST",
        signed_url,
        body.as_bytes(),
        "12345678901234567890",
    );
    let output = cli()
        .args(["verify", "--diagnose", "--url", checked_url])
        .args(["--nonce", signed.nonce(), "--signature", signed.signature()])
        .args(["--body", body])
        .env("PLIVO_AUTH_TOKEN", token)
        .output()
        .unwrap();
    (output.status.code(), stdout(&output))
}

#[test]
fn diagnose_names_each_url_variant() {
    let cases = [
        // (Plivo signed, the server checked, the advice)
        (
            "http://example.com/api/plivo/status",
            "https://example.com/api/plivo/status",
            "Plivo calls http://",
        ),
        (
            "https://example.com/api/plivo/status/",
            "https://example.com/api/plivo/status",
            "APP_BASE_URL or the route likely lacks a trailing slash",
        ),
        (
            "https://example.com/api/plivo/status",
            "https://example.com/api/plivo/status/",
            "likely has an extra trailing slash",
        ),
        (
            "https://example.com:443/api/plivo/status",
            "https://example.com/api/plivo/status",
            "writes the port :443",
        ),
        (
            "https://example.com/api/plivo/status",
            "https://example.com:8443/api/plivo/status",
            "remove :8443",
        ),
        (
            "https://example.com/api/plivo/status",
            "https://example.com/api/plivo/status?tenant=7",
            "has no query string",
        ),
    ];
    for (signed, checked, advice) in cases {
        let (code, out) = diagnose(signed, checked, TOKEN);
        assert_eq!(code, Some(1), "{signed} checked as {checked}: {out}");
        assert!(
            out.contains(&format!("the signature matches {signed}")),
            "{signed} checked as {checked}: {out}"
        );
        assert!(out.contains(advice), "{signed} checked as {checked}: {out}");
    }

    let url = "https://example.com/api/plivo/status";
    let (code, out) = diagnose(url, url, "SOME_OTHER_TOKEN");
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no variant matches"), "{out}");

    let (code, out) = diagnose(url, url, TOKEN);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("valid"), "{out}");
}

/// The `Name: value` lines printed by `sign`.
fn header(out: &str, name: &str) -> String {
    out.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} in {out:?}"))
        .to_owned()
}

#[test]
fn sign_output_verifies() {
    let url = "https://example.com/api/plivo/status";
    let output = cli()
        .args(["sign", "--url", url, "--token", TOKEN])
        .args(["--param", "Status=delivered", "--param", "Text=Hi, there"])
        .args(["--param", "ErrorCode="])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let out = stdout(&output);
    assert!(!out.contains(TOKEN), "sign printed the token: {out}");
    assert_eq!(
        header(&out, "Content-Type"),
        "application/x-www-form-urlencoded"
    );
    let nonce = header(&out, "X-Plivo-Signature-V3-Nonce");
    assert_eq!(nonce.len(), 20, "a random 20-digit nonce: {nonce}");
    let signature = header(&out, "X-Plivo-Signature-V3");

    let verify = |body: &str, token: &str| {
        cli()
            .args(["verify", "--url", url, "--nonce", &nonce])
            .args(["--signature", &signature, "--body", body])
            .env("PLIVO_AUTH_TOKEN", token)
            .output()
            .unwrap()
    };
    let body = "Status=delivered&Text=Hi%2C+there&ErrorCode=";
    let valid = verify(body, &format!("OLD_TOKEN,{TOKEN}"));
    assert_eq!(valid.status.code(), Some(0), "{valid:?}");
    assert!(stdout(&valid).starts_with("valid"), "{valid:?}");
    let tampered = verify("Status=failed&Text=Hi%2C+there&ErrorCode=", TOKEN);
    assert_eq!(tampered.status.code(), Some(1), "{tampered:?}");
    assert!(stdout(&tampered).starts_with("invalid"), "{tampered:?}");

    // A fixed nonce, a GET (parameters signed in the query) and a body file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("callback.form");
    std::fs::write(&file, "Status=sent&MessageUUID=abc").unwrap();
    let output = cli()
        .args(["sign", "--method", "get", "--url", url, "--nonce", "42"])
        .arg("--body-file")
        .arg(&file)
        .env("PLIVO_AUTH_TOKEN", TOKEN)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let out = stdout(&output);
    assert_eq!(header(&out, "X-Plivo-Signature-V3-Nonce"), "42");
    assert!(!out.contains("Content-Type"), "{out}");
    cli()
        .args([
            "verify", "--method", "GET", "--token", TOKEN, "--nonce", "42",
        ])
        .args(["--url", &format!("{url}?Status=sent&MessageUUID=abc")])
        .args(["--signature", &header(&out, "X-Plivo-Signature-V3")])
        .assert()
        .success();

    // --curl: a ready command to the address given by --send-to.
    let output = cli()
        .args([
            "sign",
            "--url",
            url,
            "--token",
            TOKEN,
            "--param",
            "Status=sent",
        ])
        .args([
            "--curl",
            "--send-to",
            "http://127.0.0.1:3000/api/plivo/status",
        ])
        .output()
        .unwrap();
    let out = stdout(&output);
    assert!(
        out.starts_with("curl ")
            && out.contains("-X POST 'http://127.0.0.1:3000/api/plivo/status'"),
        "{out}"
    );
    assert!(out.contains("-H 'X-Plivo-Signature-V3: "), "{out}");
    assert!(out.contains("--data-raw 'Status=sent'"), "{out}");
}

#[test]
fn vectors_pass() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plivo-webhook-core/tests/data/plivo-v3-v2.json"
    );
    let output = cli().args(["vectors", path]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(
        stdout(&output).contains("164 passed, 0 failed"),
        "{output:?}"
    );
}

#[test]
fn every_help_has_an_example_and_hides_the_token() {
    for command in ["sign", "send", "verify", "vectors"] {
        let output = cli()
            .args([command, "--help"])
            .env("PLIVO_AUTH_TOKEN", "SECRET_IN_ENV_123")
            .output()
            .unwrap();
        assert!(output.status.success(), "{command}: {output:?}");
        let out = stdout(&output);
        assert!(out.contains("Example"), "{command}: {out}");
        assert!(
            out.contains(&format!("plivo-webhook {command} ")),
            "{command}: {out}"
        );
        assert!(!out.contains("SECRET_IN_ENV_123"), "{command}: {out}");
    }
    let output = cli().arg("--help").output().unwrap();
    assert!(stdout(&output).contains("Examples:"), "{output:?}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let url = "https://example.com/api/plivo/status";
    let cases: [&[&str]; 5] = [
        &["sign", "--url", url, "--token", TOKEN, "--param", "novalue"],
        &[
            "sign",
            "--url",
            url,
            "--token",
            TOKEN,
            "--body-file",
            "/nonexistent/x.form",
        ],
        &["sign", "--url", "example.com/no-scheme", "--token", TOKEN],
        &["sign", "--url", url, "--token", " padded "],
        &["vectors", "/nonexistent/vectors.json"],
    ];
    for args in cases {
        let output = cli().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert!(
            err.starts_with("error:") || err.starts_with("plivo-webhook: "),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let output = cli()
        .args([
            "sign",
            "--url",
            url,
            "--token",
            TOKEN,
            "--body-file",
            "/nonexistent/x.form",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/x.form"), "{err}");
}

#[test]
fn send_counts_a_silent_server_as_an_error() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let output = cli()
        .args(["send", "--url", &format!("http://{addr}/api/plivo/status")])
        .args(["--token", TOKEN, "--timeout-ms", "300"])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(stdout(&output).contains("no answer"), "{output:?}");
}

/// Reads one request (head and `Content-Length` body) from `stream`; `None` at EOF.
fn read_request(reader: &mut BufReader<std::net::TcpStream>) -> Option<String> {
    let mut head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(head)
}

/// A server on 127.0.0.1:0 that answers `200 ok` to each request, checking its request
/// line and `Host`, and closes a connection after one answer (saying so with
/// `Connection: close`) when `close` is set. Returns its address and a count of the
/// connections it accepted.
fn counting_server(
    close: bool,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&connections);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counted.fetch_add(1, SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                while let Some(head) = read_request(&mut reader) {
                    let expected = format!("POST /api/plivo/status HTTP/1.1\r\nhost: {addr}\r\n");
                    assert!(
                        head.to_ascii_lowercase()
                            .starts_with(&expected.to_ascii_lowercase()),
                        "{head}"
                    );
                    let answer: &[u8] = if close {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
                    } else {
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                    };
                    if std::io::Write::write_all(reader.get_mut(), answer).is_err() || close {
                        break;
                    }
                }
            });
        }
    });
    (addr, connections)
}

/// Runs `send --json` to `addr` with `args`; the JSON summary.
fn send_json(addr: std::net::SocketAddr, args: &[&str]) -> serde_json::Value {
    let output = cli()
        .args(["send", "--url", &format!("http://{addr}/api/plivo/status")])
        .args(["--token", TOKEN, "--json"])
        .args(args)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    serde_json::from_str(stdout(&output).trim()).unwrap()
}

#[test]
fn send_opens_a_new_connection_when_the_server_closes_one() {
    let (addr, connections) = counting_server(true);
    let summary = send_json(addr, &["--count", "5"]);
    assert_eq!(summary["by_status"]["200"], 5, "{summary}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 5);
}

#[test]
fn send_keeps_one_connection_per_sender() {
    let (addr, connections) = counting_server(false);
    let summary = send_json(addr, &["--count", "40", "--concurrency", "3"]);
    assert_eq!(summary["by_status"]["200"], 40, "{summary}");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 3);
}

#[test]
fn send_reports_a_refused_connection_and_an_https_url() {
    // A port with nothing listening.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = cli()
        .args(["send", "--url", &format!("http://{addr}/api/plivo/status")])
        .args(["--token", TOKEN])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(
        stdout(&output).contains(&format!("cannot connect to {addr}")),
        "{output:?}"
    );

    let output = cli()
        .args(["send", "--url", "https://127.0.0.1:1/api/plivo/status"])
        .args(["--token", TOKEN])
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("--signed-url"), "{err}");
}

/// A receiver binary started on 127.0.0.1:0 with an in-memory store; killed on drop.
struct Receiver {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Receiver {
    fn start(bin: &str) -> Receiver {
        let path = match bin {
            "axum-receiver" => env!("CARGO_BIN_EXE_axum-receiver"),
            "actix-receiver" => env!("CARGO_BIN_EXE_actix-receiver"),
            other => panic!("unknown receiver {other}"),
        };
        let dir = tempfile::tempdir().unwrap();
        let mut child = StdCommand::new(path)
            .current_dir(dir.path())
            .env_clear()
            .env("PLIVO_AUTH_TOKEN", TOKEN)
            .env("APP_BASE_URL", PUBLIC)
            .env("DATABASE_URL", "memory:")
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            // Keep draining so the receiver never writes into a closed pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut receiver = Receiver {
            child,
            base: String::new(),
            _dir: dir,
        };
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        match line.trim().strip_prefix("listening on ") {
            Some(base) => receiver.base = base.to_owned(),
            None => panic!("{bin} did not print `listening on …`: {line:?}"),
        }
        receiver
    }

    /// Runs `send` to `path` on this receiver, signed for the public URL.
    fn send(&self, path: &str, token: &str, args: &[&str]) -> std::process::Output {
        cli()
            .args(["send", "--url", &format!("{}{path}", self.base)])
            .args(["--signed-url", &format!("{PUBLIC}{path}")])
            .args(args)
            .env("PLIVO_AUTH_TOKEN", token)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    }

    /// `GET /api/messages/{uuid}`: the status code and the JSON body.
    fn message(&self, uuid: &str) -> (u16, serde_json::Value) {
        let url = format!("{}/api/messages/{uuid}", self.base);
        let (host, path) = url
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
            .unwrap();
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        std::io::Write::write_all(
            &mut stream,
            format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut raw = String::new();
        stream.read_to_string(&mut raw).unwrap();
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(body)
        } else {
            body.to_owned()
        };
        (
            status,
            serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Decodes a chunked HTTP/1.1 body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn end_to_end_sequence_duplicate_and_forgery() {
    for bin in RECEIVERS {
        let receiver = Receiver::start(bin);
        let uuid = format!(
            "e2e00000-0000-11ee-8000-{:012x}",
            fastrand::u64(..) & 0xffff_ffff_ffff
        );
        let status = "/api/plivo/status";

        // A sequence arrives in order and is stored.
        let output = receiver.send(
            status,
            TOKEN,
            &[
                "--sequence",
                "queued,sent,delivered",
                "--message-uuid",
                &uuid,
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{bin}: {output:?}");
        let out = stdout(&output);
        for name in ["queued", "sent", "delivered"] {
            assert!(out.contains(&format!("200 {name} {uuid}")), "{bin}: {out}");
        }
        assert!(out.contains("sent 3 requests"), "{bin}: {out}");
        let (code, message) = receiver.message(&uuid);
        assert_eq!(code, 200, "{bin}: {message}");
        assert_eq!(message["message_uuid"], uuid.as_str(), "{bin}: {message}");
        assert_eq!(message["status"], "delivered", "{bin}: {message}");
        let events: Vec<&str> = message["events"]
            .as_array()
            .unwrap_or_else(|| panic!("{bin}: no events in {message}"))
            .iter()
            .filter_map(|e| e["status"].as_str())
            .collect();
        assert_eq!(events, ["queued", "sent", "delivered"], "{bin}: {message}");

        // A duplicate (Plivo's retry) is answered 200 and adds nothing.
        let output = receiver.send(
            status,
            TOKEN,
            &[
                "--sequence",
                "delivered",
                "--message-uuid",
                &uuid,
                "--duplicates",
                "1",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{bin}: {output:?}");
        assert!(stdout(&output).contains("200 × 2"), "{bin}: {output:?}");
        let (_, message) = receiver.message(&uuid);
        assert_eq!(
            message["events"].as_array().map(Vec::len),
            Some(3),
            "{bin}: {message}"
        );

        // A wrong token is answered 403 and the CLI exits 1.
        let forged = format!(
            "e2e00000-0000-11ee-8000-{:012x}",
            fastrand::u64(..) & 0xffff_ffff_ffff
        );
        let output = receiver.send(status, "NOT_THE_TOKEN", &["--message-uuid", &forged]);
        assert_eq!(output.status.code(), Some(1), "{bin}: {output:?}");
        assert!(
            stdout(&output).contains("403 delivered"),
            "{bin}: {output:?}"
        );
        assert_eq!(
            receiver.message(&forged).0,
            404,
            "{bin}: a forgery was stored"
        );

        // Load mode: figures in JSON, every answer 200.
        let output = receiver.send(
            status,
            TOKEN,
            &[
                "--sequence",
                "queued,delivered",
                "--count",
                "20",
                "--concurrency",
                "4",
                "--json",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{bin}: {output:?}");
        let summary: serde_json::Value = serde_json::from_str(stdout(&output).trim())
            .unwrap_or_else(|e| panic!("{bin}: not JSON ({e}): {output:?}"));
        assert_eq!(summary["sent"], 40, "{bin}: {summary}");
        assert_eq!(summary["by_status"]["200"], 40, "{bin}: {summary}");
        assert_eq!(summary["unexpected"], 0, "{bin}: {summary}");
        for key in ["rps", "p50_ms", "p90_ms", "p99_ms", "max_ms"] {
            assert!(
                summary[key].as_f64().is_some_and(|v| v > 0.0),
                "{bin}: {key} in {summary}"
            );
        }

        // Inbound templates go to the inbound route.
        let output = receiver.send("/api/plivo/inbound", TOKEN, &["--sequence", "inbound-sms"]);
        assert_eq!(output.status.code(), Some(0), "{bin}: {output:?}");
    }
}
