//! The HTTP client of `send`: one keep-alive HTTP/1.1 connection per sender (hyper's
//! client connection), driven in the sender's own task.
//!
//! A load generator shares the machine with the server it measures, so what it spends per
//! request is taken from the server. A pooled client (reqwest) locks its pool and hands
//! every request to the connection's own task and the answer back; here a sender owns its
//! connection and polls it itself, so a request costs no hand-off between tasks.

use std::future::Future;
use std::pin::{pin, Pin};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, HOST};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, Connection, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where requests go (an `http://` URL's host and port, and the `Host` header to send),
/// and how long to wait for each answer.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// `host:port`, to connect to.
    address: String,
    host: HeaderValue,
    timeout: Duration,
}

impl Target {
    /// The target of `url`, which must be `http://` (the receivers listen on plain HTTP;
    /// a proxy or tunnel in front of them is signed for with `--signed-url`).
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let uri: Uri = url
            .parse()
            .map_err(|e| format!("invalid URL {url:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!(
                "send speaks plain HTTP: give the receiver's http:// address as --url \
                 and the public https:// URL as --signed-url (got {url:?})"
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("no host in {url:?}"))?;
        let host = HeaderValue::from_str(authority.as_str())
            .map_err(|e| format!("invalid host in {url:?}: {e}"))?;
        Ok(Target {
            address: format!(
                "{}:{}",
                authority.host(),
                authority.port_u16().unwrap_or(80)
            ),
            host,
            timeout,
        })
    }
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SendError {
    /// Connecting failed (refused, unreachable).
    #[error("cannot connect to {address}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    /// The exchange failed (reset, closed, malformed answer).
    #[error(transparent)]
    Http(#[from] hyper::Error),
    /// The server closed the connection before answering.
    #[error("the connection closed before the answer")]
    Closed,
    /// The URL of one request does not parse.
    #[error("invalid URL {0:?}")]
    Url(String),
    /// No whole answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl SendError {
    /// Whether the request ran out of time.
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, SendError::Timeout(_))
    }
}

/// An answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

type Body = Full<Bytes>;
/// hyper's client connection over TCP, boxed so that it can be polled in place.
type Connecting = Pin<Box<Connection<TokioIo<TcpStream>, Body>>>;

/// An open connection: the handle requests are sent through, and the connection itself,
/// which the sender polls while it waits.
struct Open {
    sender: SendRequest<Body>,
    /// `None` once the connection has ended (closed): it is not polled again.
    connection: Option<Connecting>,
}

/// A sender's client: one connection, opened on first use and again after an error.
pub(crate) struct Client {
    target: Target,
    open: Option<Open>,
}

impl Client {
    /// A client for `target`; connects on the first request.
    pub(crate) fn new(target: Target) -> Self {
        Client { target, open: None }
    }

