//! `send`: sign built-in callbacks and POST them to an endpoint, one by one or as a load
//! generator.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Args;
use plivo_webhook_core::testing::{random_nonce, Signer};

use crate::client::{Answer, Client, Target};
use crate::failure::Failure;
use crate::form;
use crate::load::{Outcome, Summary};
use crate::templates::{Message, Template};

/// Arguments of `send`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/status --sequence queued,sent,delivered
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/status \\
      --signed-url https://example.com/api/plivo/status --sequence sent,delivered --duplicates 1 --shuffle
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/inbound --sequence inbound-sms
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/status --count 2000 --concurrency 16 --json
  plivo-webhook send --url http://127.0.0.1:3000/api/plivo/status --duration 10 --concurrency 8

Each message gets a fresh MessageUUID (or --message-uuid); every request a fresh nonce.
Prints each answer ('200 delivered <uuid>') and a summary; with --count, --concurrency or
--duration it is a load generator and prints requests/s and latency p50/p90/p99/max instead.
Exit 1 when any answer is not --expect-status (no answer within --timeout-ms counts too).")]
pub(crate) struct SendArgs {
    /// The address to send to, plain http:// (e.g. http://127.0.0.1:3000/api/plivo/status);
    /// a receiver behind HTTPS is reached at its own address and signed for with
    /// --signed-url.
    #[arg(long, value_parser = form::parse_url)]
    url: String,
    /// The public URL to sign for, when the receiver is behind a proxy or tunnel (its
    /// APP_BASE_URL + route); default: --url.
    #[arg(long, value_name = "URL", value_parser = form::parse_url)]
    signed_url: Option<String>,
    /// The auth token to sign with.
    #[arg(long, env = "PLIVO_AUTH_TOKEN", hide_env_values = true)]
    token: String,
    /// GET or POST (Plivo's callback method; GET carries the parameters in the query).
    #[arg(long, default_value = "POST", value_parser = form::parse_method)]
    method: String,
    /// The callbacks of each message, in order (comma-separated).
    #[arg(
        long,
        alias = "template",
        value_enum,
        value_delimiter = ',',
        default_value = "delivered"
    )]
    sequence: Vec<Template>,
    /// The MessageUUID (CallUUID for voice) of the message; one message only.
    #[arg(long, value_name = "UUID")]
    message_uuid: Option<String>,
    /// The ErrorCode of `undelivered` and `failed` callbacks.
    #[arg(long, value_name = "CODE")]
    error_code: Option<String>,
    /// Send each callback N more times (Plivo's retries; each with a fresh nonce).
    #[arg(long, value_name = "N", default_value_t = 0)]
    duplicates: u32,
    /// Shuffle the callbacks of each message (out-of-order arrival).
    #[arg(long)]
    shuffle: bool,
    /// Messages to send (load mode); default 1, unbounded with --duration.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Messages in flight at once (load mode); default 1.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    concurrency: Option<u64>,
    /// Keep sending for this many seconds (load mode); stops earlier at --count.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    duration: Option<Duration>,
    /// The HTTP status every answer should have.
    #[arg(long, value_name = "STATUS", default_value_t = 200, value_parser = clap::value_parser!(u16).range(100..=599))]
    expect_status: u16,
    /// A request with no answer after this many milliseconds counts as an error.
    #[arg(long, value_name = "MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_ms: u64,
    /// Print only a JSON summary (sent, messages, by_status, errors, unexpected, rps,
    /// p50_ms, p90_ms, p99_ms, max_ms).
    #[arg(long)]
    json: bool,
}

