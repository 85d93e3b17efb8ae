//! HTTP/1.1 written and read by hand, for hostile-request tests: a client library would
//! refuse to send most of what these tests send (64 KiB headers, non-UTF-8 bytes, thousands
//! of signature entries), and would hide how long the server took to answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bookhook_verify::{Provider, SignParams};

use crate::clock::now;
use crate::headers::Pairs;
use crate::secrets::secret;

/// Headers as raw name/value bytes, in order.
pub type RawHeaders = Vec<(String, Vec<u8>)>;

/// A POST of `body` to `path` with `content-length`, `connection: close`, a JSON content
/// type and `headers` verbatim.
pub fn post(path: &str, headers: &[(String, Vec<u8>)], body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    req.extend_from_slice(body);
    req
}

/// Sends `request` to `addr` and reads the whole response (both bounded by `timeout`);
/// returns (status, body, time taken). Status 0 means no parsable response.
pub fn exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> (u16, String, Duration) {
    let start = Instant::now();
    // A server may answer (and close) before reading everything: a failed write is fine.
    let (_, response) = send(addr, request, timeout);
    parse(&response, start.elapsed())
}

/// Sends `request` to `addr` and reads the response until the server closes the connection
/// (both bounded by `timeout`); returns whether the whole request was written, and the raw
/// response.
pub fn send(addr: SocketAddr, request: &[u8], timeout: Duration) -> (std::io::Result<()>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect to the server under test");
    stream
        .set_read_timeout(Some(timeout))
        .expect("set read timeout");
    stream
        .set_write_timeout(Some(timeout))
        .expect("set write timeout");
    let written = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    (written, response)
}

/// A slowloris client: sends `request`'s head, then its last `body_len` bytes one every
/// `every`; returns (status, body, time from the end of the head) of the answer, or `None`
/// if none came within `give_up`. Bounded: at most `body_len` writes and `give_up` of time.
pub fn slow_post(
    addr: SocketAddr,
    request: &[u8],
    body_len: usize,
    every: Duration,
    give_up: Duration,
) -> Option<(u16, String, Duration)> {
    let (head, body) = request.split_at(request.len() - body_len);
    let mut stream = TcpStream::connect(addr).expect("connect to the server under test");
    stream.set_nodelay(true).expect("set nodelay");
    stream.write_all(head).expect("send the head");
    let start = Instant::now();
    let mut reader = stream.try_clone().expect("clone the stream");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = reader.set_read_timeout(Some(give_up));
        let mut response = Vec::new();
        let _ = reader.read_to_end(&mut response);
        let _ = tx.send(response);
    });
    for byte in body {
        if let Ok(response) = rx.try_recv() {
            return Some(parse(&response, start.elapsed()));
        }
        if start.elapsed() > give_up || stream.write_all(&[*byte]).is_err() {
            break;
        }
        // The slowness under test, not a wait for a race.
        std::thread::sleep(every);
    }
    rx.recv_timeout(give_up.saturating_sub(start.elapsed()))
        .ok()
        .filter(|response| !response.is_empty())
        .map(|response| parse(&response, start.elapsed()))
}

/// The status and body of a raw response that took `elapsed`, as (status, body, elapsed).
pub fn parse(response: &[u8], elapsed: Duration) -> (u16, String, Duration) {
    let text = String::from_utf8_lossy(response);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body, elapsed)
}

/// Replaces header `name` (any case) with one `value`.
pub fn set(headers: &mut RawHeaders, name: &str, value: impl Into<Vec<u8>>) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.into()));
}

/// The value of header `name` (any case) as text; panics if absent.
pub fn get(headers: &[(String, Vec<u8>)], name: &str) -> String {
    let (_, v) = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .expect("header present");
    String::from_utf8(v.clone()).expect("header is text")
}

/// The headers (as raw bytes) and query string `provider` sends for `body`, signed now with
/// its current test secret ([`secret`]), delivery id `msg_raw_1`.
pub fn signed_now(provider: Provider, body: &[u8]) -> (RawHeaders, Option<String>) {
    let (Pairs(headers), query) = Pairs::signed(
        provider,
        secret(provider),
        body,
        &SignParams::at(now()).id("msg_raw_1"),
    );
    (headers, query)
}
