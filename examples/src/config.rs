//! Receiver configuration from the environment (and a `.env` file).

use std::net::SocketAddr;
use std::time::Duration;

use plivo_webhook_core::{AuthToken, UrlPolicy, Verifier, DEFAULT_MAX_BODY_BYTES};

/// Everything a receiver needs to start. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct Config {
    /// `PLIVO_AUTH_TOKEN`: one or more tokens, comma-separated.
    pub tokens: Vec<AuthToken>,
    /// `APP_BASE_URL`: the public base URL Plivo calls. Unset: the `Host` header over
    /// http (or `TRUST_PROXY=1`: forwarded headers).
    pub app_base_url: Option<String>,
    /// `TRUST_PROXY=1`: read `Forwarded` / `X-Forwarded-*` (only behind your own proxy).
    pub trust_proxy: bool,
    /// `DATABASE_URL`: `sqlite://plivo-webhook.db` by default, `postgres://…`, `memory:`.
    pub database_url: String,
    /// `BIND_ADDR`: `127.0.0.1:3000` by default.
    pub bind_addr: SocketAddr,
    /// `MAX_BODY_BYTES`: 65536 by default.
    pub max_body_bytes: usize,
    /// `DASHBOARD=off` switches the live page at `/` off.
    pub dashboard: bool,
    /// `HEADER_TIMEOUT_SECS` (default 10): a client must send its request head within it.
    pub header_timeout: Duration,
    /// `BODY_TIMEOUT_SECS` (default 10): a client must send its body within it (408).
    pub body_timeout: Duration,
    /// `REPLAY_PROTECTION`: `off` (default), `memory` or `postgres`.
    pub replay_protection: String,
}

impl Config {
    /// Reads `.env` (if present) and the environment.
    ///
    /// # Errors
    /// One line naming the missing or invalid setting.
    pub fn from_env() -> Result<Self, String> {
        // A missing .env is fine; a malformed one is reported.
        if let Err(err) = dotenvy::dotenv() {
            if !err.not_found() {
                return Err(format!("cannot read .env: {err}"));
            }
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `get` (for tests).
    ///
    /// # Errors
    /// One line naming the missing or invalid setting.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let tokens = get("PLIVO_AUTH_TOKEN")
            .filter(|t| !t.trim().is_empty())
            .ok_or("PLIVO_AUTH_TOKEN is required: the auth token of your Plivo account (comma-separated for several)")?;
        let tokens =
            AuthToken::parse_list(&tokens).map_err(|e| format!("PLIVO_AUTH_TOKEN: {e}"))?;
        let app_base_url = get("APP_BASE_URL").filter(|v| !v.is_empty());
        if let Some(base) = &app_base_url {
            UrlPolicy::public_base(base).map_err(|e| format!("APP_BASE_URL: {e}"))?;
        }
        let trust_proxy = matches!(get("TRUST_PROXY").as_deref(), Some("1" | "true" | "yes"));
        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://plivo-webhook.db".to_owned());
        let bind_addr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
            .parse()
            .map_err(|e| format!("BIND_ADDR must be host:port, such as 127.0.0.1:3000 ({e})"))?;
        let max_body_bytes = match get("MAX_BODY_BYTES") {
            None => DEFAULT_MAX_BODY_BYTES,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or("MAX_BODY_BYTES must be a positive number of bytes")?,
        };
        let dashboard = !matches!(get("DASHBOARD").as_deref(), Some("off" | "0" | "false"));
        let seconds = |name: &str| -> Result<Duration, String> {
            match get(name) {
                None => Ok(Duration::from_secs(10)),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| *s > 0.0 && *s <= 3600.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| {
                        format!("{name} must be a number of seconds between 0 and 3600")
                    }),
            }
        };
        let header_timeout = seconds("HEADER_TIMEOUT_SECS")?;
        let body_timeout = seconds("BODY_TIMEOUT_SECS")?;
        Ok(Config {
            tokens,
            app_base_url,
            trust_proxy,
            database_url,
            bind_addr,
            max_body_bytes,
            dashboard,
            header_timeout,
            body_timeout,
            replay_protection: get("REPLAY_PROTECTION").unwrap_or_else(|| "off".to_owned()),
        })
    }

    /// The verifier for this configuration.
    ///
    /// # Errors
    /// One line naming the invalid setting.
    pub fn verifier(&self) -> Result<Verifier, String> {
        let policy = match (&self.app_base_url, self.trust_proxy) {
            (Some(base), _) => {
                UrlPolicy::public_base(base).map_err(|e| format!("APP_BASE_URL: {e}"))?
            }
            (None, true) => UrlPolicy::trusted_proxy(),
            (None, false) => UrlPolicy::direct(false),
        };
        let mut builder = Verifier::builder()
            .tokens(self.tokens.iter().cloned())
            .url_policy(policy)
            .max_body_bytes(self.max_body_bytes);
        if self.dashboard {
            // The dashboard shows which URL a rejected signature would have matched.
            builder = builder.diagnose_mismatches();
        }
        builder.build().map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_and_errors() {
        let c = config(&[("PLIVO_AUTH_TOKEN", "SECRET_A, SECRET_B")]).unwrap();
        assert_eq!(c.tokens.len(), 2);
        assert_eq!(c.database_url, "sqlite://plivo-webhook.db");
        assert_eq!(c.bind_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.max_body_bytes, 65536);
        assert!(!format!("{c:?}").contains("SECRET"));
        assert!(config(&[]).unwrap_err().contains("PLIVO_AUTH_TOKEN"));
        assert!(config(&[("PLIVO_AUTH_TOKEN", "t"), ("BIND_ADDR", "nope")])
            .unwrap_err()
            .contains("BIND_ADDR"));
        assert!(
            config(&[("PLIVO_AUTH_TOKEN", "t"), ("MAX_BODY_BYTES", "0")])
                .unwrap_err()
                .contains("MAX_BODY_BYTES")
        );
        assert!(
            config(&[("PLIVO_AUTH_TOKEN", "t"), ("APP_BASE_URL", "example.com")])
                .unwrap_err()
                .contains("APP_BASE_URL")
        );
        assert!(
            !config(&[("PLIVO_AUTH_TOKEN", "t"), ("DASHBOARD", "off")])
                .unwrap()
                .dashboard
        );
    }
}
