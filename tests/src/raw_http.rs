//! A raw HTTP/1.1 exchange over a TCP socket, for requests no well-behaved client sends: any
//! method, any bytes in the path, any content type or none, any body. Each request goes on its
//! own connection (`Connection: close`), and the answer is read until the server closes it.

use std::io::Read;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

/// A request to send exactly as given.
#[derive(Clone, Debug)]
pub struct RawRequest {
    /// The method, sent as is (`GET`, `PATCH`, `BREW`…).
    pub method: String,
    /// The request target, sent as is (it may hold bytes a URL may not).
    pub target: Vec<u8>,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// The body; a `Content-Length` header always announces its length.
    pub body: Vec<u8>,
}

/// What the server answered.
#[derive(Clone, Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any (lowercase).
    pub content_type: Option<String>,
    /// The body (chunked transfer decoded).
    pub body: Vec<u8>,
}

/// Sends `request` to `addr` and reads the whole answer; an error if the server could not be
/// reached, closed the connection without an answer, or took over `limit`.
pub fn exchange(addr: &str, request: &RawRequest, limit: Duration) -> std::io::Result<RawResponse> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(limit))?;
    stream.set_write_timeout(Some(limit))?;
    let mut head = Vec::new();
    head.extend_from_slice(request.method.as_bytes());
    head.push(b' ');
    head.extend_from_slice(&request.target);
    head.extend_from_slice(b" HTTP/1.1\r\n");
    head.extend_from_slice(format!("Host: {addr}\r\nConnection: close\r\n").as_bytes());
    if let Some(kind) = &request.content_type {
        head.extend_from_slice(format!("Content-Type: {kind}\r\n").as_bytes());
    }
    head.extend_from_slice(format!("Content-Length: {}\r\n\r\n", request.body.len()).as_bytes());
    stream.write_all(&head)?;
    // The server may answer (413, say) and close before the whole body is written: keep what
    // it answered rather than the write error.
    let _ = stream.write_all(&request.body);
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).or_else(
        |err| {
            if answer.is_empty() { Err(err) } else { Ok(0) }
        },
    )?;
    parse_response(&answer).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not an HTTP answer: {:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(200)])
            ),
        )
    })
}

fn parse_response(answer: &[u8]) -> Option<RawResponse> {
    let split = answer.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&answer[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let mut content_type = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim().to_ascii_lowercase();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" => content_type = Some(value),
            "transfer-encoding" => chunked = value.contains("chunked"),
            _ => {}
        }
    }
    let raw = &answer[split + 4..];
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Some(RawResponse {
        status,
        content_type,
        body,
    })
}

/// Decodes a chunked body.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|window| window == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}
