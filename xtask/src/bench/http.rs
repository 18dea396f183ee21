//! A minimal blocking HTTP/1.1 client over `std::net`, enough for the comparison bench's
//! control traffic: readiness probes, finding a leader, and the writes that time a failover.
//! One connection per request (`Connection: close`), so a request never waits behind another.
//! The load itself comes from `wrk` (see [`super::load`]).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// A response: its status and its body as text.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body, decoded from chunks if it came chunked.
    pub body: String,
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body parsed as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// `GET http://{addr}{path}`, all of it within `timeout`.
pub fn get(addr: &str, path: &str, timeout: Duration) -> io::Result<Reply> {
    request("GET", addr, path, None, timeout)
}

/// `POST http://{addr}{path}` with a JSON `body`, all of it within `timeout`.
pub fn post_json(addr: &str, path: &str, body: &str, timeout: Duration) -> io::Result<Reply> {
    request("POST", addr, path, Some(body), timeout)
}

fn request(
    method: &str,
    addr: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> io::Result<Reply> {
    let deadline = Instant::now() + timeout;
    let socket = addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{addr} resolves to nothing"),
        )
    })?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)?;
    stream.set_nodelay(true)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head.push_str(body.unwrap_or(""));
    stream.set_write_timeout(Some(remaining(deadline)?))?;
    stream.write_all(head.as_bytes())?;
    let mut raw = Vec::new();
    let mut buffer = [0u8; 8192];
    loop {
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        match stream.read(&mut buffer)? {
            0 => break,
            n => raw.extend_from_slice(&buffer[..n]),
        }
    }
    parse(&raw)
}

/// The time left before `deadline`, or a timeout error once it has passed.
fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(io::ErrorKind::TimedOut, "request timed out"))
    } else {
        Ok(left)
    }
}

/// Parses a whole response read until the server closed the connection.
fn parse(raw: &[u8]) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_string());
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("malformed chunked body"))?
    } else {
        body.to_string()
    };
    Ok(Reply { status, body })
}

/// Joins the chunks of a chunked body.
fn dechunk(mut rest: &str) -> Option<String> {
    let mut body = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.push_str(after.get(..size)?);
        rest = after.get(size..)?.strip_prefix("\r\n")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_chunked_bodies_parse() {
        let plain = parse(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((plain.status, plain.body.as_str()), (201, "{}"));
        let chunked =
            parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n")
                .unwrap();
        assert_eq!((chunked.status, chunked.body.as_str()), (200, "{\"a\":1}"));
        assert!(parse(b"garbage").is_err());
    }
}
