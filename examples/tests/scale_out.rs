//! Two receiver instances (one axum, one actix-web) share one PostgreSQL database and get
//! interleaved, duplicated and reordered callbacks concurrently: the final states are
//! right, no event is stored twice, and each failed message is notified exactly once.

mod support;

use std::collections::BTreeMap;

use support::*;

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn two_instances_share_one_postgres() {
    let url = postgres_schema("scale").await;
    let a = Server::start("axum-receiver", &url, &[]);
    let b = Server::start("actix-receiver", &url, &[]);

    // 40 messages: 3 in 4 end delivered, 1 in 4 fail (undelivered 30 or failed 900).
    let mut expected = BTreeMap::new();
    let mut sends = Vec::new();
    for i in 0..40 {
        let id = uuid();
        let events: Vec<(&str, u32, &str)> = match i % 4 {
            0 => vec![("queued", 1, ""), ("failed", 2, "900")],
            1 => vec![("queued", 1, ""), ("sent", 2, ""), ("undelivered", 3, "30")],
            _ => vec![("queued", 1, ""), ("sent", 2, ""), ("delivered", 3, "")],
        };
        let last = events.last().unwrap();
        expected.insert(id.clone(), (last.0, last.2, events.len()));
        for (status, seq, code) in &events {
            // Every event is sent twice (a retry), once to each instance.
            sends.push((id.clone(), status_body(&id, status, *seq, code)));
            sends.push((id.clone(), status_body(&id, status, *seq, code)));
        }
    }
    fastrand::shuffle(&mut sends);

    let servers = [&a, &b];
    let mut tasks = Vec::new();
    for (i, (_, body)) in sends.into_iter().enumerate() {
        tasks.push(spawn_status(servers[i % 2].base.clone(), body));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }

    for (id, (status, code, events)) in &expected {
        let message = status_of(&a, id).await.1;
        assert_eq!(message["status"], *status, "{id}: {message}");
        if code.is_empty() {
            assert_eq!(message["error_code"], serde_json::Value::Null);
        } else {
            assert_eq!(message["error_code"], *code);
        }
        let stored = message["events"].as_array().unwrap();
        assert_eq!(stored.len(), *events, "{id}: each event once: {message}");
        assert_eq!(
            status_of(&b, id).await.1,
            message,
            "both instances see the same state"
        );
    }
    // Each failed message notified once across both instances.
    let log = format!("{}{}", a.log(), b.log());
    for (id, (status, ..)) in &expected {
        let notified = log
            .lines()
            .filter(|l| l.contains("message failed") && l.contains(id.as_str()))
            .count();
        let want = usize::from(*status != "delivered");
        assert_eq!(notified, want, "{id} ({status}) notified {notified} times");
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn postgres_survives_a_restart() {
    let url = postgres_schema("restart").await;
    let id = uuid();
    let server = Server::start("actix-receiver", &url, &[]);
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
    let server = Server::start("axum-receiver", &url, &[]);
    assert_eq!(status_of(&server, &id).await.1["status"], "sent");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn replay_protection_shared_through_postgres() {
    let url = postgres_schema("replay").await;
    let a = Server::start("axum-receiver", &url, &[("REPLAY_PROTECTION", "postgres")]);
    let b = Server::start("actix-receiver", &url, &[("REPLAY_PROTECTION", "postgres")]);
    let body = status_body(&uuid(), "sent", 2, "");
    let replies = send_same_signed(&[&a, &b], &body).await;
    assert!(
        replies[0].contains(r#""duplicate":false"#),
        "{}",
        replies[0]
    );
    assert!(
        replies[1].contains(r#""replay":true"#),
        "the other instance saw the replay: {}",
        replies[1]
    );
}

/// Another instance's transaction holds the advisory lock of a message and writes its
/// state: the receiver's batch waits for that lock, then reads what the transaction
/// committed (a `sent` arriving after a committed `delivered` stays out of order), and
/// once idle it holds no lock that would make other instances wait.
#[tokio::test]
#[ignore = "needs PostgreSQL: set DATABASE_URL and run with --include-ignored (CI does)"]
async fn postgres_batches_wait_for_another_instance_and_then_read_its_write() {
    use sqlx::Connection;
    for bin in RECEIVERS {
        let url = postgres_schema("locks").await;
        let server = Server::start(bin, &url, &[]);
        let id = uuid();
        let mut other = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query("BEGIN").execute(&mut other).await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(&id)
            .execute(&mut other)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO messages (message_uuid, status, status_rank, updated_at) VALUES ($1, 'delivered', $2, 0)",
        )
        .bind(&id)
        .bind(i32::from(plivo_webhook_core::Status::Delivered.precedence()))
        .execute(&mut other)
        .await
        .unwrap();

        let late = spawn_status(server.base.clone(), status_body(&id, "sent", 2, ""));
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert!(
            !late.is_finished(),
            "{bin}: the batch did not wait for the lock"
        );
        sqlx::query("COMMIT").execute(&mut other).await.unwrap();
        assert_eq!(late.await.unwrap(), 200, "{bin}");

        let message = status_of(&server, &id).await.1;
        assert_eq!(message["status"], "delivered", "{bin}: {message}");
        let events = message["events"].as_array().unwrap();
        assert_eq!(events.len(), 1, "{bin}: {message}");
        assert_eq!(events[0]["out_of_order"], true, "{bin}: {message}");

        // Idle, the writer releases its locks: another instance can take this message's.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let taken: bool =
                sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtextextended($1, 0))")
                    .bind(&id)
                    .fetch_one(&mut other)
                    .await
                    .unwrap();
            if taken {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{bin}: the idle writer still holds the message's lock"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