    /// Sends one request to `url` (on the target's host) and reads the whole answer.
    pub(crate) async fn send(
        &mut self,
        method: &Method,
        url: &str,
        headers: &[(&'static str, String)],
        body: Vec<u8>,
    ) -> Result<Answer, SendError> {
        let uri: Uri = url.parse().map_err(|_| SendError::Url(url.to_owned()))?;
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = method.clone();
        // Origin form (`/path?query`), with the host in its header.
        if let Some(path) = uri.path_and_query() {
            *request.uri_mut() = Uri::from(path.clone());
        }
        let map = request.headers_mut();
        map.insert(HOST, self.target.host.clone());
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes());
            if let (Ok(name), Ok(value)) = (name, HeaderValue::from_str(value)) {
                map.append(name, value);
            }
        }
        let timeout = self.target.timeout;
        match tokio::time::timeout(timeout, self.exchange(request)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(err)) => {
                self.open = None;
                Err(err)
            }
            Err(_) => {
                self.open = None;
                Err(SendError::Timeout(timeout))
            }
        }
    }

    async fn exchange(&mut self, request: Request<Body>) -> Result<Answer, SendError> {
        let reused = self
            .open
            .as_ref()
            .is_some_and(|open| open.connection.is_some() && !open.sender.is_closed());
        if !reused {
            self.open = Some(self.connect().await?);
        }
        let response = match self.round_trip(request).await? {
            Sent::Answered(response) => response,
            // A kept-alive connection the server had closed: the request was not sent, so
            // it goes again, once, on a new connection (as pooled clients do).
            Sent::Unsent(request) if reused => {
                self.open = Some(self.connect().await?);
                match self.round_trip(request).await? {
                    Sent::Answered(response) => response,
                    Sent::Unsent(_) => return Err(SendError::Closed),
                }
            }
            Sent::Unsent(_) => return Err(SendError::Closed),
        };
        let status = response.status().as_u16();
        let open = self.open.as_mut().ok_or(SendError::Closed)?;
        let body = drive(open, response.into_body().collect()).await??;
        // The server closed the connection after this answer (`Connection: close`): the
        // next request opens another.
        if open.connection.is_none() {
            self.open = None;
        }
        Ok(Answer {
            status,
            body: body.to_bytes(),
        })
    }

    /// Sends `request` on the open connection and waits for the answer's head.
    async fn round_trip(&mut self, request: Request<Body>) -> Result<Sent, SendError> {
        let open = self.open.as_mut().ok_or(SendError::Closed)?;
        let sent = open.sender.try_send_request(request);
        match drive(open, sent).await? {
            Ok(response) => Ok(Sent::Answered(response)),
            Err(mut err) => match err.take_message() {
                Some(request) => Ok(Sent::Unsent(request)),
                None => Err(SendError::Http(err.into_error())),
            },
        }
    }

    async fn connect(&self) -> Result<Open, SendError> {
        let address = &self.target.address;
        let stream = TcpStream::connect(address)
            .await
            .map_err(|source| SendError::Connect {
                address: address.clone(),
                source,
            })?;
        // Requests are small and each waits for its answer: send them at once.
        let _ = stream.set_nodelay(true);
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        Ok(Open {
            sender,
            connection: Some(Box::pin(connection)),
        })
    }
}

/// What became of a request sent on an open connection.
enum Sent {
    /// The answer's head arrived.
    Answered(http::Response<hyper::body::Incoming>),
    /// The connection closed before the request was written: it is handed back.
    Unsent(Request<Body>),
}

/// Polls `future` and, while it waits, the connection that serves it. When the
/// connection ends it is dropped, which hands back a request it had not sent (see
/// [`Client::round_trip`]).
async fn drive<F: Future>(open: &mut Open, future: F) -> Result<F::Output, SendError> {
    let mut future = pin!(future);
    let mut failed = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(out));
        }
        if let Some(connection) = open.connection.as_mut() {
            if let Poll::Ready(result) = connection.as_mut().poll(cx) {
                open.connection = None;
                failed = result.err();
            }
        }
        // The connection's progress (or its end) may have completed the future.
        match future.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Ok(out)),
            Poll::Pending if open.connection.is_some() => Poll::Pending,
            Poll::Pending => Poll::Ready(Err(failed
                .take()
                .map_or(SendError::Closed, SendError::Http))),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// Serves `connections` connections, one request each: reads it, answers 200 without
    /// `Connection: close`, and closes the connection 30 ms later.
    fn one_answer_per_connection(connections: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(connections).flatten() {
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = value.trim().parse().unwrap();
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                reader.read_exact(&mut vec![0; length]).unwrap();
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                reader.get_mut().write_all(answer).unwrap();
                std::thread::sleep(Duration::from_millis(30));
            }
        });
        url
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced_and_the_request_sent_on_the_new_one() {
        let url = one_answer_per_connection(2);
        let mut client = Client::new(Target::new(&url, Duration::from_secs(5)).unwrap());
        for _ in 0..2 {
            let answer = client
                .send(&Method::POST, &url, &[], b"a=1".to_vec())
                .await
                .unwrap();
            assert_eq!((answer.status, &answer.body[..]), (200, &b"ok"[..]));
            // The server's close arrives while the connection is idle, unnoticed: the next
            // request finds it closed before it is written.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    #[test]
    fn only_plain_http_urls_are_targets() {
        assert!(Target::new("https://example.com/hook", Duration::from_secs(1)).is_err());
        let target = Target::new("http://127.0.0.1/hook", Duration::from_secs(1)).unwrap();
        assert_eq!(target.address, "127.0.0.1:80");
        assert_eq!(target.host, "127.0.0.1");
    }
}
