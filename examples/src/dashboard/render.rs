//! Server-side rendering of the dashboard: the page, its rows, the summary with its
//! inline SVG chart, verification failures and a message's timeline.
//!
//! Every value that came with a callback goes through [`escape`] (the `Esc` wrapper), in
//! text and in attribute values alike; CSS classes are chosen from fixed lists, never
//! built from callback text.

use std::fmt::{self, Write as _};

use plivo_webhook_core::{ErrorCode, StoredMessage};

use crate::feed::FeedEntry;

/// HTML-escapes `text` for element content and quoted attribute values (`&`, `<`, `>`,
/// `"`, `'`; line breaks as character references, so a rendered fragment is one line).
#[must_use]
pub fn escape(text: &str) -> String {
    Esc(text).to_string()
}

/// Displays a string HTML-escaped.
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'', '\n', '\r']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                b'\'' => "&#39;",
                b'\n' => "&#10;",
                _ => "&#13;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// Statuses in lifecycle order, with their CSS class and chart colour.
const STATUSES: [(&str, &str); 7] = [
    ("queued", "#94a3b8"),
    ("sent", "#60a5fa"),
    ("delivered", "#16a34a"),
    ("read", "#0d9488"),
    ("undelivered", "#f59e0b"),
    ("failed", "#dc2626"),
    ("rejected", "#9f1239"),
];

/// The CSS class of a status badge: one of a fixed set.
fn status_class(status: &str) -> &'static str {
    match status {
        "queued" => "s-queued",
        "sent" => "s-sent",
        "delivered" => "s-delivered",
        "read" => "s-read",
        "undelivered" => "s-undelivered",
        "failed" => "s-failed",
        "rejected" => "s-rejected",
        s if s.starts_with("inbound") => "s-inbound",
        _ => "s-other",
    }
}

/// `09:19:52` from `2024-01-08T09:19:52.123456Z`.
fn clock(at: &str) -> &str {
    at.get(11..19).unwrap_or(at)
}

fn badge(out: &mut String, status: &str) {
    let _ = write!(
        out,
        r#"<span class="badge {}">{}</span>"#,
        status_class(status),
        Esc(status)
    );
}

