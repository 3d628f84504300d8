//! Group commit shared by the SQL stores: status events that arrive while a transaction
//! is being written go into the next one, so one commit serves many callbacks. Each caller
//! gets its own outcome only after the commit; if the transaction fails, every caller in it
//! gets the error (503) and nothing of it is kept.

use std::sync::Arc;

use plivo_webhook_core::{Error, EventOutcome};
use tokio::sync::{mpsc, oneshot, Mutex};

use super::{unavailable, NewEvent};

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
                match spawn_thread(i, make(), queue.clone()) {
                    Ok(()) => continue,
                    // Not fatal: the writer runs on the server's runtime instead.
                    Err(err) => tracing::warn!(error = %err, "cannot start a writer thread"),
                }
            }
            tokio::spawn(run(make(), queue.clone()));
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
) -> Result<(), std::io::Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("batch-writer-{i}"))
        .spawn(move || runtime.block_on(run(writer, queue)))?;
    Ok(())
}

async fn run(mut writer: impl BatchWrite, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if queue.lock().await.is_empty() {
            writer.idle().await;
        }
        if queue.lock().await.recv_many(&mut batch, MAX_BATCH).await == 0 {
            break;
        }
        let events: Vec<&NewEvent> = batch.iter().map(|job| &job.event).collect();
        match writer.write(&events).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                let err = unavailable("record status", &err);
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(err.clone()));
                }
            }
        }
    }
}
