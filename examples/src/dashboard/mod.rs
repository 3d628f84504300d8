//! The live page at `GET /`: the latest callbacks as they arrive, why one was rejected,
//! each message's timeline, counts by status and the delivery rate.
//!
//! Framework-free: [`handle`] answers every dashboard request with a [`Reply`] or, for
//! `GET /dashboard/events`, an [`EventStream`] of server-sent events; the axum and
//! actix-web wiring only translate. Every page and fragment is rendered here, with every
//! value from a callback HTML-escaped (UUIDs, statuses and reasons are attacker-controlled
//! text); the page's script and style are served by the receiver itself, and a
//! Content-Security-Policy allows no other script.
//!
//! | route | answer |
//! |---|---|
//! | `GET /` | the page (HTML) |
//! | `GET /dashboard/events` | `text/event-stream`: one `entry` event per callback, its data a table row (HTML); resumes after `Last-Event-ID` or `?after=EPOCH.ID` (see [`resume_after`]) |
//! | `GET /dashboard/feed.json?after=EPOCH.ID` | the same entries as JSON, each with its row (`html`): the polling fallback |
//! | `GET /dashboard/summary` | HTML fragment: counts by status, delivery rate, chart, recent verification failures |
//! | `GET /dashboard/message?uuid=UUID` | HTML fragment: the message's timeline |
//! | `GET /dashboard/app.js`, `/dashboard/app.css` | the page's script and style |
//!
//! The dashboard is read-only. With `DASHBOARD=off` the receiver keeps no feed and every
//! route above answers 404.

pub mod render;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use plivo_webhook_core::Params;
use tokio::sync::broadcast;

use crate::feed::{Feed, FeedEntry};
use crate::receiver::{Receiver, Reply, REQUEST_STORE_DEADLINE};

pub use render::{escape, summary_svg, Summary};

/// How many messages the summary counts (the most recently updated).
pub const SUMMARY_MESSAGES: u32 = 1000;

/// How long one event stream stays open before the browser reconnects (with
/// `Last-Event-ID`, so nothing is missed). Bounded so that a page left open never holds
/// a graceful shutdown for longer.
pub const STREAM_LIFETIME: Duration = Duration::from_secs(15);

/// How often an idle event stream sends a comment, so proxies keep it open.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// What the browser waits before reconnecting an ended event stream, in milliseconds.
pub const RETRY_MILLIS: u32 = 1000;

const HTML: &str = "text/html; charset=utf-8";

/// A dashboard request, as the framework received it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request<'a> {
    /// The path (`/`, `/dashboard/events`, …).
    pub path: &'a str,
    /// The raw query string, if any.
    pub query: Option<&'a str>,
    /// The `Last-Event-ID` header (an event stream the browser resumes).
    pub last_event_id: Option<&'a str>,
}

/// A dashboard answer: a whole reply, or a stream of server-sent events.
#[derive(Debug)]
pub enum Answer {
    /// Send as is.
    Reply(Reply),
    /// `200`, `text/event-stream`, `Cache-Control: no-cache`: send each
    /// [`EventStream::next_chunk`] as it comes, until `None`.
    Events(EventStream),
}

/// Whether `path` is one of the dashboard's (`/` or under `/dashboard/`).
#[must_use]
pub fn is_dashboard_path(path: &str) -> bool {
    path == "/" || path.starts_with("/dashboard/")
}

/// Answers a dashboard request (any method the framework routed here is treated as GET).
pub async fn handle(receiver: &Arc<Receiver>, request: Request<'_>) -> Answer {
    let Some(feed) = &receiver.feed else {
        return Answer::Reply(not_found());
    };
    let params = Params::decode(request.query.unwrap_or_default().as_bytes());
    let reply = match request.path {
        "/" => page(receiver, feed).await,
        "/dashboard/app.js" => Reply {
            status: 200,
            content_type: "text/javascript; charset=utf-8",
            body: include_str!("assets/app.js").into(),
        },
        "/dashboard/app.css" => Reply {
            status: 200,
            content_type: "text/css; charset=utf-8",
            body: include_str!("assets/app.css").into(),
        },
        "/dashboard/events" => {
            let after = resume_after(request.last_event_id.or_else(|| params.get("after")));
            return Answer::Events(EventStream::new(Arc::clone(receiver), after));
        }
        "/dashboard/feed.json" => feed_json(feed, &params),
        "/dashboard/summary" => {
            let summary = summary(receiver, feed).await;
            html(200, render::panels(&summary))
        }
        "/dashboard/message" => match params.get("uuid").filter(|u| !u.is_empty()) {
            None => html(400, render::timeline_note("Which message? (?uuid=)")),
            Some(uuid) => timeline(receiver, uuid).await,
        },
        _ => not_found(),
    };
    Answer::Reply(reply)
}