/// One callback as a table row (one line of HTML).
#[must_use]
pub fn row(e: &FeedEntry) -> String {
    let mut h = String::with_capacity(512);
    let class = match e.outcome {
        "rejected" => "rejected",
        "dead_letter" => "dead",
        "store_error" => "store-error",
        "duplicate" => "duplicate",
        _ => "accepted",
    };
    let _ = write!(h, r#"<tr class="row {class}" data-id="{}""#, e.id);
    if let Some(uuid) = &e.message_uuid {
        let _ = write!(h, r#" data-uuid="{}""#, Esc(uuid));
    }
    let _ = write!(
        h,
        r#"><td class="time" title="{}">{}</td>"#,
        Esc(&e.at),
        Esc(clock(&e.at))
    );
    match &e.message_uuid {
        Some(uuid) if e.endpoint == "status" => {
            let _ = write!(
                h,
                r#"<td class="msg"><button type="button" class="uuid" data-uuid="{0}" title="show the timeline of {0}">{0}</button></td>"#,
                Esc(uuid)
            );
        }
        Some(uuid) => {
            let _ = write!(
                h,
                r#"<td class="msg"><code class="uuid">{}</code></td>"#,
                Esc(uuid)
            );
        }
        None => {
            let _ = write!(
                h,
                r#"<td class="msg"><span class="muted">/api/plivo/{}</span></td>"#,
                Esc(e.endpoint)
            );
        }
    }
    h.push_str(r#"<td class="status">"#);
    match &e.status {
        Some(status) => badge(&mut h, status),
        None => h.push_str(r#"<span class="muted">—</span>"#),
    }
    for (on, class, text) in [
        (e.outcome == "duplicate", "tag", "duplicate"),
        (e.out_of_order, "tag warn", "out of order"),
        (e.outcome == "dead_letter", "tag warn", "dead letter"),
        (e.outcome == "store_error", "tag bad", "store error: 503"),
    ] {
        if on {
            let _ = write!(h, r#" <span class="{class}">{text}</span>"#);
        }
    }
    h.push_str(r#"</td><td class="error">"#);
    if let Some(code) = &e.error_code {
        let _ = write!(h, r#"<span class="code">{}</span>"#, Esc(code));
        if let Some(meaning) = &e.error_meaning {
            let _ = write!(h, r#" <span class="meaning">{}</span>"#, Esc(meaning));
        }
    }
    h.push_str(r#"</td><td class="verify">"#);
    if e.verified {
        h.push_str(r#"<span class="ok">✓ verified</span>"#);
    } else {
        h.push_str(r#"<span class="bad">✗ rejected</span>"#);
    }
    if let Some(reason) = &e.reason {
        let _ = write!(
            h,
            r#"<div class="reason" title="{0}">{0}</div>"#,
            Esc(reason)
        );
    }
    h.push_str("</td></tr>");
    h
}

/// Counts for the summary panel.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Messages by current status, in lifecycle order (then any other status).
    pub by_status: Vec<(String, u64)>,
    /// Messages counted.
    pub messages: u64,
    /// Messages delivered (or read).
    pub delivered: u64,
    /// Messages in a final status.
    pub finished: u64,
    /// Callbacks in the feed.
    pub callbacks: u64,
    /// Of which rejected.
    pub rejected: u64,
    /// Of which duplicates.
    pub duplicates: u64,
    /// The latest verification failures, newest first (at most 5).
    pub failures: Vec<FeedEntry>,
    /// Why the store could not be read, if it could not.
    pub store_error: Option<String>,
}

impl Summary {
    /// Counts `statuses` (the current status of each message) and the feed `entries`.
    pub fn new<'a>(
        statuses: impl IntoIterator<Item = &'a str>,
        entries: &[FeedEntry],
        store_error: Option<String>,
    ) -> Self {
        let mut by_status: Vec<(String, u64)> = STATUSES
            .iter()
            .map(|(status, _)| ((*status).to_owned(), 0))
            .collect();
        let mut summary = Summary {
            store_error,
            ..Summary::default()
        };
        for status in statuses {
            summary.messages += 1;
            match by_status.iter_mut().find(|(s, _)| s == status) {
                Some((_, n)) => *n += 1,
                None => by_status.push((status.to_owned(), 1)),
            }
            if matches!(status, "delivered" | "read") {
                summary.delivered += 1;
            }
            if matches!(
                status,
                "delivered" | "read" | "undelivered" | "failed" | "rejected"
            ) {
                summary.finished += 1;
            }
        }
        // Always show the main path; the rest when present.
        by_status.retain(|(s, n)| *n > 0 || matches!(s.as_str(), "queued" | "sent" | "delivered"));
        summary.by_status = by_status;
        summary.callbacks = entries.len() as u64;
        summary.rejected = entries.iter().filter(|e| e.outcome == "rejected").count() as u64;
        summary.duplicates = entries.iter().filter(|e| e.outcome == "duplicate").count() as u64;
        summary.failures = entries
            .iter()
            .rev()
            .filter(|e| e.outcome == "rejected")
            .take(5)
            .cloned()
            .collect();
        summary
    }

    /// Delivered (or read) among final messages, 0 to 1; `None` before any is final.
    #[must_use]
    pub fn delivery_rate(&self) -> Option<f64> {
        #[allow(clippy::cast_precision_loss)]
        (self.finished > 0).then(|| self.delivered as f64 / self.finished as f64)
    }
}

fn colour(status: &str) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("#a78bfa", |(_, c)| c)
}

/// The chart of messages by status: an inline SVG of horizontal bars.
#[must_use]
pub fn summary_svg(summary: &Summary) -> String {
    const WIDTH: u64 = 340;
    const LABEL: u64 = 88;
    const BAR: u64 = 200;
    const ROW: u64 = 24;
    let rows = summary.by_status.len() as u64;
    let height = rows * ROW + 4;
    let max = summary
        .by_status
        .iter()
        .map(|(_, n)| *n)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="messages by status">"#
    );
    for (i, (status, n)) in summary.by_status.iter().enumerate() {
        let y = i as u64 * ROW + 2;
        let w = if *n == 0 { 0 } else { (n * BAR / max).max(3) };
        let _ = write!(
            s,
            r##"<text x="{tx}" y="{ty}" text-anchor="end" class="chart-label">{label}</text><rect x="{LABEL}" y="{y1}" width="{BAR}" height="16" rx="3" fill="#f1f5f9"/><rect x="{LABEL}" y="{y1}" width="{w}" height="16" rx="3" fill="{fill}"><title>{label}: {n}</title></rect><text x="{cx}" y="{ty}" class="chart-count">{n}</text>"##,
            tx = LABEL - 8,
            ty = y + 13,
            y1 = y,
            label = Esc(status),
            fill = colour(status),
            cx = LABEL + BAR + 8,
        );
    }
    s.push_str("</svg>");
    s
}

/// The delivery-rate gauge: a ring, as inline SVG.
fn gauge_svg(rate: Option<f64>) -> String {
    // Circumference of r = 26.
    const C: f64 = 163.363;
    let filled = rate.unwrap_or(0.0).clamp(0.0, 1.0) * C;
    let colour = match rate {
        Some(r) if r >= 0.9 => "#16a34a",
        Some(r) if r >= 0.6 => "#f59e0b",
        Some(_) => "#dc2626",
        None => "#cbd5e1",
    };
    format!(
        r##"<svg class="gauge" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64" aria-hidden="true"><circle cx="32" cy="32" r="26" fill="none" stroke="#e2e8f0" stroke-width="8"/><circle cx="32" cy="32" r="26" fill="none" stroke="{colour}" stroke-width="8" stroke-linecap="butt" stroke-dasharray="{filled:.2} {C}" transform="rotate(-90 32 32)"/></svg>"##
    )
}

/// The summary and failures panels (swapped into the page by id).
#[must_use]
pub fn panels(summary: &Summary) -> String {
    let mut h = String::with_capacity(4096);
    h.push_str(r#"<section id="summary" class="card"><div class="card-head"><h2>Messages</h2>"#);
    let _ = write!(
        h,
        r#"<span class="muted">{} callbacks in the feed</span></div>"#,
        summary.callbacks
    );
    if let Some(err) = &summary.store_error {
        let _ = write!(h, r#"<p class="warn-box">store: {}</p>"#, Esc(err));
    }
    let rate = summary.delivery_rate();
    let rate_text = rate.map_or_else(|| "—".to_owned(), |r| format!("{:.0}%", r * 100.0));
    let _ = write!(
        h,
        r#"<div class="kpis"><div class="kpi rate">{gauge}<div><div class="big" id="delivery-rate">{rate_text}</div><div class="label">delivery rate</div><div class="sub">{d} of {f} final messages</div></div></div><div class="kpi"><div class="big">{m}</div><div class="label">messages</div></div><div class="kpi"><div class="big{bad}">{r}</div><div class="label">rejected</div><div class="sub">{dup} duplicates</div></div></div>"#,
        gauge = gauge_svg(rate),
        d = summary.delivered,
        f = summary.finished,
        m = summary.messages,
        r = summary.rejected,
        bad = if summary.rejected > 0 { " bad" } else { "" },
        dup = summary.duplicates,
    );
    h.push_str(&summary_svg(summary));
    h.push_str("</section>");
    h.push_str(r#"<section id="failures" class="card"><div class="card-head"><h2>Verification failures</h2><span class="muted">latest first</span></div>"#);
    if summary.failures.is_empty() {
        h.push_str(r#"<p class="muted">None: every callback so far was signed as expected.</p>"#);
    } else {
        h.push_str(r#"<ul class="failures">"#);
        for e in &summary.failures {
            let _ = write!(
                h,
                r#"<li><div class="fail-head"><span class="time" title="{}">{}</span> <code>/api/plivo/{}</code></div>"#,
                Esc(&e.at),
                Esc(clock(&e.at)),
                Esc(e.endpoint),
            );
            // The diagnosis first: it says what to change.
            if let Some(diagnosis) = &e.diagnosis {
                let _ = write!(h, r#"<div class="diagnosis">{}</div>"#, Esc(diagnosis));
            }
            let _ = write!(
                h,
                r#"<div class="reason" title="{0}">{0}</div></li>"#,
                Esc(e.reason.as_deref().unwrap_or("rejected"))
            );
        }
        h.push_str("</ul>");
    }
    h.push_str("</section>");
    h
}

/// The timeline panel with a note instead of a message.
#[must_use]
pub fn timeline_note(note: &str) -> String {
    format!(
        r#"<section id="timeline" class="card"><div class="card-head"><h2>Timeline</h2></div><p class="muted">{}</p></section>"#,
        Esc(note)
    )
}

/// A message's timeline: the lifecycle path and every event in arrival order.
#[must_use]
pub fn timeline(message: &StoredMessage) -> String {
    let mut h = String::with_capacity(2048);
    let _ = write!(
        h,
        r#"<section id="timeline" class="card" data-uuid="{0}"><div class="card-head"><h2>Timeline</h2><code class="uuid">{0}</code></div>"#,
        Esc(&message.message_uuid)
    );
    // The path: queued → sent → final, each step with the time it was first seen.
    let rank = |s: &str| match s {
        "queued" => 0,
        "sent" => 1,
        "read" => 3,
        "delivered" | "undelivered" | "failed" | "rejected" => 2,
        _ => 1,
    };
    let final_status = message
        .events
        .iter()
        .find(|e| rank(&e.status) >= 2)
        .map_or("delivered", |e| e.status.as_str());
    h.push_str(r#"<ol class="steps">"#);
    for (i, step) in ["queued", "sent", final_status].into_iter().enumerate() {
        let seen = message.events.iter().find(|e| {
            if i == 2 {
                rank(&e.status) >= 2
            } else {
                rank(&e.status) == i
            }
        });
        let _ = write!(
            h,
            r#"<li class="step {} step-{}"><span class="dot"></span><span class="step-name">{}</span><span class="step-time">{}</span></li>"#,
            if seen.is_some() { "done" } else { "pending" },
            &status_class(step)[2..],
            Esc(step),
            Esc(seen.map_or("waiting", |e| clock(&e.received_at)))
        );
    }
    h.push_str("</ol>");
    h.push_str(r#"<ol class="events">"#);
    for (i, event) in message.events.iter().enumerate() {
        let _ = write!(
            h,
            r#"<li class="event{}"><span class="n">{}</span><span class="time" title="{}">{}</span>"#,
            if event.out_of_order { " ooo" } else { "" },
            i + 1,
            Esc(&event.received_at),
            Esc(clock(&event.received_at))
        );
        badge(&mut h, &event.status);
        if let Some(seq) = event.sequence {
            let _ = write!(h, r#"<span class="muted">seq {seq}</span>"#);
        }
        if let Some(code) = &event.error_code {
            let meaning = ErrorCode::parse(code).map_or("", |c| c.description());
            let _ = write!(
                h,
                r#"<span class="error"><span class="code">{}</span> <span class="meaning">{}</span></span>"#,
                Esc(code),
                Esc(meaning)
            );
        }
        if event.out_of_order {
            h.push_str(r#"<span class="tag warn" title="arrived after a later status; kept in history only">out of order</span>"#);
        }
        h.push_str("</li>");
    }
    h.push_str("</ol>");
    let _ = write!(h, r#"<p class="muted now">current: "#);
    badge(&mut h, &message.status);
    if let Some(code) = &message.error_code {
        let _ = write!(h, r#" <span class="code">{}</span>"#, Esc(code));
    }
    let _ = write!(
        h,
        r#" since <span title="{}">{}</span></p></section>"#,
        Esc(&message.updated_at),
        Esc(clock(&message.updated_at))
    );
    h
}

/// The whole page: the latest callbacks (newest first), the panels, an empty timeline.
#[must_use]
pub fn page(entries: &[FeedEntry], summary: &Summary) -> String {
    let last = entries.iter().map(|e| e.id).max().unwrap_or(0);
    let epoch = super::epoch();
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>plivo-webhook · live callbacks</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="dashboard/app.css">
<script src="dashboard/app.js" defer></script>
</head>
<body data-epoch="{epoch}" data-last="{last}">
<header class="top"><div class="brand"><span class="logo">◆</span>plivo-webhook <span class="muted">receiver</span></div><div id="conn" class="conn" aria-live="polite">connecting…</div></header>
<main class="grid">
<section id="callbacks" class="card feed"><div class="card-head"><h2>Latest callbacks</h2><span class="muted">newest first · updates live · click a message for its timeline</span></div>
<table class="feed-table"><thead><tr><th class="c-time">time (UTC)</th><th class="c-msg">message</th><th class="c-status">status</th><th class="c-error">error</th><th class="c-verify">verification</th></tr></thead>
<tbody id="feed-rows">"#
    );
    for entry in entries.iter().rev() {
        h.push_str(&row(entry));
        h.push('\n');
    }
    h.push_str("</tbody></table>\n");
    if entries.is_empty() {
        h.push_str(r#"<p id="empty" class="empty">No callback yet. Point Plivo (or <code>plivo-webhook send</code>) at <code>/api/plivo/status</code>; callbacks appear here as they arrive.</p>"#);
    }
    h.push_str("</section>\n<div class=\"side\">\n");
    h.push_str(&panels(summary));
    h.push('\n');
    h.push_str(&timeline_note(
        "Click a message UUID to see its callbacks in arrival order.",
    ));
    h.push_str(
        "\n</div>\n</main>\n<footer>read-only · nothing secret is shown · <code>DASHBOARD=off</code> switches this page off</footer>\n</body>\n</html>\n",
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use plivo_webhook_core::StoredEvent;

    #[test]
    fn escapes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("a\r\nb"), "a&#13;&#10;b");
        assert_eq!(escape("plain ✓"), "plain ✓");
    }

    #[test]
    fn row_escapes_everything_from_the_callback() {
        let evil = r#""><script>alert(1)</script>"#;
        let entry = FeedEntry {
            id: 9,
            message_uuid: Some(evil.to_owned()),
            status: Some(evil.to_owned()),
            error_code: Some(evil.to_owned()),
            error_meaning: Some(evil.to_owned()),
            reason: Some(evil.to_owned()),
            diagnosis: Some(evil.to_owned()),
            ..FeedEntry::new("status", "dead_letter", true)
        };
        let html = row(&entry);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains(r#""">"#), "{html}");
        assert!(html.contains("s-other"), "{html}");
        assert!(!html.contains('\n'));
        let summary = Summary::new(
            [evil],
            &[FeedEntry {
                outcome: "rejected",
                ..entry
            }],
            None,
        );
        let panels = panels(&summary);
        assert!(!panels.contains("<script"), "{panels}");
    }

    #[test]
    fn counts_and_rate() {
        let s = Summary::new(
            ["delivered", "delivered", "undelivered", "sent", "read"],
            &[],
            None,
        );
        assert_eq!((s.messages, s.delivered, s.finished), (5, 3, 4));
        assert_eq!(s.delivery_rate(), Some(0.75));
        let names: Vec<&str> = s.by_status.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["queued", "sent", "delivered", "read", "undelivered"]
        );
        assert_eq!(Summary::new([], &[], None).delivery_rate(), None);
        let svg = summary_svg(&s);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<title>").count(), 5);
    }

    #[test]
    fn timeline_marks_out_of_order() {
        let event = |status: &str, ooo: bool, code: Option<&str>| StoredEvent {
            status: status.to_owned(),
            error_code: code.map(str::to_owned),
            sequence: Some(1),
            received_at: "2024-01-08T09:19:52.000000Z".to_owned(),
            out_of_order: ooo,
        };
        let message = StoredMessage {
            message_uuid: "u-1".to_owned(),
            status: "undelivered".to_owned(),
            error_code: Some("30".to_owned()),
            updated_at: "2024-01-08T09:19:52.000000Z".to_owned(),
            events: vec![
                event("queued", false, None),
                event("undelivered", false, Some("30")),
                event("sent", true, None),
            ],
        };
        let html = timeline(&message);
        assert_eq!(html.matches("out of order</span>").count(), 1, "{html}");
        assert!(html.contains(r#"step done step-undelivered"#), "{html}");
        assert!(html.contains("09:19:52"));
    }
}
