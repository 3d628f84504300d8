//! The live page in a real browser: Debian's Chromium, headless, driven over WebDriver
//! (`chromedriver`, spoken to with plain HTTP). Opens the page of each receiver, sends
//! signed callbacks, and checks that they appear without a reload, the rejected one with
//! its reason and diagnosis, and that a message's timeline opens on click.
//!
//! Needs `chromium` and `chromium-driver` (`apt-get install chromium chromium-driver`);
//! ignored (`#[ignore = "…"]`) so that a plain `cargo test` does not need them, and CI runs it with
//! `--include-ignored` after installing them. Without them it fails, saying so.
//!
//! `DASHBOARD_SCREENSHOT=path.png` also saves a screenshot of the axum receiver's page
//! with a realistic mix of callbacks (how `docs/dashboard.png` is made).

mod support;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use plivo_webhook_core::testing::Signer;
use serde_json::{json, Value};
use support::*;

const IGNORE: &str = "needs chromium and chromium-driver";

fn find(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// `chromedriver`, killed on drop, and a WebDriver session of headless Chromium.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start() -> Browser {
        let (Some(chromedriver), Some(chromium)) = (
            find("chromedriver"),
            find("chromium").or_else(|| find("chromium-browser")),
        ) else {
            panic!(
                "{IGNORE}: install them with `apt-get install -y chromium chromium-driver` (.ci/run does)"
            );
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Ok(response) = http.get(format!("{base}/status")).send().await {
                if response.status().is_success() {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not answer on {base}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--no-first-run",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
            _profile: profile,
        };
        let created = browser.call("POST", "/session", capabilities).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let value: Value = response.json().await.unwrap_or_default();
        assert!(status.is_success(), "WebDriver {method} {path}: {value}");
        value["value"].clone()
    }

    async fn open(&self, url: &str) {
        self.call(
            "POST",
            &format!("/session/{}/url", self.session),
            json!({ "url": url }),
        )
        .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            &format!("/session/{}/execute/sync", self.session),
            json!({ "script": script, "args": [] }),
        )
        .await
    }

    /// Evaluates `script` (a string expression) until `check` holds, for 15 s at most.
    async fn wait_for(&self, what: &str, script: &str, check: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            let value = self.js(&format!("return String({script});")).await;
            let text = value.as_str().unwrap_or_default().to_owned();
            if check(&text) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "the page never showed {what}; last: {text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&self) -> Vec<u8> {
        let value = self
            .call(
                "GET",
                &format!("/session/{}/screenshot", self.session),
                Value::Null,
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap())
            .unwrap()
    }

    async fn close(mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            self.call("DELETE", &path, Value::Null).await;
            self.session.clear();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn post_status(server: &Server, uuid: &str, status: &str, seq: u32, code: &str) {
    let (answer, body) = post_signed(
        server,
        "/api/plivo/status",
        &status_body(uuid, status, seq, code),
        TOKEN,
    )
    .await;
    assert_eq!(answer, 200, "{body}");
}

/// A callback signed for the URL with a trailing slash, sent to the route without one:
/// rejected 403, and the diagnosis names the slash.
async fn post_trailing_slash(server: &Server, uuid: &str) {
    let body = status_body(uuid, "sent", 2, "");
    let signed = Signer::new(TOKEN).sign(
        "POST",
        &format!("{BASE}/api/plivo/status/"),
        body.as_bytes(),
    );
    let mut request = client().post(server.url("/api/plivo/status")).body(body);
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 403);
}

const ROWS: &str = "document.getElementById('feed-rows').innerText";

async fn scenario(bin: &str, screenshot: Option<PathBuf>) {
    let server = Server::start(bin, "memory:", &[]);
    let browser = Browser::start().await;
    browser.open(&server.url("/")).await;
    browser
        .wait_for(
            "the live indicator",
            "document.getElementById('conn').textContent",
            |t| t.starts_with("live"),
        )
        .await;
    // Set on this document: still there at the end proves no reload happened.
    browser.js("window.__noReload = 'kept'; return null;").await;

    // A message through its whole lifecycle.
    let delivered = uuid();
    for (seq, status) in ["queued", "sent", "delivered"].iter().enumerate() {
        post_status(&server, &delivered, status, seq as u32 + 1, "").await;
    }
    // Undelivered with an error code.
    let undelivered = uuid();
    post_status(&server, &undelivered, "queued", 1, "").await;
    post_status(&server, &undelivered, "sent", 2, "").await;
    post_status(&server, &undelivered, "undelivered", 3, "30").await;
    // Delivered, then a late sent: out of order.
    let late = uuid();
    post_status(&server, &late, "queued", 1, "").await;
    post_status(&server, &late, "delivered", 3, "").await;
    post_status(&server, &late, "sent", 2, "").await;
    // Rejected: signed for a URL with a trailing slash.
    post_trailing_slash(&server, &uuid()).await;

    let rows = browser
        .wait_for("every callback", ROWS, |t| {
            t.contains(&delivered) && t.contains(&undelivered) && t.contains("rejected")
        })
        .await;
    assert!(
        rows.contains("delivered") && rows.contains("undelivered"),
        "{rows}"
    );
    assert!(rows.contains("out of order"), "{rows}");
    assert!(rows.contains("30"), "{rows}");
    assert!(
        rows.contains("signature mismatch"),
        "no reason shown: {rows}"
    );
    let row_count = browser
        .js("return document.querySelectorAll('#feed-rows tr').length;")
        .await;
    assert_eq!(row_count, 10, "{rows}");
    // The newest first: the rejected one on top.
    let top = browser
        .js("return document.querySelector('#feed-rows tr').className;")
        .await;
    assert!(top.as_str().unwrap().contains("rejected"), "{top}");

    // The panels follow: failures with the diagnosis, counts and the delivery rate.
    browser
        .wait_for(
            "the diagnosis",
            "document.getElementById('failures').innerText",
            |t| t.contains("trailing slash") && t.contains("signature mismatch"),
        )
        .await;
    browser
        .wait_for(
            "the delivery rate",
            "document.getElementById('delivery-rate').textContent",
            |t| t == "67%",
        )
        .await;
    let chart = browser
        .js("return document.querySelectorAll('#summary svg.chart rect').length;")
        .await;
    assert!(chart.as_u64().unwrap() >= 6, "{chart}");

    // Clicking a message shows its timeline, with the error code's meaning.
    browser
        .js(&format!(
            "document.querySelector('button.uuid[data-uuid=\"{undelivered}\"]').click(); return null;"
        ))
        .await;
    let timeline = browser
        .wait_for(
            "the timeline",
            "document.getElementById('timeline').innerText",
            |t| t.contains(&undelivered) && t.contains("undelivered"),
        )
        .await;
    assert!(timeline.contains("30"), "{timeline}");
    browser
        .js(&format!(
            "document.querySelector('button.uuid[data-uuid=\"{late}\"]').click(); return null;"
        ))
        .await;
    browser
        .wait_for(
            "the out-of-order mark in the timeline",
            "document.getElementById('timeline').innerText",
            |t| t.contains(&late) && t.contains("out of order"),
        )
        .await;

    // A callback arriving while the timeline is open still appears live.
    let later = uuid();
    post_status(&server, &later, "queued", 1, "").await;
    browser
        .wait_for("a later callback", ROWS, |t| t.contains(&later))
        .await;
    assert_eq!(browser.js("return window.__noReload;").await, "kept");

    if let Some(path) = screenshot {
        // A fuller mix for the picture: more deliveries, a failure, an inbound message.
        let failed = uuid();
        post_status(&server, &failed, "queued", 1, "").await;
        post_status(&server, &failed, "failed", 2, "50").await;
        let inbound = format!(
            "From=14155550123&To=14155550100&Type=sms&Text=STOP&MessageUUID={}&Units=1",
            uuid()
        );
        let (answer, body) = post_signed(&server, "/api/plivo/inbound", &inbound, TOKEN).await;
        assert_eq!(answer, 200, "{body}");
        let quick = uuid();
        post_status(&server, &quick, "queued", 1, "").await;
        post_status(&server, &quick, "sent", 2, "").await;
        post_status(&server, &quick, "delivered", 3, "").await;
        post_status(&server, &later, "sent", 2, "").await;
        browser
            .wait_for("the fuller mix", ROWS, |t| t.contains(&quick))
            .await;
        // Back to the undelivered message for the picture.
        browser
            .js(&format!(
                "document.querySelector('button.uuid[data-uuid=\"{undelivered}\"]').click(); window.scrollTo(0, 0); return null;"
            ))
            .await;
        browser
            .wait_for(
                "the timeline",
                "document.getElementById('timeline').innerText",
                |t| t.contains(&undelivered),
            )
            .await;
        // A 1280×900 viewport, whatever the window decorations take.
        let chrome = browser
            .js("return window.outerHeight - window.innerHeight;")
            .await
            .as_u64()
            .unwrap_or(0);
        browser
            .call(
                "POST",
                &format!("/session/{}/window/rect", browser.session),
                json!({ "width": 1280, "height": 900 + chrome }),
            )
            .await;
        // Let the row highlight fade.
        tokio::time::sleep(Duration::from_secs(2)).await;
        std::fs::write(&path, browser.screenshot().await).unwrap();
        eprintln!("screenshot saved to {}", path.display());
    }

    // The receiver restarts (its feed numbering starts over) while the page stays open:
    // the page reconnects by itself and shows the new process's callbacks.
    let addr = server.base.trim_start_matches("http://").to_owned();
    server.kill();
    let server = Server::start(bin, "memory:", &[("BIND_ADDR", &addr)]);
    let after_restart = uuid();
    post_status(&server, &after_restart, "queued", 1, "").await;
    browser
        .wait_for("a callback after the restart", ROWS, |t| {
            t.contains(&after_restart)
        })
        .await;
    assert_eq!(browser.js("return window.__noReload;").await, "kept");
    browser.close().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver (apt-get install chromium chromium-driver); CI installs them"]
async fn axum_page_in_chromium() {
    let screenshot = std::env::var_os("DASHBOARD_SCREENSHOT").map(PathBuf::from);
    scenario("axum-receiver", screenshot).await;
}

#[tokio::test]
#[ignore = "needs chromium and chromium-driver (apt-get install chromium chromium-driver); CI installs them"]
async fn actix_page_in_chromium() {
    scenario("actix-receiver", None).await;
}
