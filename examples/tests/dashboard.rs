//! The live page (`GET /`, `/dashboard/*`) of both receivers over real TCP: the page, the
//! event stream and its JSON fallback, the panels, HTML escaping of attacker-controlled
//! text, and `DASHBOARD=off`.

mod support;

use std::time::Duration;

use plivo_webhook_core::testing::Signer;
use support::*;

/// Reads an event stream until `needle` appears (or panics after 10 s); returns all read.
async fn read_until(response: &mut reqwest::Response, needle: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(needle) {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) => panic!("the stream ended before {needle:?}: {seen}"),
            Ok(Err(err)) => panic!("stream error before {needle:?}: {err}; read: {seen}"),
            Err(_) => panic!("no {needle:?} within 10 s; read: {seen}"),
        }
    }
    seen
}

async fn get(server: &Server, path: &str) -> (u16, String, String) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn post_status(server: &Server, uuid: &str, status: &str, seq: u32, code: &str) {
    let (code, body) = post_signed(
        server,
        "/api/plivo/status",
        &status_body(uuid, status, seq, code),
        TOKEN,
    )
    .await;
    assert_eq!(code, 200, "{body}");
}

async fn scenario(bin: &str) {
    let server = Server::start(bin, "memory:", &[]);

    // The page skeleton and its assets, all served by the receiver.
    let (code, content_type, page) = get(&server, "/").await;
    assert_eq!(code, 200, "{bin}: {page}");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    for part in [
        "<!doctype html>",
        r#"id="feed-rows""#,
        r#"id="summary""#,
        r#"id="timeline""#,
        r#"id="failures""#,
        r#"src="dashboard/app.js""#,
        r#"href="dashboard/app.css""#,
        "Content-Security-Policy",
        "No callback yet",
    ] {
        assert!(page.contains(part), "{bin}: no {part} in {page}");
    }
    // No asset from elsewhere.
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    let (code, content_type, js) = get(&server, "/dashboard/app.js").await;
    assert_eq!(code, 200);
    assert!(
        content_type.starts_with("text/javascript"),
        "{content_type}"
    );
    assert!(js.contains("EventSource"));
    let (code, content_type, _) = get(&server, "/dashboard/app.css").await;
    assert_eq!((code, content_type.starts_with("text/css")), (200, true));
    assert_eq!(get(&server, "/dashboard/nope").await.0, 404);

    // The event stream delivers an entry once a signed callback arrives.
    let mut events = client()
        .get(server.url("/dashboard/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert!(events.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    read_until(&mut events, "retry:").await;
    let id = uuid();
    post_status(&server, &id, "queued", 1, "").await;
    let seen = read_until(&mut events, &id).await;
    assert!(seen.contains("event: entry\ndata: <tr"), "{seen}");
    assert!(seen.contains("✓ verified"), "{seen}");

    // An undelivered with an error code, its meaning in the row.
    let failed = uuid();
    post_status(&server, &failed, "undelivered", 3, "30").await;
    let seen = read_until(&mut events, &failed).await;
    assert!(seen.contains(r#"<span class="code">30</span>"#), "{seen}");

    // A rejected request (signed for the URL with a trailing slash) with its diagnosis.
    let body = status_body(&uuid(), "sent", 2, "");
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
    let seen = read_until(&mut events, "✗ rejected").await;
    assert!(seen.contains(r#"class="reason""#), "{seen}");
    let (_, _, summary) = get(&server, "/dashboard/summary").await;
    assert!(summary.contains("trailing slash"), "{bin}: {summary}");
    assert!(summary.contains(r#"class="diagnosis""#), "{summary}");
    assert!(!summary.contains(TOKEN), "the token leaked: {summary}");

    // Attacker-controlled text is escaped: an authentic callback without a Status is a
    // dead letter whose MessageUUID is shown.
    let evil = r#"<script>alert("x")</script>"#;
    let evil_form = "MessageUUID=%3Cscript%3Ealert(%22x%22)%3C%2Fscript%3E&From=1&To=2";
    let (code, body) = post_signed(&server, "/api/plivo/status", evil_form, TOKEN).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("dead_letter"), "{body}");
    let escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
    let seen = read_until(&mut events, escaped).await;
    assert!(
        !seen.contains(evil),
        "{bin}: unescaped in the stream: {seen}"
    );
    let (_, _, page) = get(&server, "/").await;
    assert!(page.contains(escaped), "{bin}: {page}");
    assert!(!page.contains(evil), "{bin}: unescaped on the page");
    assert!(page.contains("dead letter"));
    // Forged (no valid signature) with a hostile UUID: rejected, shown escaped too.
    let forged = client()
        .post(server.url("/api/plivo/status"))
        .header("X-Plivo-Signature-V3", "<script>x</script>")
        .header("X-Plivo-Signature-V3-Nonce", "<b>1</b>")
        .body(evil_form)
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_client_error());
    let (_, _, page) = get(&server, "/").await;
    assert!(
        !page.contains("<script>x") && !page.contains("<b>1"),
        "{page}"
    );

    // The JSON fallback has the same entries, after an id, each with its escaped row.
    let (code, content_type, feed) = get(&server, "/dashboard/feed.json").await;
    assert_eq!(code, 200);
    assert!(content_type.starts_with("application/json"));
    let feed: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let entries = feed["entries"].as_array().unwrap();
    assert!(entries.len() >= 5, "{feed}");
    assert_eq!(entries[0]["message_uuid"], id.as_str());
    assert_eq!(entries[0]["status"], "queued");
    assert_eq!(entries[0]["verified"], true);
    assert!(entries
        .iter()
        .all(|e| !e["html"].as_str().unwrap().contains("<script")));
    let rejected = entries.iter().find(|e| e["outcome"] == "rejected").unwrap();
    assert!(rejected["diagnosis"]
        .as_str()
        .unwrap()
        .contains("trailing slash"));
    let first = entries[0]["id"].as_u64().unwrap();
    let epoch = feed["epoch"].as_u64().unwrap();
    let (_, _, after) = get(
        &server,
        &format!("/dashboard/feed.json?after={epoch}.{first}"),
    )
    .await;
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        after["entries"].as_array().unwrap().len(),
        entries.len() - 1
    );

    // A stream resumed with Last-Event-ID starts after it, and from the start when the id
    // is of another epoch (the page was open across a restart).
    let mut resumed = client()
        .get(server.url("/dashboard/events"))
        .header("Last-Event-ID", format!("{epoch}.{first}"))
        .send()
        .await
        .unwrap();
    let seen = read_until(&mut resumed, &failed).await;
    assert!(!seen.contains(&id), "{seen}");
    assert!(
        seen.contains(&format!("id: {epoch}.{}", first + 1)),
        "{seen}"
    );
    let mut restarted = client()
        .get(server.url("/dashboard/events"))
        .header("Last-Event-ID", format!("{}.{first}", epoch + 1))
        .send()
        .await
        .unwrap();
    read_until(&mut restarted, &id).await;

    // The timeline marks the out-of-order arrival; the summary counts and charts.
    let late = uuid();
    post_status(&server, &late, "queued", 1, "").await;
    post_status(&server, &late, "delivered", 3, "").await;
    post_status(&server, &late, "sent", 2, "").await;
    read_until(&mut events, "out of order").await;
    let (code, _, timeline) = get(&server, &format!("/dashboard/message?uuid={late}")).await;
    assert_eq!(code, 200, "{timeline}");
    assert_eq!(
        timeline.matches("out of order</span>").count(),
        1,
        "{timeline}"
    );
    assert!(timeline.contains("step done step-delivered"), "{timeline}");
    let (code, _, unknown) = get(&server, "/dashboard/message?uuid=%3Cb%3Enope").await;
    assert_eq!(code, 404);
    assert!(unknown.contains("&lt;b&gt;nope") && !unknown.contains("<b>"));
    let (_, _, summary) = get(&server, "/dashboard/summary").await;
    assert!(summary.contains("<svg"), "{summary}");
    // delivered 1 of 2 final (late delivered, failed undelivered).
    assert!(summary.contains(r#"id="delivery-rate">50%"#), "{summary}");
}

#[tokio::test]
async fn axum_dashboard() {
    scenario("axum-receiver").await;
}

#[tokio::test]
async fn actix_dashboard() {
    scenario("actix-receiver").await;
}

#[tokio::test]
async fn dashboard_off_answers_404() {
    for bin in RECEIVERS {
        let server = Server::start(bin, "memory:", &[("DASHBOARD", "off")]);
        for path in [
            "/",
            "/dashboard/events",
            "/dashboard/feed.json",
            "/dashboard/summary",
            "/dashboard/app.js",
        ] {
            assert_eq!(get(&server, path).await.0, 404, "{bin} {path}");
        }
        post_status(&server, &uuid(), "queued", 1, "").await;
        assert_eq!(get(&server, "/healthz").await.0, 200);
    }
}
