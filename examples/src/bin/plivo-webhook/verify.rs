//! `verify`: is this signature valid for this URL, nonce and body; with `--diagnose`,
//! which URL variant (scheme, trailing slash, port, query) it would have matched.

use std::path::PathBuf;

use clap::Args;
use plivo_webhook_core::signature::{MA_V3, V3, V3_NONCE};
use plivo_webhook_core::{diagnose, AuthToken, CallbackRequest, Diagnosis, Verifier};

use crate::failure::{read_file, Failure};
use crate::form;

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plivo-webhook verify --url https://example.com/api/plivo/status \\
      --nonce 12345678901234567890 --signature 'hmq5…=' --body 'Status=sent&MessageUUID=…'
  plivo-webhook verify --url https://example.com/api/plivo/status --token OLD --token NEW \\
      --nonce 12345678901234567890 --signature 'hmq5…=' --body-file callback.form --diagnose

--url is the URL your server checks (APP_BASE_URL + route). With --diagnose, a mismatch names
the variant that matches, e.g. 'the signature matches https://example.com/api/plivo/status/ —
APP_BASE_URL or the route likely lacks a trailing slash'. Exit 0 when valid, 1 when invalid.")]
pub(crate) struct VerifyArgs {
    /// The full URL your server checks the signature against.
    #[arg(long, value_parser = form::parse_url)]
    url: String,
    /// An auth token to accept (repeat it, or give a comma-separated list, for rotation or
    /// the main account's token).
    #[arg(
        long = "token",
        env = "PLIVO_AUTH_TOKEN",
        hide_env_values = true,
        required = true
    )]
    tokens: Vec<String>,
    /// GET or POST.
    #[arg(long, default_value = "POST", value_parser = form::parse_method)]
    method: String,
    /// The X-Plivo-Signature-V3-Nonce header value.
    #[arg(long)]
    nonce: String,
    /// The X-Plivo-Signature-V3 header value.
    #[arg(long)]
    signature: String,
    /// The X-Plivo-Signature-Ma-V3 header value, if the request carried one.
    #[arg(long, value_name = "SIGNATURE")]
    ma_signature: Option<String>,
    /// The raw body (form-encoded, as received).
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// A file holding the raw body, byte for byte.
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
    /// On a mismatch, name the URL variant the signature matches, in words.
    #[arg(long)]
    diagnose: bool,
}

/// Runs `verify`.
pub(crate) fn run(args: &VerifyArgs) -> Result<(), Failure> {
    let body = match (&args.body, &args.body_file) {
        (Some(body), _) => body.clone().into_bytes(),
        (None, Some(path)) => read_file(path)?,
        (None, None) => Vec::new(),
    };
    let mut tokens = Vec::new();
    for list in &args.tokens {
        tokens.extend(AuthToken::parse_list(list).map_err(|e| form::token_failure("--token", &e))?);
    }
    let verifier = Verifier::builder()
        .tokens(tokens)
        .max_body_bytes(body.len().max(1))
        .build()
        .map_err(|e| Failure::usage(format!("cannot build the verifier: {e}")))?;
    let mut headers = vec![(V3, args.signature.clone()), (V3_NONCE, args.nonce.clone())];
    if let Some(ma) = &args.ma_signature {
        headers.push((MA_V3, ma.clone()));
    }
    if args.method != "GET" && !body.is_empty() {
        headers.push((
            "Content-Type",
            "application/x-www-form-urlencoded".to_owned(),
        ));
    }
    let request = CallbackRequest::with_public_url(&args.method, &args.url, &headers, &body);
    if args.diagnose {
        match diagnose(&verifier, &request) {
            Diagnosis::Valid => {
                println!("valid: the signature matches {}", args.url);
                Ok(())
            }
            other => {
                println!("invalid: {other}");
                Err(Failure::Negative)
            }
        }
    } else {
        match verifier.check(&request) {
            Ok(matched) => {
                println!(
                    "valid: {} matches (token #{})",
                    matched.header.name(),
                    matched.token_index + 1
                );
                Ok(())
            }
            Err(err) => {
                println!("invalid: {err}");
                if matches!(err, plivo_webhook_core::Error::SignatureMismatch { .. }) {
                    eprintln!(
                        "hint: add --diagnose to find which URL variant the signature matches"
                    );
                }
                Err(Failure::Negative)
            }
        }
    }
}