/// `404`, as every dashboard route answers with `DASHBOARD=off`.
#[must_use]
pub fn not_found() -> Reply {
    Reply {
        status: 404,
        content_type: "text/plain; charset=utf-8",
        body: "not found".into(),
    }
}

fn html(status: u16, body: String) -> Reply {
    Reply {
        status,
        content_type: HTML,
        body: body.into(),
    }
}

async fn page(receiver: &Receiver, feed: &Feed) -> Reply {
    let summary = summary(receiver, feed).await;
    html(200, render::page(&feed.recent(), &summary))
}

async fn summary(receiver: &Receiver, feed: &Feed) -> Summary {
    let listed = tokio::time::timeout(
        REQUEST_STORE_DEADLINE,
        receiver.store.messages(None, SUMMARY_MESSAGES),
    )
    .await;
    let (statuses, store_error) = match listed {
        Ok(Ok(messages)) => (
            messages.into_iter().map(|m| m.status).collect::<Vec<_>>(),
            None,
        ),
        Ok(Err(err)) => (Vec::new(), Some(err.to_string())),
        Err(_) => (
            Vec::new(),
            Some("the store did not answer in time".to_owned()),
        ),
    };
    Summary::new(
        statuses.iter().map(String::as_str),
        &feed.recent(),
        store_error,
    )
}

async fn timeline(receiver: &Receiver, uuid: &str) -> Reply {
    match tokio::time::timeout(REQUEST_STORE_DEADLINE, receiver.store.message(uuid)).await {
        Ok(Ok(Some(message))) => html(200, render::timeline(&message)),
        Ok(Ok(None)) => html(
            404,
            render::timeline_note(&format!(
                "No status callback stored for {uuid} (inbound messages have no timeline)."
            )),
        ),
        Ok(Err(err)) => html(503, render::timeline_note(&err.to_string())),
        Err(_) => html(
            503,
            render::timeline_note("the store did not answer in time"),
        ),
    }
}

fn feed_json(feed: &Feed, params: &Params) -> Reply {
    #[derive(serde::Serialize)]
    struct Item<'a> {
        #[serde(flatten)]
        entry: &'a FeedEntry,
        html: String,
    }
    let after = resume_after(params.get("after"));
    let entries = feed.recent();
    let items: Vec<Item<'_>> = entries
        .iter()
        .filter(|e| e.id > after)
        .map(|entry| Item {
            entry,
            html: render::row(entry),
        })
        .collect();
    Reply {
        status: 200,
        content_type: "application/json",
        body: serde_json::json!({ "epoch": epoch(), "entries": items })
            .to_string()
            .into(),
    }
}

