//! actix's header map as core headers; buffering a payload up to the limit.

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;
use plivo_webhook_core::{Error, HeaderValue, Headers};

use crate::error::PlivoError;

/// actix-web's `HeaderMap` (on `http` 0.2) seen through the core's [`Headers`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActixHeaders<'a>(pub(crate) &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        let mut values = self.0.get_all(name);
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Absent,
            (Some(value), None) => HeaderValue::One(value.as_bytes()),
            (Some(_), Some(_)) => HeaderValue::Many,
        }
    }
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