/// Parses a positive number of seconds (fractions allowed).
fn parse_seconds(arg: &str) -> Result<Duration, String> {
    match arg.parse::<f64>() {
        Ok(secs) if secs > 0.0 && secs.is_finite() && secs < 1e9 => {
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(format!(
            "expected a positive number of seconds, got {arg:?}"
        )),
    }
}

/// Everything a sender task needs, shared.
#[derive(Debug)]
struct Plan {
    target: Target,
    signer: Signer,
    method: http::Method,
    url: String,
    signed_url: String,
    sequence: Vec<Template>,
    message_uuid: Option<String>,
    error_code: Option<String>,
    duplicates: u32,
    shuffle: bool,
    limit: u64,
    deadline: Option<Instant>,
    expected: u16,
    /// Print each answer (not in load mode, not with --json).
    print_each: bool,
    next: AtomicU64,
    /// The first answer that was not the expected one, for the summary.
    first_unexpected: OnceLock<String>,
}

/// Runs `send`.
pub(crate) fn run(args: &SendArgs) -> Result<(), Failure> {
    let load = args.count.is_some() || args.concurrency.is_some() || args.duration.is_some();
    if args.message_uuid.is_some() && (args.count.is_some_and(|n| n > 1) || args.duration.is_some())
    {
        return Err(Failure::usage(
            "--message-uuid names one message: it cannot be used with --count above 1 or --duration",
        ));
    }
    let signer = form::signer(&args.token)?;
    let signed_url = args.signed_url.clone().unwrap_or_else(|| args.url.clone());
    signer
        .try_sign(&args.method, &signed_url, b"", &random_nonce())
        .map_err(|e| Failure::usage(format!("cannot sign for {signed_url}: {e}")))?;
    let target =
        Target::new(&args.url, Duration::from_millis(args.timeout_ms)).map_err(Failure::usage)?;
    let concurrency = usize::try_from(args.concurrency.unwrap_or(1)).unwrap_or(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::usage(format!("cannot start the async runtime: {e}")))?;
    let started = Instant::now();
    let plan = Arc::new(Plan {
        target,
        signer,
        method: if args.method == "GET" {
            http::Method::GET
        } else {
            http::Method::POST
        },
        url: args.url.clone(),
        signed_url,
        sequence: args.sequence.clone(),
        message_uuid: args.message_uuid.clone(),
        error_code: args.error_code.clone(),
        duplicates: args.duplicates,
        shuffle: args.shuffle,
        limit: args
            .count
            .unwrap_or(if args.duration.is_some() { u64::MAX } else { 1 }),
        deadline: args.duration.map(|d| started + d),
        expected: args.expect_status,
        print_each: !load && !args.json,
        next: AtomicU64::new(0),
        first_unexpected: OnceLock::new(),
    });
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = (0..concurrency)
            .map(|_| tokio::spawn(sender(Arc::clone(&plan))))
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            if let Ok(mut part) = task.await {
                outcomes.append(&mut part);
            }
        }
        outcomes
    });
    let messages = plan.next.load(Ordering::Relaxed).min(plan.limit);
    let summary = Summary::new(
        &outcomes,
        messages,
        args.expect_status,
        started.elapsed(),
        concurrency,
    );
    if args.json {
        println!("{}", summary.json());
    } else {
        println!("{}", summary.human(load));
    }
    match summary.unexpected() {
        0 => Ok(()),
        n => {
            if let Some(first) = plan.first_unexpected.get().filter(|_| !plan.print_each) {
                eprintln!("plivo-webhook: first unexpected answer: {first}");
            }
            eprintln!(
                "plivo-webhook: {n} of {} request{} did not get {}",
                summary.sent,
                if summary.sent == 1 { "" } else { "s" },
                args.expect_status
            );
            Err(Failure::Negative)
        }
    }
}

/// One sender: takes the next message until the count or the deadline is reached, and
/// sends its callbacks in order (or shuffled).
async fn sender(plan: Arc<Plan>) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut client = Client::new(plan.target.clone());
    loop {
        if plan.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let index = plan.next.fetch_add(1, Ordering::Relaxed);
        if index >= plan.limit {
            break;
        }
        let mut message = Message::new(if index == 0 {
            plan.message_uuid.clone()
        } else {
            None
        });
        let mut requests = Vec::new();
        for &template in &plan.sequence {
            for body in message.render(template, plan.error_code.as_deref()) {
                for _ in 0..=plan.duplicates {
                    requests.push((template, body.clone()));
                }
            }
        }
        if plan.shuffle {
            fastrand::shuffle(&mut requests);
        }
        for (template, body) in requests {
            let outcome = send_one(&plan, &mut client, &body, template, message.uuid()).await;
            outcomes.push(outcome);
        }
    }
    outcomes
}

/// Signs and sends one callback with a fresh nonce.
async fn send_one(
    plan: &Plan,
    client: &mut Client,
    params: &str,
    template: Template,
    uuid: &str,
) -> Outcome {
    let method = plan.method.as_str();
    let (signed_url, body) = form::request_parts(method, &plan.signed_url, params);
    let (url, _) = form::request_parts(method, &plan.url, params);
    let started = Instant::now();
    let signed = match plan
        .signer
        .try_sign(method, &signed_url, &body, &random_nonce())
    {
        Ok(signed) => signed,
        Err(err) => {
            if plan.print_each {
                println!("error {} {uuid}: cannot sign: {err}", template.name());
            }
            return Outcome {
                status: None,
                latency: started.elapsed(),
            };
        }
    };
    let answer = client
        .send(&plan.method, &url, &signed.headers(), body)
        .await;
    let latency = started.elapsed();
    match answer {
        Ok(Answer { status, body }) => {
            let text = String::from_utf8_lossy(&body);
            if status != plan.expected {
                plan.first_unexpected.get_or_init(|| {
                    format!("{status} {} {uuid}: {}", template.name(), snippet(&text))
                });
            }
            if plan.print_each {
                if status == plan.expected {
                    println!("{status} {} {uuid}", template.name());
                } else {
                    println!("{status} {} {uuid}: {}", template.name(), snippet(&text));
                }
            }
            Outcome {
                status: Some(status),
                latency,
            }
        }
        Err(err) => {
            let reason = if err.is_timeout() {
                format!("no answer within {latency:?}")
            } else {
                error_chain(&err)
            };
            let line = format!("error {} {uuid}: {reason}", template.name());
            if plan.print_each {
                println!("{line}");
            }
            plan.first_unexpected.get_or_init(|| line);
            Outcome {
                status: None,
                latency,
            }
        }
    }
}

/// The first line of an answer body, at most 200 characters.
fn snippet(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

/// An error and its sources on one line (`error sending request: connection refused`).
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
