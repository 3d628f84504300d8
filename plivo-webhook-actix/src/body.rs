//! actix's header map as core headers; buffering a payload up to the limit.

use std::sync::LazyLock;

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;
use plivo_webhook_core::{looked_up_header, Error, HeaderValue, Headers, LOOKED_UP_HEADERS};

use crate::error::PlivoError;

/// actix-web's `HeaderMap` (on `http` 0.2) seen through the core's [`Headers`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActixHeaders<'a>(pub(crate) &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        let mut values = match ready_name(name) {
            Some(ready) => self.0.get_all(ready),
            None => self.0.get_all(name),
        };
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Absent,
            (Some(value), None) => HeaderValue::One(value.as_bytes()),
            (Some(_), Some(_)) => HeaderValue::Many,
        }
    }
}

/// The `HeaderName` of `name` when it is one the verifier looks up, made once (as the core
/// does for `http` 1.x maps): not parsed, lowercased and copied at each lookup.
fn ready_name(name: &str) -> Option<&'static HeaderName> {
    static READY: LazyLock<[Option<HeaderName>; 11]> = LazyLock::new(|| {
        LOOKED_UP_HEADERS.map(|name| HeaderName::from_bytes(name.as_bytes()).ok())
    });
    READY.get(looked_up_header(name)?)?.as_ref()
}

/// Reads the payload, refusing early when `Content-Length` announces more than `limit`
/// and stopping as soon as more than `limit` bytes arrived.
pub(crate) async fn read(
    headers: &HeaderMap,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, PlivoError> {
    let declared = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(Error::BodyTooLarge { limit }.into());
    }
    let mut body = BytesMut::with_capacity(declared.map_or(1024, |len| len as usize));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| PlivoError::BodyRead)?;
        if body.len() + chunk.len() > limit {
            return Err(Error::BodyTooLarge { limit }.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue as ActixValue;

    use super::*;

    /// Each looked-up name is found through its ready `HeaderName`, in any case, once
    /// or more; another name is parsed as before.
    #[test]
    fn looked_up_headers_are_found_through_ready_names() {
        for name in LOOKED_UP_HEADERS {
            // The ready name is there, and is the name (not found by the fallback).
            let parsed = HeaderName::from_bytes(name.as_bytes()).unwrap();
            assert_eq!(ready_name(name), Some(&parsed), "{name}");
            let mut map = HeaderMap::new();
            map.append(
                HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap(),
                ActixValue::from_static("v"),
            );
            assert_eq!(ActixHeaders(&map).header(name), HeaderValue::One(b"v"));
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                ActixValue::from_static("w"),
            );
            assert_eq!(ActixHeaders(&map).header(name), HeaderValue::Many);
        }
        assert_eq!(ready_name("X-Other"), None);
        let mut map = HeaderMap::new();
        map.append(
            HeaderName::from_static("x-other"),
            ActixValue::from_static("v"),
        );
        assert_eq!(ActixHeaders(&map).header("X-Other"), HeaderValue::One(b"v"));
    }
}
