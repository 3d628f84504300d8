//! End-to-end tests of both receivers over real TCP, on SQLite temp files and on
//! PostgreSQL (`DATABASE_URL`; ignored (`#[ignore = "…"]`) unless run with `--include-ignored`).

mod support;

use std::time::{Duration, Instant};

use support::*;

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("receiver.db").display())
}

/// The behaviour every receiver must have on any store.
async fn scenario(bin: &str, database_url: &str) {
    let server = Server::start(bin, database_url, &[]);

    // Lifecycle, in order.
    let id = uuid();
    for (seq, status) in ["queued", "sent", "delivered"].iter().enumerate() {
        let (code, body) = post_signed(
            &server,
            "/api/plivo/status",
            &status_body(&id, status, seq as u32 + 1, ""),
            TOKEN,
        )
        .await;
        assert_eq!(code, 200, "{bin} {status}: {body}");
        assert!(body.contains(r#""duplicate":false"#), "{body}");
    }
    let (code, message) = status_of(&server, &id).await;
    assert_eq!(code, 200);
    assert_eq!(message["status"], "delivered", "{bin}: {message}");
    assert_eq!(message["error_code"], serde_json::Value::Null);
    assert_eq!(message["events"].as_array().unwrap().len(), 3);
    assert!(message["updated_at"].as_str().unwrap().ends_with('Z'));

    // A duplicate is acknowledged and adds nothing.
    let (code, body) = post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&id, "delivered", 3, ""),
        TOKEN,
    )
    .await;
    assert_eq!(
        (code, body.contains(r#""duplicate":true"#)),
        (200, true),
        "{body}"
    );
    assert_eq!(
        status_of(&server, &id).await.1["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Out of order: delivered before sent; the late sent is kept in history only.
    let id2 = uuid();
    post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&id2, "delivered", 3, ""),
        TOKEN,
    )
    .await;
    post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&id2, "sent", 2, ""),
        TOKEN,
    )
    .await;
    let message = status_of(&server, &id2).await.1;
    assert_eq!(message["status"], "delivered");
    let events = message["events"].as_array().unwrap();
    assert_eq!(
        (events[0]["status"].as_str(), events[1]["status"].as_str()),
        (Some("delivered"), Some("sent"))
    );
    assert_eq!(events[1]["out_of_order"], true);

    // A failure keeps its error code, and the listing filters by status.
    let failed = uuid();
    post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&failed, "undelivered", 3, "30"),
        TOKEN,
    )
    .await;
    let message = status_of(&server, &failed).await.1;
    assert_eq!(
        (message["status"].as_str(), message["error_code"].as_str()),
        (Some("undelivered"), Some("30"))
    );
    let list: serde_json::Value = client()
        .get(server.url("/api/messages?status=undelivered&limit=10"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message_uuid"].as_str().unwrap())
        .collect();
    assert!(
        listed.contains(&failed.as_str()) && !listed.contains(&id.as_str()),
        "{list}"
    );

    // Forged: wrong token → 403 and nothing stored.
    let forged = uuid();
    let (code, body) = post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&forged, "delivered", 1, ""),
        "WRONG_TOKEN",
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(!body.contains(TOKEN));
    assert_eq!(status_of(&server, &forged).await.0, 404);

    // Missing headers → 400.
    let response = client()
        .post(server.url("/api/plivo/status"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(status_body(&uuid(), "sent", 1, ""))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);

    // GET callback (callback method GET), and an unsigned GET is a health check.
    let get_id = uuid();
    let (code, body) = get_signed(
        &server,
        "/api/plivo/status",
        &status_body(&get_id, "sent", 2, ""),
    )
    .await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(status_of(&server, &get_id).await.1["status"], "sent");
    let health = client()
        .get(server.url("/api/plivo/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(health.text().await.unwrap().contains("ok"));

    // Inbound, once.
    let inbound = format!(
        "From=14155550100&To=14155550123&Type=sms&Text=Hello+%F0%9F%91%8B&MessageUUID={}",
        uuid()
    );
    let (code, body) = post_signed(&server, "/api/plivo/inbound", &inbound, TOKEN).await;
    assert_eq!(
        (code, body.contains(r#""duplicate":false"#)),
        (200, true),
        "{body}"
    );
    let (code, body) = post_signed(&server, "/api/plivo/inbound", &inbound, TOKEN).await;
    assert_eq!(
        (code, body.contains(r#""duplicate":true"#)),
        (200, true),
        "{body}"
    );

    // Authentic but untyped → dead letter, 200.
    let (code, body) = post_signed(
        &server,
        "/api/plivo/status",
        "From=1&To=2&Status=sent&Weird=1",
        TOKEN,
    )
    .await;
    assert_eq!((code, body.contains("dead_letter")), (200, true), "{body}");

    // Unknown status → stored as sent.
    let odd = uuid();
    post_signed(
        &server,
        "/api/plivo/status",
        &status_body(&odd, "teleported", 2, ""),
        TOKEN,
    )
    .await;
    assert_eq!(status_of(&server, &odd).await.1["status"], "sent");

    // Health, readiness, metrics.
    assert_eq!(
        client()
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        client()
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let metrics = client()
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"plivo_callbacks_total{endpoint="status",status="delivered",outcome="duplicate"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"plivo_verification_failures_total{reason="mismatch"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains("plivo_store_latency_seconds_count"));

    // The failure was notified once, in the log, and no token was logged.
    let log = server.log();
    assert_eq!(log.matches("message failed").count(), 1, "{log}");
    assert!(!log.contains(TOKEN));
}

#[tokio::test]
async fn receivers_on_sqlite() {
    for bin in RECEIVERS {
        let dir = tempfile::tempdir().unwrap();
        scenario(bin, &sqlite_url(&dir)).await;
    }
}

#[tokio::test]
async fn receivers_in_memory() {
    for bin in RECEIVERS {
        scenario(bin, "memory:").await;
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn receivers_on_postgres() {
    for bin in RECEIVERS {
        let url = postgres_schema(&bin.replace('-', "_")).await;
        scenario(bin, &url).await;
    }
}

#[tokio::test]
async fn sqlite_survives_a_restart() {
    for bin in RECEIVERS {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let id = uuid();
        let server = Server::start(bin, &url, &[]);
        assert_eq!(
            post_signed(
                &server,
                "/api/plivo/status",
                &status_body(&id, "sent", 2, ""),
                TOKEN
            )
            .await
            .0,
            200
        );
        server.kill();
        let server = Server::start(bin, &url, &[]);
        let message = status_of(&server, &id).await.1;
        assert_eq!(message["status"], "sent", "{bin}");
        // And the retry of the same event after the restart is still a duplicate.
        let (_, body) = post_signed(
            &server,
            "/api/plivo/status",
            &status_body(&id, "sent", 2, ""),
            TOKEN,
        )
        .await;
        assert!(body.contains(r#""duplicate":true"#), "{body}");
    }
}

/// Committed callbacks reach the database file itself within moments, copied by the
/// store's background checkpoints, not only when the writer's WAL reaches its
/// auto-checkpoint size (16 MiB, far more than these callbacks write).
#[tokio::test]
async fn sqlite_checkpoints_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let file = dir.path().join("receiver.db");
    let server = Server::start(RECEIVERS[0], &url, &[]);
    // Let the checkpoints of the migrations settle, then measure.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = std::fs::metadata(&file).unwrap().len();
    for _ in 0..50 {
        let body = status_body(&uuid(), "delivered", 3, "");
        let (code, reply) = post_signed(&server, "/api/plivo/status", &body, TOKEN).await;
        assert_eq!(code, 200, "{reply}");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = before;
    while after <= before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = std::fs::metadata(&file).unwrap().len();
    }
    assert!(
        after > before,
        "the database file stayed at {before} bytes: nothing was checkpointed"
    );
    server.kill();
}

/// While the database refuses writes, callbacks get 503 (in bounded time) and nothing is
/// half-written; once it recovers, Plivo's retry is stored exactly once. `guard` holds the
/// lock that makes the database refuse.
async fn database_down(server: &Server, guard: Box<dyn std::any::Any>, ready_while_locked: bool) {
    let id = uuid();
    let body = status_body(&id, "delivered", 3, "");
    let started = Instant::now();
    let (code, reply) = post_signed(server, "/api/plivo/status", &body, TOKEN).await;
    assert_eq!(code, 503, "{reply}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let ready = client()
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(ready == 200, ready_while_locked, "readyz {ready}");
    drop(guard);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (code, reply) = post_signed(server, "/api/plivo/status", &body, TOKEN).await;
    assert_eq!(code, 200, "{reply}");
    assert!(
        reply.contains(r#""duplicate":false"#),
        "nothing was half-written: {reply}"
    );
    assert_eq!(
        status_of(server, &id).await.1["events"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn sqlite_locked_gives_503_then_recovers() {
    use sqlx::Connection;
    for bin in RECEIVERS {
        let dir = tempfile::tempdir().unwrap();
        let url = sqlite_url(&dir);
        let server = Server::start(bin, &url, &[]);
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN EXCLUSIVE")
            .execute(&mut conn)
            .await
            .unwrap();
        // Readers still read under WAL: the store is up, writes are refused.
        database_down(&server, Box::new(conn), true).await;
    }
}

/// The store's connections plan each statement once (generic plans); a plan made while
/// the tables are empty must still read them through their indexes, or every batch would
/// scan whole tables as they grow.
#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn postgres_generic_plans_use_the_indexes() {
    let url = postgres_schema("plans").await;
    let store = plivo_webhook_examples::store::PostgresStore::open(&url)
        .await
        .unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    // Small tables with fresh statistics: where a sequential scan is cheapest.
    sqlx::raw_sql(
        "INSERT INTO messages (message_uuid, status, status_rank, updated_at) VALUES ('u', 'sent', 1, 0);
         INSERT INTO message_events (message_uuid, dedupe_key, status, raw_status, out_of_order, received_at, params)
             VALUES ('u', 'u|sent|', 'sent', 'sent', FALSE, 0, '');
         ANALYZE messages, message_events;",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    // The batch's read (as `plivo_lock_and_read` makes it).
    let plan = generic_plan(
        &mut conn,
        "PREPARE stored(TEXT[], TEXT[]) AS
         SELECT m.message_uuid FROM UNNEST($1) AS u JOIN messages AS m ON m.message_uuid = u
         UNION ALL SELECT e.dedupe_key FROM UNNEST($2) AS k JOIN message_events AS e ON e.dedupe_key = k",
        "EXECUTE stored('{a,b}', '{c}')",
    )
    .await;
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(plan.contains("messages_pkey"), "{plan}");
    assert!(plan.contains("message_events_pkey"), "{plan}");
    // A message's timeline: one range of the dedupe keys, which start with its UUID.
    let plan = generic_plan(
        &mut conn,
        "PREPARE timeline(TEXT) AS
         SELECT status FROM message_events
         WHERE dedupe_key >= $1 || '|' AND dedupe_key < $1 || '}' AND message_uuid = $1 ORDER BY id",
        "EXECUTE timeline('u')",
    )
    .await;
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(plan.contains("Index Cond"), "{plan}");
    assert!(plan.contains("message_events_pkey"), "{plan}");
}

/// SQLite's list of messages reads the `updated_at` index backwards, with or without a
/// status (the only index that statement can use: its filter is optional).
#[tokio::test]
async fn sqlite_list_reads_the_updated_at_index() {
    use sqlx::Connection;
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let _store = plivo_webhook_examples::store::SqliteStore::open(&url)
        .await
        .unwrap();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    for status in [None, Some("failed")] {
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
            "EXPLAIN QUERY PLAN SELECT message_uuid, status, error_code, updated_at FROM messages
             WHERE (? IS NULL OR status = ?) ORDER BY updated_at DESC, message_uuid LIMIT ?",
        )
        .bind(status)
        .bind(status)
        .bind(50)
        .fetch_all(&mut conn)
        .await
        .unwrap();
        let plan: Vec<&str> = plan.iter().map(|row| row.3.as_str()).collect();
        assert!(
            plan.contains(&"SCAN messages USING INDEX messages_updated"),
            "{plan:?}"
        );
    }
}

/// Prepares a statement on a store connection and explains one execution of it.
async fn generic_plan(conn: &mut sqlx::PgConnection, prepare: &str, execute: &str) -> String {
    sqlx::query(prepare).execute(&mut *conn).await.unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&format!("EXPLAIN {execute}"))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    plan.join("\n")
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn postgres_locked_gives_503_then_recovers() {
    use sqlx::Connection;
    for bin in RECEIVERS {
        let url = postgres_schema("down").await;
        let server = Server::start(bin, &url, &[]);
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut conn).await.unwrap();
        sqlx::query("LOCK TABLE messages, message_events IN ACCESS EXCLUSIVE MODE")
            .execute(&mut conn)
            .await
            .unwrap();
        database_down(&server, Box::new(conn), true).await;
    }
}

/// The batch writer keeps its connection between batches; when PostgreSQL ends it, the
/// batch on it is answered 503 (so Plivo retries) and the next one opens a new connection.
#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn postgres_writer_reconnects_after_its_connection_ends() {
    use sqlx::Connection;
    for bin in RECEIVERS {
        let url = postgres_schema("writer").await;
        let server = Server::start(bin, &url, &[]);
        let post = |id: String| {
            let server = &server;
            async move {
                let body = status_body(&id, "sent", 2, "");
                post_signed(server, "/api/plivo/status", &body, TOKEN)
                    .await
                    .0
            }
        };
        assert_eq!(post(uuid()).await, 200);
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let ended: Vec<bool> = sqlx::query_scalar(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
        )
        .bind(format!(
            "{} {}",
            plivo_webhook_examples::store::WRITER_NAME,
            server.pid()
        ))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(!ended.is_empty(), "{bin}: no batch writer connection found");
        let mut codes = Vec::new();
        for _ in 0..3 {
            let id = uuid();
            let code = post(id.clone()).await;
            codes.push(code);
            if code == 200 {
                assert_eq!(status_of(&server, &id).await.1["status"], "sent");
                break;
            }
        }
        assert_eq!(codes.last(), Some(&200), "{bin}: {codes:?}");
        assert!(
            codes.iter().all(|&c| c == 200 || c == 503),
            "{bin}: {codes:?}"
        );
    }
}

/// The optional replay defence: the same signed request sent again is acknowledged
/// without acting on it; without the defence it is a harmless duplicate.
async fn replayed_request(server: &Server) -> (String, String) {
    let body = status_body(&uuid(), "delivered", 3, "");
    let replies = send_same_signed(&[server, server], &body).await;
    (replies[0].clone(), replies[1].clone())
}

#[tokio::test]
async fn replay_protection_in_memory() {
    for bin in RECEIVERS {
        let server = Server::start(bin, "memory:", &[("REPLAY_PROTECTION", "memory")]);
        let (first, second) = replayed_request(&server).await;
        assert!(first.contains(r#""duplicate":false"#), "{first}");
        assert!(second.contains(r#""replay":true"#), "{bin}: {second}");
        let off = Server::start(bin, "memory:", &[]);
        let (_, second) = replayed_request(&off).await;
        assert!(second.contains(r#""duplicate":true"#), "{second}");
    }
}

#[tokio::test]
async fn sigterm_shuts_down_gracefully() {
    for bin in RECEIVERS {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(bin, &sqlite_url(&dir), &[]);
        let id = uuid();
        let (code, _) = post_signed(
            &server,
            "/api/plivo/status",
            &status_body(&id, "sent", 2, ""),
            TOKEN,
        )
        .await;
        assert_eq!(code, 200);
        let status = server.terminate(Duration::from_secs(15));
        assert!(
            status.is_some_and(|s| s.success()),
            "{bin} did not exit cleanly on SIGTERM: {status:?}"
        );
        // What it acknowledged is still there.
        let server = Server::start(bin, &sqlite_url(&dir), &[]);
        assert_eq!(status_of(&server, &id).await.1["status"], "sent");
    }
}
