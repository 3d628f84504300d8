//! `sign`: the signature headers Plivo would send for a request, or a ready curl command.

use std::path::PathBuf;

use clap::Args;
use plivo_webhook_core::testing::{random_nonce, SignedHeaders};
use plivo_webhook_core::AuthToken;

use crate::failure::{read_file, Failure};
use crate::form::{self, Param};

/// Arguments of `sign`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  plivo-webhook sign --url https://example.com/api/plivo/status \\
      --param MessageUUID=a3f1c2d4-9e21-11ee-8c4b-0242ac110003 --param Status=delivered --param ErrorCode=
  PLIVO_AUTH_TOKEN=... plivo-webhook sign --url https://example.com/api/plivo/status \\
      --body-file status.form --curl --send-to http://127.0.0.1:3000/api/plivo/status

Prints one header a line (`Name: value`). For GET the parameters are signed in the URL's query.
A body file is signed byte for byte: a trailing newline is part of the body.")]
pub(crate) struct SignArgs {
    /// The full URL Plivo calls, as configured in Plivo (scheme, host, port, path, query).
    #[arg(long, value_parser = form::parse_url)]
    url: String,
    /// The auth token (of the account or subaccount that sends the message).
    #[arg(long, env = "PLIVO_AUTH_TOKEN", hide_env_values = true)]
    token: String,
    /// Also sign X-Plivo-Signature-Ma-V3 with the main account's token.
    #[arg(long, value_name = "TOKEN")]
    main_account_token: Option<String>,
    /// GET or POST.
    #[arg(long, default_value = "POST", value_parser = form::parse_method)]
    method: String,
    /// The nonce (X-Plivo-Signature-V3-Nonce); random 20 digits when not given.
    #[arg(long)]
    nonce: Option<String>,
    /// A callback parameter, `K=V` (repeat it; sent form-encoded in this order).
    #[arg(long = "param", value_name = "K=V", value_parser = form::parse_param, conflicts_with_all = ["body", "body_file"])]
    params: Vec<Param>,
    /// The raw form body (already encoded, `A=1&B=2`).
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// A file holding the raw form body (e.g. a fixture `*.form`).
    #[arg(long, value_name = "PATH")]
    body_file: Option<PathBuf>,
    /// Print a curl command that sends the signed request instead of the headers.
    #[arg(long)]
    curl: bool,
    /// With --curl: the address to send to, when it differs from the signed URL (a
    /// receiver behind a proxy or tunnel).
    #[arg(long, value_name = "URL", requires = "curl", value_parser = form::parse_url)]
    send_to: Option<String>,
}

/// Runs `sign`.
pub(crate) fn run(args: &SignArgs) -> Result<(), Failure> {
    let params = match (&args.body, &args.body_file) {
        (Some(body), _) => body.clone(),
        (None, Some(path)) => String::from_utf8(read_file(path)?).map_err(|_| {
            Failure::usage(format!(
                "{} is not UTF-8 text (a form body is ASCII)",
                path.display()
            ))
        })?,
        (None, None) => form::encode(&args.params),
    };
    let mut signer = form::signer(&args.token)?;
    if let Some(main) = &args.main_account_token {
        let main = AuthToken::new(main.as_str())
            .map_err(|e| form::token_failure("--main-account-token", &e))?;
        signer = signer.with_main_account(main);
    }
    let nonce = args.nonce.clone().unwrap_or_else(random_nonce);
    let (url, body) = form::request_parts(&args.method, &args.url, &params);
    let signed = signer
        .try_sign(&args.method, &url, &body, &nonce)
        .map_err(|e| Failure::usage(format!("cannot sign {url}: {e}")))?;
    if args.curl {
        let target = match &args.send_to {
            Some(send_to) => form::request_parts(&args.method, send_to, &params).0,
            None => url,
        };
        println!("{}", curl(&args.method, &target, &signed, &body));
    } else {
        for (name, value) in signed.headers() {
            println!("{name}: {value}");
        }
    }
    Ok(())
}

/// A curl command line for the signed request.
pub(crate) fn curl(method: &str, url: &str, signed: &SignedHeaders, body: &[u8]) -> String {
    let mut line = String::from("curl -sS -i");
    if method != "GET" {
        line.push_str(" -X ");
        line.push_str(method);
    }
    line.push(' ');
    line.push_str(&shell_quote(url));
    for (name, value) in signed.headers() {
        line.push_str(" \\\n  -H ");
        line.push_str(&shell_quote(&format!("{name}: {value}")));
    }
    if method != "GET" {
        line.push_str(" \\\n  --data-raw ");
        line.push_str(&shell_quote(&String::from_utf8_lossy(body)));
    }
    line
}

/// Quotes a word for a POSIX shell.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}
