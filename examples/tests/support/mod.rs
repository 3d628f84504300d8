//! Shared test support: start a receiver binary on 127.0.0.1:0, sign and send callbacks,
//! and give each PostgreSQL test its own schema.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use plivo_webhook_core::testing::Signer;

pub const TOKEN: &str = "E2E_TEST_TOKEN_5f8a2c";
pub const BASE: &str = "https://hooks.example.com";
pub const RECEIVERS: [&str; 2] = ["axum-receiver", "actix-receiver"];

/// A running receiver process, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts `bin` with the given database and extra environment.
    pub fn start(bin: &str, database_url: &str, extra: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let stderr = dir.path().join("stderr.log");
        let path = match bin {
            "axum-receiver" => env!("CARGO_BIN_EXE_axum-receiver"),
            "actix-receiver" => env!("CARGO_BIN_EXE_actix-receiver"),
            other => panic!("unknown receiver {other}"),
        };
        let mut command = Command::new(path);
        command
            .current_dir(dir.path())
            .env_clear()
            .env("PLIVO_AUTH_TOKEN", TOKEN)
            .env("APP_BASE_URL", BASE)
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let Some(base) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            panic!(
                "{bin} did not start: {line:?}; stderr: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        };
        Server {
            child,
            base: base.to_owned(),
            stderr,
            _dir: dir,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Stops the process (SIGKILL) and waits for it.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; its exit status.
    pub fn terminate(mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Whether the process is still running (it never panicked and exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A status callback body.
pub fn status_body(uuid: &str, status: &str, sequence: u32, error_code: &str) -> String {
    format!(
        "MessageUUID={uuid}&From=14155550100&To=14155550123&Status={status}&Sequence={sequence}&ErrorCode={error_code}&Type=sms&Units=1&TotalRate=0.00550&TotalAmount=0.00550&PartInfo=1+of+1&MessageTime=2024-01-08+09%3A19%3A52"
    )
}

/// Sends a signed POST to `path` (signed for `BASE + path`) with `token`.
pub async fn post_signed(server: &Server, path: &str, body: &str, token: &str) -> (u16, String) {
    let signed = Signer::new(token).sign("POST", &format!("{BASE}{path}"), body.as_bytes());
    let mut request = client().post(server.url(path)).body(body.to_owned());
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Sends a signed status callback to the receiver at `base` on a task of its own (so that
/// many can be in flight, or one can be watched while it waits); the task gives the HTTP
/// status.
pub fn spawn_status(base: String, body: String) -> tokio::task::JoinHandle<u16> {
    tokio::spawn(async move {
        let signed =
            Signer::new(TOKEN).sign("POST", &format!("{BASE}/api/plivo/status"), body.as_bytes());
        let mut request = client().post(format!("{base}/api/plivo/status")).body(body);
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        request.send().await.unwrap().status().as_u16()
    })
}

/// Sends a signed GET callback (parameters in the query).
pub async fn get_signed(server: &Server, path: &str, query: &str) -> (u16, String) {
    let signed = Signer::new(TOKEN).sign("GET", &format!("{BASE}{path}?{query}"), b"");
    let mut request = client().get(server.url(&format!("{path}?{query}")));
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Signs one status callback once and sends the very same request (nonce and signature
/// included, as a replay would) to each server in turn; returns the response bodies.
pub async fn send_same_signed(servers: &[&Server], body: &str) -> Vec<String> {
    let signed =
        Signer::new(TOKEN).sign("POST", &format!("{BASE}/api/plivo/status"), body.as_bytes());
    let mut replies = Vec::new();
    for server in servers {
        let mut request = client()
            .post(server.url("/api/plivo/status"))
            .body(body.to_owned());
        for (name, value) in signed.headers() {
            request = request.header(name, value);
        }
        replies.push(request.send().await.unwrap().text().await.unwrap());
    }
    replies
}

pub async fn status_of(server: &Server, uuid: &str) -> (u16, serde_json::Value) {
    let response = client()
        .get(server.url(&format!("/api/messages/{uuid}")))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

pub fn uuid() -> String {
    format!(
        "{:08x}-{:04x}-11ee-8c4b-{:012x}",
        fastrand::u32(..),
        fastrand::u16(..),
        fastrand::u64(..) & 0xffff_ffff_ffff
    )
}

/// The PostgreSQL URL from `DATABASE_URL` (the tests using it are ignored (`#[ignore = "…"]`) unless
/// run with `--include-ignored`, as CI does).
pub fn postgres_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres"))
        .expect("this test needs PostgreSQL: set DATABASE_URL=postgres://… (CI does)")
}

/// Creates a fresh schema and returns a `DATABASE_URL` whose connections use it.
pub async fn postgres_schema(name: &str) -> String {
    let url = postgres_url();
    let schema = format!("t_{name}_{:08x}", fastrand::u32(..));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}
