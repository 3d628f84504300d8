//! Auth tokens, kept out of logs.

#[cfg(feature = "testing")]
use hmac::Mac;

use crate::error::Error;
#[cfg(feature = "testing")]
use crate::signature::HmacSha256;

/// A Plivo auth token (of an account, a subaccount or the main account).
///
/// `Debug` prints `AuthToken(***)`; the token is never displayed, logged or put in an
/// error. The verifier keeps only the HMAC key state derived from it.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(Box<str>);

impl AuthToken {
    /// Wraps a token.
    ///
    /// # Errors
    /// [`Error::Config`] when the token is empty or has surrounding whitespace (a classic
    /// copy-and-paste mistake that makes every signature mismatch).
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        let token: String = token.into();
        if token.is_empty() {
            return Err(Error::Config {
                reason: "the auth token is empty",
            });
        }
        if token.trim() != token {
            return Err(Error::Config {
                reason: "the auth token has leading or trailing whitespace",
            });
        }
        Ok(AuthToken(token.into_boxed_str()))
    }

    /// Parses a comma-separated list of tokens (`PLIVO_AUTH_TOKEN=new,old`), trimming
    /// whitespace around each entry and skipping empty ones.
    ///
    /// # Errors
    /// [`Error::Config`] when the list holds no token.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, Error> {
        let tokens: Vec<Self> = list
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(AuthToken::new)
            .collect::<Result<_, _>>()?;
        if tokens.is_empty() {
            return Err(Error::Config {
                reason: "no auth token given",
            });
        }
        Ok(tokens)
    }

    /// The token's text. Handle with care: never log it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    #[cfg(feature = "testing")]
    pub(crate) fn hmac_key(&self) -> HmacSha256 {
        // HMAC accepts keys of any length; the fallback only keeps this panic-free.
        HmacSha256::new_from_slice(self.0.as_bytes())
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()))
    }
}

impl std::fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthToken(***)")
    }
}

impl std::str::FromStr for AuthToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        AuthToken::new(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let token = AuthToken::new("SECRET_TOKEN_123").unwrap();
        assert_eq!(format!("{token:?}"), "AuthToken(***)");
        assert!(!format!("{:?}", vec![token]).contains("SECRET"));
    }

    #[test]
    fn list_and_validation() {
        assert_eq!(AuthToken::parse_list(" a , b,,").unwrap().len(), 2);
        assert!(AuthToken::parse_list(" , ").is_err());
        assert!(AuthToken::new("").is_err());
        assert!(AuthToken::new(" a").is_err());
    }
}
