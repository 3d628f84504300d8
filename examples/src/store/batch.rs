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

/// Writes one batch of status events in one transaction (implemented per database).
#[async_trait::async_trait]
pub(crate) trait BatchWrite: Clone + Send + Sync + 'static {
    /// Records the events, in order, and returns one outcome per event.
    async fn write(&self, events: &[&NewEvent]) -> Result<Vec<EventOutcome>, sqlx::Error>;
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

impl Batcher {
    /// Starts `writers` tasks that take batches of jobs and write them with `writer`.
    pub(crate) fn start(writer: &impl BatchWrite, writers: usize) -> Self {
        let (jobs, queue) = mpsc::channel(4 * MAX_BATCH);
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..writers.max(1) {
            tokio::spawn(run(writer.clone(), queue.clone()));
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

async fn run(writer: impl BatchWrite, queue: Arc<Mutex<mpsc::Receiver<Job>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.lock().await.recv_many(&mut batch, MAX_BATCH).await > 0 {
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