/// Formats one server-sent event: optional `id` and `event` fields, then `data` split
/// into one `data:` line per line of `data` (so a newline in it cannot end the event or
/// forge a field), then the blank line.
#[must_use]
pub fn sse_event(id: Option<&str>, event: Option<&str>, data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 32);
    // Field values end at a line break: keep each on one line.
    for (field, value) in [("id: ", id), ("event: ", event)] {
        if let Some(value) = value {
            out.push_str(field);
            out.extend(value.chars().filter(|c| !matches!(c, '\r' | '\n')));
            out.push('\n');
        }
    }
    for line in data.split(['\n', '\r']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The `entry` event of a feed entry: its id as `EPOCH.ID`, and its table row as data.
#[must_use]
pub fn entry_event(entry: &FeedEntry) -> String {
    let id = format!("{}.{}", epoch(), entry.id);
    sse_event(Some(&id), Some("entry"), &render::row(entry))
}

/// This process's epoch: feed ids restart at 1 when the receiver restarts, so event ids
/// and resume points carry the epoch (`EPOCH.ID`). A page left open across a restart
/// then resumes from the new process's first entry instead of skipping its first ids.
#[must_use]
pub fn epoch() -> u64 {
    static EPOCH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(|| u64::try_from(crate::store::now_micros()).unwrap_or_default() / 1000)
}

/// The feed id to resume after, from a `Last-Event-ID` or `?after=`: `EPOCH.ID` of this
/// process gives `ID`; another epoch (a restart) or nothing gives 0 (from the start); a
/// bare `ID` is taken as is.
#[must_use]
pub fn resume_after(last: Option<&str>) -> u64 {
    let Some(last) = last.map(str::trim) else {
        return 0;
    };
    match last.split_once('.') {
        Some((epoch_part, id)) if epoch_part.parse() == Ok(epoch()) => id.parse().unwrap_or(0),
        Some(_) => 0,
        None => last.parse().unwrap_or(0),
    }
}

/// The server-sent events of `GET /dashboard/events`: first `retry`, then the kept
/// entries after the resume id, then each new entry as it arrives, with keep-alive
/// comments while idle; ends after [`STREAM_LIFETIME`] (the browser reconnects and
/// resumes) or when the feed is gone.
pub struct EventStream {
    receiver: Arc<Receiver>,
    subscription: Option<broadcast::Receiver<FeedEntry>>,
    backlog: VecDeque<FeedEntry>,
    last_sent: u64,
    started: bool,
    deadline: tokio::time::Instant,
}

impl std::fmt::Debug for EventStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventStream")
            .field("last_sent", &self.last_sent)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// A stream of the entries after id `after` (0: every kept entry).
    #[must_use]
    pub fn new(receiver: Arc<Receiver>, after: u64) -> Self {
        // Subscribe before reading the ring, so nothing falls between the two.
        let subscription = receiver.feed.as_ref().map(Feed::subscribe);
        let backlog = receiver
            .feed
            .as_ref()
            .map(|feed| feed.recent().into_iter().filter(|e| e.id > after).collect())
            .unwrap_or_default();
        EventStream {
            receiver,
            subscription,
            backlog,
            last_sent: after,
            started: false,
            deadline: tokio::time::Instant::now() + STREAM_LIFETIME,
        }
    }

    /// The next chunk of the stream, or `None` when it ends.
    pub async fn next_chunk(&mut self) -> Option<String> {
        if !self.started {
            self.started = true;
            return Some(format!("retry: {RETRY_MILLIS}\n\n"));
        }
        if let Some(entry) = self.backlog.pop_front() {
            return Some(self.send(&entry));
        }
        if tokio::time::Instant::now() >= self.deadline {
            return None;
        }
        let subscription = self.subscription.as_mut()?;
        loop {
            tokio::select! {
                received = subscription.recv() => match received {
                    Ok(entry) if entry.id <= self.last_sent => {}
                    Ok(entry) => return Some(self.send(&entry)),
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Too slow a reader: catch up from the ring.
                        let last = self.last_sent;
                        self.backlog = self
                            .receiver
                            .feed
                            .as_ref()
                            .map(|feed| feed.recent().into_iter().filter(|e| e.id > last).collect())
                            .unwrap_or_default();
                        if let Some(entry) = self.backlog.pop_front() {
                            return Some(self.send(&entry));
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(KEEP_ALIVE) => return Some(": keep-alive\n\n".to_owned()),
                () = tokio::time::sleep_until(self.deadline) => return None,
            }
        }
    }

    fn send(&mut self, entry: &FeedEntry) -> String {
        self.last_sent = self.last_sent.max(entry.id);
        entry_event(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_data_cannot_break_out() {
        assert_eq!(
            sse_event(Some("1.7\n"), Some("entry"), "<tr>\n\nevent: x\r</tr>"),
            "id: 1.7\nevent: entry\ndata: <tr>\ndata: \ndata: event: x\ndata: </tr>\n\n"
        );
        assert_eq!(sse_event(None, None, ""), "data: \n\n");
    }

    #[test]
    fn entry_event_escapes() {
        let entry = FeedEntry {
            id: 3,
            message_uuid: Some("<script>alert(1)</script>".to_owned()),
            reason: Some("bad\n<img src=x onerror=alert(1)>".to_owned()),
            ..FeedEntry::new("status", "rejected", false)
        };
        let event = entry_event(&entry);
        assert!(
            event.starts_with(&format!("id: {}.3\nevent: entry\ndata: <tr", epoch())),
            "{event}"
        );
        assert!(
            !event.contains("<script>") && !event.contains("<img"),
            "{event}"
        );
        assert!(event.contains("&lt;script&gt;"), "{event}");
        assert_eq!(event.matches("\n\n").count(), 1, "{event}");
    }

    #[test]
    fn resume_points() {
        assert_eq!(resume_after(None), 0);
        assert_eq!(resume_after(Some("12")), 12);
        assert_eq!(resume_after(Some(&format!("{}.12", epoch()))), 12);
        assert_eq!(resume_after(Some(&format!("{}.12", epoch() + 1))), 0);
        assert_eq!(resume_after(Some("junk")), 0);
    }

    #[test]
    fn dashboard_paths() {
        assert!(is_dashboard_path("/"));
        assert!(is_dashboard_path("/dashboard/events"));
        assert!(!is_dashboard_path("/api/messages"));
    }
}
