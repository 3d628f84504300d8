//! actix's header map as core headers; buffering a payload up to the limit.

use actix_web::dev::Payload;
use actix_web::http::header::{HeaderMap, HeaderName};
use actix_web::web::{Bytes, BytesMut};
use futures_util::StreamExt;
use plivo_webhook_core::{Error, HeaderValue, Headers};

use crate::error::PlivoError;

/// actix-web's `HeaderMap` (on `http` 0.2) seen through the core's [`Headers`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActixHeaders<'a>(pub(crate) &'a HeaderMap);

impl Headers for ActixHeaders<'_> {
    fn header(&self, name: &str) -> HeaderValue<'_> {
        // As the core does for `http` 1.x maps: the names the verifier asks for are
        // `HeaderName`s made once, not parsed, lowercased and copied at each lookup.
        let mut values = match known_header_name(name) {
            Some(known) => self.0.get_all(known),
            None => self.0.get_all(name),
        };
        match (values.next(), values.next()) {
            (None, _) => HeaderValue::Absent,
            (Some(value), None) => HeaderValue::One(value.as_bytes()),
            (Some(_), Some(_)) => HeaderValue::Many,
        }
    }
}

/// The `HeaderName` of a header the verifier looks up, by its name as the verifier writes
/// it (the same table as the core's for `http` 1.x; another name is parsed as before).
fn known_header_name(name: &str) -> Option<&'static HeaderName> {
    use plivo_webhook_core::signature::{MA_V2, MA_V3, V2, V2_NONCE, V3, V3_NONCE};
    static NAMES: [HeaderName; 11] = [
        HeaderName::from_static("x-plivo-signature-v3"),
        HeaderName::from_static("x-plivo-signature-ma-v3"),
        HeaderName::from_static("x-plivo-signature-v3-nonce"),
        HeaderName::from_static("x-plivo-signature-v2"),
        HeaderName::from_static("x-plivo-signature-ma-v2"),
        HeaderName::from_static("x-plivo-signature-v2-nonce"),
        HeaderName::from_static("content-type"),
        HeaderName::from_static("host"),
        HeaderName::from_static("forwarded"),
        HeaderName::from_static("x-forwarded-proto"),
        HeaderName::from_static("x-forwarded-host"),
    ];
    let index = match name {
        V3 => 0,
        MA_V3 => 1,
        V3_NONCE => 2,
        V2 => 3,
        MA_V2 => 4,
        V2_NONCE => 5,
        "Content-Type" => 6,
        "Host" => 7,
        "Forwarded" => 8,
        "X-Forwarded-Proto" => 9,
        "X-Forwarded-Host" => 10,
        _ => return None,
    };
    NAMES.get(index)
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
    use plivo_webhook_core::signature::{MA_V2, MA_V3, V2, V2_NONCE, V3, V3_NONCE};

    use super::*;

    /// Each name given a ready `HeaderName` is that name, and the map finds its header (in
    /// any case) through it as through the name.
    #[test]
    fn known_header_names_are_the_names_looked_up() {
        let names = [
            V3,
            MA_V3,
            V3_NONCE,
            V2,
            MA_V2,
            V2_NONCE,
            "Content-Type",
            "Host",
            "Forwarded",
            "X-Forwarded-Proto",
            "X-Forwarded-Host",
        ];
        for name in names {
            let known = known_header_name(name).unwrap();
            assert_eq!(known, &HeaderName::from_bytes(name.as_bytes()).unwrap());
            let mut map = HeaderMap::new();
            map.append(
                HeaderName::from_bytes(name.to_ascii_uppercase().as_bytes()).unwrap(),
                ActixValue::from_static("v"),
            );
            assert_eq!(ActixHeaders(&map).header(name), HeaderValue::One(b"v"));
            map.append(known.clone(), ActixValue::from_static("w"));
            assert_eq!(ActixHeaders(&map).header(name), HeaderValue::Many);
        }
        assert!(known_header_name("X-Other").is_none());
        let mut map = HeaderMap::new();
        map.append(
            HeaderName::from_static("x-other"),
            ActixValue::from_static("v"),
        );
        assert_eq!(ActixHeaders(&map).header("X-Other"), HeaderValue::One(b"v"));
    }
}
