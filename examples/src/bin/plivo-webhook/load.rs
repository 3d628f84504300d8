//! The figures of a `send` run: answers by status, requests per second and latency
//! percentiles, computed here (nearest rank over every answered request).

use std::collections::BTreeMap;
use std::time::Duration;

/// What one request got.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The HTTP status, or `None` when no answer came (refused, reset, timed out).
    pub(crate) status: Option<u16>,
    /// From sending the request to reading the whole answer.
    pub(crate) latency: Duration,
}

/// The summary of a run.
#[derive(Debug)]
pub(crate) struct Summary {
    /// Requests attempted.
    pub(crate) sent: u64,
    /// Messages whose callbacks were sent.
    pub(crate) messages: u64,
    /// Answers by HTTP status.
    pub(crate) by_status: BTreeMap<u16, u64>,
    /// Requests that got no answer.
    pub(crate) errors: u64,
    /// The status every answer should have.
    pub(crate) expected: u16,
    /// Wall-clock time of the run.
    pub(crate) elapsed: Duration,
    /// Parallel senders.
    pub(crate) concurrency: usize,
    /// Latencies of answered requests, sorted.
    latencies: Vec<Duration>,
}

impl Summary {
    /// Summarises the outcomes of a run.
    pub(crate) fn new(
        outcomes: &[Outcome],
        messages: u64,
        expected: u16,
        elapsed: Duration,
        concurrency: usize,
    ) -> Self {
        let mut by_status = BTreeMap::new();
        let mut latencies = Vec::with_capacity(outcomes.len());
        let mut errors = 0;
        for outcome in outcomes {
            match outcome.status {
                Some(status) => {
                    *by_status.entry(status).or_insert(0) += 1;
                    latencies.push(outcome.latency);
                }
                None => errors += 1,
            }
        }
        latencies.sort_unstable();
        Summary {
            sent: outcomes.len() as u64,
            messages,
            by_status,
            errors,
            expected,
            elapsed,
            concurrency,
            latencies,
        }
    }

    /// Requests that did not get the expected status (errors included).
    pub(crate) fn unexpected(&self) -> u64 {
        self.sent - self.by_status.get(&self.expected).copied().unwrap_or(0)
    }

    /// Requests per second over the whole run.
    pub(crate) fn rps(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        }
    }

    /// The latency at percentile `p` (0–100), nearest rank; zero when nothing was answered.
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// The slowest answered request.
    pub(crate) fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or(Duration::ZERO)
    }

    /// `200 × 3, 403 × 1, no answer × 2`.
    pub(crate) fn answers(&self) -> String {
        let mut parts: Vec<String> = self
            .by_status
            .iter()
            .map(|(status, n)| format!("{status} × {n}"))
            .collect();
        if self.errors > 0 {
            parts.push(format!("no answer × {}", self.errors));
        }
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The human summary; `load` adds throughput and latency lines.
    pub(crate) fn human(&self, load: bool) -> String {
        let mut text = format!(
            "sent {} request{} ({} message{}): {}",
            self.sent,
            plural(self.sent),
            self.messages,
            plural(self.messages),
            self.answers()
        );
        if load {
            text.push_str(&format!(
                "\n{:.1} requests/s over {:.2} s with concurrency {}\nlatency: p50 {}, p90 {}, p99 {}, max {}",
                self.rps(),
                self.elapsed.as_secs_f64(),
                self.concurrency,
                ms(self.percentile(50.0)),
                ms(self.percentile(90.0)),
                ms(self.percentile(99.0)),
                ms(self.max()),
            ));
        }
        text
    }

    /// The machine-readable summary.
    pub(crate) fn json(&self) -> serde_json::Value {
        let by_status: serde_json::Map<String, serde_json::Value> = self
            .by_status
            .iter()
            .map(|(status, n)| (status.to_string(), (*n).into()))
            .collect();
        serde_json::json!({
            "sent": self.sent,
            "messages": self.messages,
            "by_status": by_status,
            "errors": self.errors,
            "expected_status": self.expected,
            "unexpected": self.unexpected(),
            "concurrency": self.concurrency,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "rps": self.rps(),
            "p50_ms": millis(self.percentile(50.0)),
            "p90_ms": millis(self.percentile(90.0)),
            "p99_ms": millis(self.percentile(99.0)),
            "max_ms": millis(self.max()),
        })
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", millis(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let outcomes: Vec<Outcome> = (1..=100)
            .map(|i| Outcome {
                status: Some(if i == 100 { 403 } else { 200 }),
                latency: Duration::from_millis(i),
            })
            .chain(std::iter::once(Outcome {
                status: None,
                latency: Duration::from_secs(5),
            }))
            .collect();
        let summary = Summary::new(&outcomes, 101, 200, Duration::from_secs(1), 1);
        assert_eq!(summary.percentile(50.0), Duration::from_millis(50));
        assert_eq!(summary.percentile(90.0), Duration::from_millis(90));
        assert_eq!(summary.percentile(99.0), Duration::from_millis(99));
        assert_eq!(summary.max(), Duration::from_millis(100));
        assert_eq!(summary.unexpected(), 2);
        assert_eq!(summary.answers(), "200 × 99, 403 × 1, no answer × 1");
        assert_eq!(summary.json()["by_status"]["200"], 99);
    }
}
