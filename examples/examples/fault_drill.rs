//! Fault drill (issue: "nothing is lost"): a steady load of distinct, signed status
//! callbacks goes to the axum receiver on PostgreSQL while PostgreSQL is stopped and
//! started again; then the receiver is killed with SIGKILL under load. Run it with
//! `scripts/fault-test.sh` (it stops the machine's PostgreSQL: never in CI).
//!
//! Phase 1 checks that every request got 200 or 503 within a bounded time, and that after
//! resending the 503s (as Plivo retries) the store holds exactly the events sent: none lost,
//! none twice. Phase 2 checks that no event answered 200 is lost by `kill -9`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use plivo_webhook_core::testing::Signer;
use tokio::sync::Mutex;

const TOKEN: &str = "FAULT_DRILL_TOKEN";
const BASE: &str = "https://hooks.example.com";

struct Outcome {
    body: String,
    uuid: String,
    code: u16,
    latency: Duration,
}

fn start_receiver(bin: &str, database_url: &str) -> (Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin)
        .env("PLIVO_AUTH_TOKEN", TOKEN)
        .env("APP_BASE_URL", BASE)
        .env("DATABASE_URL", database_url)
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("DASHBOARD", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the receiver");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_owned();
    (child, base)
}

fn body(uuid: &str) -> String {
    format!("MessageUUID={uuid}&From=14155550100&To=14155550123&Status=queued&Sequence=1&Type=sms&Units=1")
}

async fn send(client: &reqwest::Client, base: &str, body: &str) -> u16 {
    let signed =
        Signer::new(TOKEN).sign("POST", &format!("{BASE}/api/plivo/status"), body.as_bytes());
    let mut request = client
        .post(format!("{base}/api/plivo/status"))
        .body(body.to_owned());
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(response) => response.status().as_u16(),
        Err(_) => 0,
    }
}

/// Sends distinct callbacks with `concurrency` workers for `duration`, calling `at` with
/// the elapsed time once per 100 ms (to stop or start things mid-run).
async fn load(base: &str, duration: Duration, concurrency: usize, prefix: &str) -> Vec<Outcome> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (client, base, outcomes, prefix) = (
            client.clone(),
            base.to_owned(),
            outcomes.clone(),
            prefix.to_owned(),
        );
        workers.push(tokio::spawn(async move {
            let mut n = 0u64;
            while started.elapsed() < duration {
                let uuid = format!("{prefix}-{w:02}-{n:06}");
                n += 1;
                let body = body(&uuid);
                let t = Instant::now();
                let code = send(&client, &base, &body).await;
                outcomes.lock().await.push(Outcome {
                    body,
                    uuid,
                    code,
                    latency: t.elapsed(),
                });
                if code != 200 {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    Arc::try_unwrap(outcomes)
        .ok()
        .expect("workers done")
        .into_inner()
}

fn pg(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("/etc/postgresql")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
        .expect("a PostgreSQL cluster");
    let status = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", action])
        .args(if action == "stop" {
            vec!["-m", "fast"]
        } else {
            vec![]
        })
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {action} failed");
}

async fn stored(database_url: &str, prefix: &str) -> (i64, i64) {
    let pool = sqlx::PgPool::connect(database_url).await.expect("connect");
    let row: (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COUNT(DISTINCT message_uuid) FROM message_events WHERE message_uuid LIKE $1",
    )
    .bind(format!("{prefix}-%"))
    .fetch_one(&pool)
    .await
    .expect("count");
    row
}

#[tokio::main]
async fn main() {
    let bin = std::env::args()
        .nth(1)
        .expect("usage: fault_drill RECEIVER_BINARY DATABASE_URL");
    let admin_url = std::env::args()
        .nth(2)
        .expect("usage: fault_drill RECEIVER_BINARY DATABASE_URL");
    let schema = format!("fault_{:08x}", fastrand::u32(..));
    {
        let pool = sqlx::PgPool::connect(&admin_url).await.expect("connect");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .expect("schema");
    }
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{sep}options=-c%20search_path%3D{schema}");

    // Phase 1: PostgreSQL stopped at 3 s and started at 8 s of a 14 s run.
    let (mut receiver, base) = start_receiver(&bin, &url);
    let chaos = tokio::spawn(async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        pg("stop");
        println!("t=3s  PostgreSQL stopped");
        tokio::time::sleep(Duration::from_secs(5)).await;
        pg("start");
        println!("t=8s  PostgreSQL started");
    });
    let outcomes = load(&base, Duration::from_secs(14), 8, "p1").await;
    chaos.await.expect("chaos");
    let sent = outcomes.len();
    let ok = outcomes.iter().filter(|o| o.code == 200).count();
    let unavailable = outcomes.iter().filter(|o| o.code == 503).count();
    let other: Vec<u16> = outcomes
        .iter()
        .map(|o| o.code)
        .filter(|c| *c != 200 && *c != 503)
        .collect();
    let max_latency = outcomes.iter().map(|o| o.latency).max().unwrap_or_default();
    // Resend every non-200 as Plivo would, until stored.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let mut resent = 0;
    for outcome in outcomes.iter().filter(|o| o.code != 200) {
        for attempt in 0.. {
            resent += 1;
            if send(&client, &base, &outcome.body).await == 200 {
                break;
            }
            assert!(attempt < 100, "{} never stored", outcome.uuid);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let (rows, distinct) = stored(&url, "p1").await;
    let lost = sent as i64 - distinct;
    let duplicated = rows - distinct;
    println!(
        "phase 1 (PostgreSQL stopped 5 s): sent {sent}, answered 200 {ok}, answered 503 {unavailable}, other {} {other:?}, max latency {:.2} s, resent {resent}, stored {distinct}, lost {lost}, duplicated {duplicated}",
        other.len(),
        max_latency.as_secs_f64()
    );
    let _ = receiver.kill();
    let _ = receiver.wait();

    // Phase 2: SIGKILL under load, then restart and check every 200.
    let (mut receiver, base) = start_receiver(&bin, &url);
    let killer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let _ = receiver.kill(); // SIGKILL
        let _ = receiver.wait();
        println!("t=1.5s receiver killed with SIGKILL");
    });
    let outcomes = load(&base, Duration::from_secs(3), 8, "p2").await;
    killer.await.expect("killer");
    let answered_ok: Vec<&Outcome> = outcomes.iter().filter(|o| o.code == 200).collect();
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let mut missing = 0;
    for outcome in &answered_ok {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM message_events WHERE message_uuid = $1")
                .bind(&outcome.uuid)
                .fetch_one(&pool)
                .await
                .expect("count");
        missing += usize::from(n != 1);
    }
    println!(
        "phase 2 (kill -9 under load): sent {}, answered 200 {}, failed after the kill {}, answered-200 events missing {missing}",
        outcomes.len(),
        answered_ok.len(),
        outcomes.len() - answered_ok.len()
    );
    let pass = other.is_empty()
        && lost == 0
        && duplicated == 0
        && missing == 0
        && max_latency < Duration::from_secs(15);
    println!(
        "{}",
        if pass {
            "FAULT DRILL PASSED"
        } else {
            "FAULT DRILL FAILED"
        }
    );
    std::process::exit(i32::from(!pass));
}
