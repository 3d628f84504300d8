//! Prometheus metrics: callbacks by status and outcome, verification failures by reason,
//! store latency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Store latency histogram bounds, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// Counters and a latency histogram, rendered as Prometheus text.
#[derive(Debug, Default)]
pub struct Metrics {
    callbacks: Mutex<BTreeMap<(&'static str, &'static str, &'static str), u64>>,
    failures: Mutex<BTreeMap<&'static str, u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// Counts a callback on `endpoint` with its status and outcome (`stored`,
    /// `duplicate`, `dead_letter`, `store_error`).
    ///
    /// Labels are interned to a fixed set (unknown statuses count as `other`): no
    /// allocation per request, and a bounded number of series whatever callers send.
    pub fn callback(&self, endpoint: &str, status: &str, outcome: &'static str) {
        let key = (intern(endpoint), intern(status), outcome);
        if let Ok(mut map) = self.callbacks.lock() {
            *map.entry(key).or_default() += 1;
        }
    }

    /// Counts a rejected request by reason ([`plivo_webhook_core::Error::reason`]).
    pub fn verification_failure(&self, reason: &'static str) {
        if let Ok(mut map) = self.failures.lock() {
            *map.entry(reason).or_default() += 1;
        }
    }

    /// Records one store operation's latency.
    pub fn store_latency(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.latency_sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// The number of rejected requests so far.
    pub fn failures_total(&self) -> u64 {
        self.failures.lock().map_or(0, |m| m.values().sum())
    }

    /// Prometheus text exposition format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP plivo_callbacks_total Verified callbacks by endpoint, status and outcome.\n",
        );
        out.push_str("# TYPE plivo_callbacks_total counter\n");
        if let Ok(map) = self.callbacks.lock() {
            for ((endpoint, status, outcome), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "plivo_callbacks_total{{endpoint=\"{endpoint}\",status=\"{status}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP plivo_verification_failures_total Rejected requests by reason.\n");
        out.push_str("# TYPE plivo_verification_failures_total counter\n");
        if let Ok(map) = self.failures.lock() {
            for (reason, n) in map.iter() {
                let _ = writeln!(
                    out,
                    "plivo_verification_failures_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP plivo_store_latency_seconds Latency of store writes.\n");
        out.push_str("# TYPE plivo_store_latency_seconds histogram\n");
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                out,
                "plivo_store_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "plivo_store_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        #[allow(clippy::cast_precision_loss)]
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "plivo_store_latency_seconds_sum {sum}");
        let _ = writeln!(out, "plivo_store_latency_seconds_count {count}");
        out
    }
}

/// The label values a callback can have; anything else is `other`.
const LABELS: [&str; 13] = [
    "status",
    "inbound",
    "queued",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "read",
    "rejected",
    "sms",
    "mms",
    "whatsapp",
    "-",
];

fn intern(value: &str) -> &'static str {
    LABELS
        .iter()
        .find(|label| **label == value)
        .copied()
        .unwrap_or("other")
}
