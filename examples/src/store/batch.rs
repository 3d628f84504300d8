//! Group commit shared by the SQL stores: status events that arrive while a transaction
//! is being written go into the next one, so one commit serves many callbacks. Each caller
//! gets its own outcome only after the commit; if the transaction fails, every caller in it
//! gets the error (503) and nothing of it is kept.

use std::sync::Arc;

use plivo_webhook_core::{Error, EventOutcome};
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{unavailable, NewEvent, STORE_TIMEOUT};

/// Most status events written in one transaction.
const MAX_BATCH: usize = 128;

/// Writes one batch of status events in one transaction (implemented per database). Each
/// writer is made for one writer task or thread, and may keep state between batches (a
/// connection).
#[async_trait::async_trait]
pub(crate) trait BatchWrite: Send + 'static {
    /// Records the events, in order, and returns one outcome per event.
    async fn write(&mut self, events: &[&NewEvent]) -> Result<Vec<EventOutcome>, sqlx::Error>;

    /// Called when the queue is empty, before the writer waits for the next batch
    /// (releases what a writer may hold between batches).
    async fn idle(&mut self) {}
}

/// Runs `write` on a batch writer's own connection: opened first (`connect`) if there is
/// none, giving up after [`STORE_TIMEOUT`], and closed after an error, so that the next
/// batch opens another, in a known state.
pub(crate) async fn on_connection<C: sqlx::Connection, T>(
    conn: &mut Option<C>,
    connect: impl std::future::Future<Output = Result<C, sqlx::Error>>,
    write: impl AsyncFnOnce(&mut C) -> Result<T, sqlx::Error>,
) -> Result<T, sqlx::Error> {
    let open = match conn {
        Some(open) => open,
        None => {
            let opened = tokio::time::timeout(STORE_TIMEOUT, connect)
                .await
                .map_err(|_| {
                    sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "opening the batch writer's connection timed out",
                    ))
                })??;
            conn.insert(opened)
        }
    };
    let written = write(open).await;
    if written.is_err() {
        close_connection(conn).await;
    }
    written
}

/// Closes a batch writer's connection, if it is open, waiting at most [`STORE_TIMEOUT`].
pub(crate) async fn close_connection<C: sqlx::Connection>(conn: &mut Option<C>) {
    if let Some(conn) = conn.take() {
        let _ = tokio::time::timeout(STORE_TIMEOUT, conn.close()).await;
    }
}

/// A status event waiting for a writer, and where to send its outcome.
#[derive(Debug)]
struct Job {
    event: NewEvent,
    reply: oneshot::Sender<Result<EventOutcome, Error>>,
}

/// The callers' side of the group commit.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::Sender<Job>,
}

/// Where a [`Batcher`]'s writers run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// As tasks of the server's runtime.
    Runtime,
    /// Each on a thread of its own, with a single-threaded runtime: its database round
    /// trips are then never queued behind the server's HTTP tasks. Such a writer must do
    /// its I/O on connections it opens itself, so that its own runtime drives them.
    Threads,
}

impl Batcher {
    /// Starts `writers` writers, each made by `make`, that take batches of jobs and write
    /// them.
    pub(crate) fn start<W: BatchWrite>(make: impl Fn() -> W, writers: usize, place: Place) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..writers.max(1) {
            if place == Place::Threads {
                match spawn_thread(i, make(), queue.clone(), server_runtime()) {
                    Ok(()) => continue,
                    // Not fatal: the writer runs on the server's runtime instead.
                    Err(err) => tracing::warn!(error = %err, "cannot start a writer thread"),
                }
            }
            tokio::spawn(run(make(), queue.clone(), None));
        }
        Batcher { jobs }
    }

    /// Queues an event and waits until its transaction committed (or failed).
    pub(crate) async fn record(&self, event: NewEvent) -> Result<EventOutcome, Error> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || Error::Storage {
            message: "record status: the store's writers stopped".to_owned(),
        };
        self.jobs
            .send(Job { event, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// Runs writer number `i` on a thread of its own ([`Place::Threads`]).
fn spawn_thread(
    i: usize,
    writer: impl BatchWrite,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    replies: Option<Handle>,
) -> Result<(), std::io::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("batch-writer-{i}"))
        .spawn(move || runtime.block_on(run(writer, queue, replies)))?;
    Ok(())
}

/// The server's runtime, if it is tokio's multi-threaded one: a writer thread then hands a
/// batch's replies to one task there, woken once, instead of waking each caller's task
/// from outside the runtime. (On a single-threaded runtime per worker, as actix-web runs,
/// the callers are spread over several runtimes and are woken directly.)
fn server_runtime() -> Option<Handle> {
    Handle::try_current()
        .ok()
        .filter(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread)
}

/// Sends each job its outcome: the batch's, or its error when the batch failed.
fn reply(jobs: impl IntoIterator<Item = Job>, written: Result<Vec<EventOutcome>, Error>) {
    // A caller may have gone (its request timed out); the outcome stands.
    match written {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(Ok(outcome));
            }
        }
        Err(err) => {
            for job in jobs {
                let _ = job.reply.send(Err(err.clone()));
            }
        }
    }
}

async fn run(
    mut writer: impl BatchWrite,
    queue: Arc<Mutex<mpsc::Receiver<Job>>>,
    replies: Option<Handle>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if queue.lock().await.is_empty() {
            writer.idle().await;
        }
        if queue.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
        let written = writer
            .write(&events)
            .await
            .map_err(|err| unavailable("record status", &err));
        match &replies {
            Some(runtime) => {
                let jobs = std::mem::take(&mut batch);
                runtime.spawn(async move { reply(jobs, written) });
            }
            None => reply(batch.drain(..), written),
        }
    }
}
