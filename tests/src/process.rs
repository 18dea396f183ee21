//! Helpers for tests that run the real `flotilla` binary: start demo and node processes on ports
//! the OS picks (port 0, read back from `--port-file`), kill them with SIGKILL, restart them on
//! the same data, and talk to them over HTTP.
//!
//! The binary is `target/debug/flotilla`, which `cargo test --workspace` builds (the `flotilla`
//! package has integration tests, so cargo builds its binary); `FLOTILLA_BIN` overrides it.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering;
use std::time::Duration;
use std::time::Instant;

use serde_json::Value;

/// Where the `flotilla` binary is.
pub fn flotilla_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("FLOTILLA_BIN") {
        return PathBuf::from(bin);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let bin = target.join("debug/flotilla");
    assert!(
        bin.exists(),
        "{} does not exist: build it with `cargo build -p flotilla` (`cargo test --workspace` \
         and `cargo xtask test` do), or point FLOTILLA_BIN at it",
        bin.display()
    );
    bin
}

/// Next port block to try; spread by process id so parallel test binaries rarely collide.
static NEXT_PORT: AtomicU32 = AtomicU32::new(0);

/// The first port [`free_ports`] hands out.
const FIRST_FREE_PORT: u32 = 20_000;
/// How many ports after it [`free_ports`] uses: up to 32,700, below Linux's ephemeral range
/// (32768–60999), so no process binding port 0 takes one of them from under a test.
const FREE_PORT_SPAN: u32 = 12_700;

/// `count` consecutive ports that are free right now, for the tests that must name a port
/// themselves: a node the demo spawns (`POST /clusters/ID/nodes`), a cluster created on its
/// first port (`POST /clusters`), a demo restarted on the same ports. Anything else binds port 0
/// ([`Proc::start_on_free_ports`]), which no other process can take first.
pub fn free_ports(count: u16) -> u16 {
    let spread = std::process::id() % (FREE_PORT_SPAN / 100) * 100;
    loop {
        let offset = NEXT_PORT.fetch_add(u32::from(count) + 1, Ordering::SeqCst);
        let base = FIRST_FREE_PORT + (spread + offset) % (FREE_PORT_SPAN - u32::from(count));
        let base = u16::try_from(base).expect("below 32,768");
        let all_free =
            (base..base + count).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok());
        if all_free {
            return base;
        }
    }
}

/// A running `flotilla` process, restartable with the same arguments (and so the same data).
pub struct Proc {
    child: Option<Child>,
    args: Vec<String>,
    log: PathBuf,
    /// The address it serves on (`localhost:PORT`): a demo's API, or a node.
    pub addr: String,
}

/// How long a process may take to bind its listeners and write its port file.
const PORT_FILE_WAIT: Duration = Duration::from_secs(30);

impl Proc {
    /// Starts `flotilla ARGS`, logging to `log_dir/<name>.log`; `addr` is where it will serve.
    pub fn start(args: &[&str], addr: &str, log_dir: &Path, name: &str) -> Proc {
        let mut proc = Proc {
            child: None,
            args: args.iter().map(|arg| arg.to_string()).collect(),
            log: log_dir.join(format!("{name}.log")),
            addr: addr.to_string(),
        };
        proc.spawn();
        proc
    }

    /// Starts `flotilla ARGS --port-file log_dir/<name>.ports`, where ARGS bind port 0
    /// (`demo --port 0`, `node --listen localhost:0`), and waits until the process has written
    /// the addresses it got: `{"api", "nodes": {ID: addr}}` for a demo, `{"addr"}` for a node.
    /// `addr` is the API's or the node's. A node restarts on the port it got; a demo cannot
    /// (its nodes' ports are not consecutive), so [`Proc::restart`] refuses.
    pub fn start_on_free_ports(args: &[&str], log_dir: &Path, name: &str) -> (Proc, Value) {
        let port_file = log_dir.join(format!("{name}.ports"));
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--port-file", port_file.to_str().expect("a UTF-8 path")]);
        let mut proc = Proc::start(&args, "", log_dir, name);
        let bound = proc.read_port_file(&port_file);
        let addr = bound["api"].as_str().or(bound["addr"].as_str());
        proc.addr = addr
            .unwrap_or_else(|| panic!("no \"api\" or \"addr\" in {}: {bound}", port_file.display()))
            .to_string();
        if let Some(listen) = proc.args.iter().position(|arg| arg == "--listen") {
            proc.args[listen + 1] = proc.addr.clone();
        }
        (proc, bound)
    }

    /// Waits (up to [`PORT_FILE_WAIT`]) for the port file the process writes once every
    /// listener is bound; panics with the process's log if it does not come or the process ends.
    fn read_port_file(&mut self, port_file: &Path) -> Value {
        let deadline = Instant::now() + PORT_FILE_WAIT;
        loop {
            // Written whole (beside it, then renamed): once it exists, it parses.
            if let Ok(text) = std::fs::read_to_string(port_file) {
                return serde_json::from_str(&text).unwrap_or_else(|err| {
                    panic!("{} is not JSON ({err}): {text}", port_file.display())
                });
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                panic!(
                    "flotilla {} ended ({status}) before writing {}; its log:\n{}",
                    self.args.join(" "),
                    port_file.display(),
                    self.log()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "flotilla {} wrote no {} within {PORT_FILE_WAIT:?}; its log:\n{}",
                    self.args.join(" "),
                    port_file.display(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("open process log");
        let child = Command::new(flotilla_bin())
            .args(&self.args)
            .env("FLOTILLA_LOG", "info,openraft=warn")
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .expect("start flotilla");
        self.child = Some(child);
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM (as a service manager does to stop it), without waiting.
    pub fn terminate(&mut self) {
        if let Some(pid) = self.child.as_ref().and_then(|c| i32::try_from(c.id()).ok()) {
            // SAFETY: kill(2) on our own child's pid; no memory is shared.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }

    /// Starts the process again with the same arguments, on the same port.
    pub fn restart(&mut self) {
        assert!(
            !self.args.windows(2).any(|pair| pair == ["--port", "0"]),
            "a demo on ports the OS picked cannot restart on the same ports: start it on \
             free_ports() instead"
        );
        self.kill9();
        self.spawn();
    }

    /// Waits up to `limit` for the process to exit by itself; its exit code, if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Some(status.code().unwrap_or(-1));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// What the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            (status, value)
        }
        // Not answering at all is status 0, so callers can poll with the same code.
        Err(err) => (0, Value::String(err.to_string())),
    }
}

/// `GET http://{addr}{path}`: the status (0 if no answer) and the JSON body.
pub fn get(addr: &str, path: &str) -> (u16, Value) {
    answer(agent().get(format!("http://{addr}{path}")).call())
}

/// `POST` a raw body (sent with a JSON content type, like the seed's curl commands).
pub fn post_raw(addr: &str, path: &str, body: &str) -> (u16, Value) {
    answer(
        agent()
            .post(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .send(body),
    )
}

/// `POST` a JSON body.
pub fn post(addr: &str, path: &str, body: &Value) -> (u16, Value) {
    post_raw(addr, path, &body.to_string())
}

/// `POST` a JSON body with an `Idempotency-Key` header.
pub fn post_keyed(addr: &str, path: &str, body: &Value, key: &str) -> (u16, Value) {
    answer(
        agent()
            .post(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .send(body.to_string()),
    )
}

/// `DELETE` with a JSON body and an `Idempotency-Key` header.
pub fn delete_keyed(addr: &str, path: &str, body: &Value, key: &str) -> (u16, Value) {
    answer(
        agent()
            .delete(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", key)
            .force_send_body()
            .send(body.to_string()),
    )
}

/// `DELETE` with a JSON body (the seed's node removal).
pub fn delete(addr: &str, path: &str, body: &Value) -> (u16, Value) {
    answer(
        agent()
            .delete(format!("http://{addr}{path}"))
            .header("Content-Type", "application/json")
            .force_send_body()
            .send(body.to_string()),
    )
}

/// A whole answer: status (0 if none came), body as text, and headers (lower-case names).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status, 0 if the server did not answer.
    pub status: u16,
    /// The body as text.
    pub text: String,
    /// The headers, by lower-case name.
    pub headers: std::collections::BTreeMap<String, String>,
}

impl Reply {
    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

/// Sends `method` `http://{addr}{path}` with exactly these `headers` and `body` (no content type
/// unless given): what an attacker or a browser on another site would send.
pub fn send(
    method: &str,
    addr: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Reply {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.unwrap_or_default())
        .expect("a valid request");
    match agent().run(request) {
        Ok(mut response) => Reply {
            status: response.status().as_u16(),
            headers: response
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        value.to_str().unwrap_or("").to_string(),
                    )
                })
                .collect(),
            text: response.body_mut().read_to_string().unwrap_or_default(),
        },
        Err(err) => Reply {
            status: 0,
            text: err.to_string(),
            headers: Default::default(),
        },
    }
}

/// `POST`s headers announcing a body of `length` bytes with `Expect: 100-continue`, as curl does
/// for large bodies, and sends the body only if the server says to continue. The status and
/// JSON body of the final answer (status 0 if there is none).
pub fn post_announcing(addr: &str, path: &str, length: usize) -> (u16, Value) {
    use std::io::Read;
    use std::io::Write;
    let exchange = || -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    let Ok(answer) = exchange() else {
        return (0, Value::Null);
    };
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A one-node cluster: `flotilla node --id 1` on a free port with its data in `dir/n1` and
/// `extra` flags, once it leads.
pub fn lone_node(dir: &Path, extra: &[&str]) -> Proc {
    let data = dir.join("n1");
    let mut args = vec![
        "node",
        "--id",
        "1",
        "--listen",
        "localhost:0",
        "--data-dir",
        data.to_str().expect("a UTF-8 path"),
    ];
    args.extend(extra);
    let (node, _) = Proc::start_on_free_ports(&args, dir, "n1");
    wait_for(Duration::from_secs(20), "n1 to lead", || {
        (get(&node.addr, "/stats").1["role"] == "leader").then_some(())
    });
    node
}

/// Polls `probe` every 50 ms until it returns `Some`, or panics after `limit` saying `what`.
pub fn wait_for<T>(limit: Duration, what: &str, probe: impl FnMut() -> Option<T>) -> T {
    poll(limit, probe).unwrap_or_else(|| panic!("timed out after {limit:?} waiting for {what}"))
}

/// Polls `probe` every 50 ms until it returns `Some`; `None` once `limit` has passed.
pub fn poll<T>(limit: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server-sent event stream being read: `GET http://{addr}{path}` held open.
pub struct EventStream {
    lines: std::io::Lines<std::io::BufReader<Box<dyn std::io::Read + Send>>>,
}

impl EventStream {
    /// Opens the stream; panics unless the server answers 200 with `text/event-stream`. The
    /// whole stream may stay open for at most `limit`.
    pub fn open(addr: &str, path: &str, limit: Duration) -> EventStream {
        EventStream::try_open(addr, path, limit)
            .unwrap_or_else(|(status, body)| panic!("GET {addr}{path}: {status} {body}"))
    }

    /// Opens the stream, or returns the status (0: no answer) and JSON body the server refused
    /// it with.
    pub fn try_open(addr: &str, path: &str, limit: Duration) -> Result<EventStream, (u16, Value)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(limit))
            .build()
            .into();
        let response = agent.get(format!("http://{addr}{path}")).call();
        let response = match response {
            Ok(response) if response.status().as_u16() == 200 => response,
            other => return Err(answer(other)),
        };
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            kind.starts_with("text/event-stream"),
            "content type {kind:?}"
        );
        let reader: Box<dyn std::io::Read + Send> = Box::new(response.into_body().into_reader());
        Ok(EventStream {
            lines: std::io::BufRead::lines(std::io::BufReader::new(reader)),
        })
    }

    /// The next event: its name and its data parsed as JSON (comments skipped); `None` when the
    /// stream ends or times out.
    pub fn next_event(&mut self) -> Option<(String, Value)> {
        let mut name = String::from("message");
        let mut data = String::new();
        loop {
            let line = self.lines.next()?.ok()?;
            if line.is_empty() {
                if data.is_empty() {
                    continue;
                }
                return Some((
                    name,
                    serde_json::from_str(&data).unwrap_or(Value::String(data)),
                ));
            }
            if let Some(value) = line.strip_prefix("event:") {
                name = value.trim_start().to_string();
            } else if let Some(value) = line.strip_prefix("data:") {
                data.push_str(value.strip_prefix(' ').unwrap_or(value));
            }
        }
    }

    /// Reads the rest of the stream; `true` once it ends, `false` if reading it failed (a
    /// timeout, say).
    pub fn until_end(&mut self) -> bool {
        for line in self.lines.by_ref() {
            if line.is_err() {
                return false;
            }
        }
        true
    }

    /// Reads events until `found` returns `Some` for one; panics saying `what` if the stream
    /// ends first.
    pub fn until<T>(&mut self, what: &str, mut found: impl FnMut(&str, &Value) -> Option<T>) -> T {
        loop {
            let Some((name, data)) = self.next_event() else {
                panic!("the event stream ended before {what}");
            };
            if let Some(result) = found(&name, &data) {
                return result;
            }
        }
    }
}

/// How a process that was left to run to its end finished.
#[derive(Debug)]
pub struct Finished {
    /// Its exit code; `None` if it was still running after the limit (and was killed) or died
    /// of a signal.
    pub code: Option<i32>,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

/// Runs `flotilla ARGS` until it exits by itself, for at most `limit` (then kills it), keeping
/// stdout and stderr apart: for checking that a process refuses to start, and says why where an
/// operator looks.
pub fn run_to_exit(args: &[&str], limit: Duration) -> Finished {
    let mut child = Command::new(flotilla_bin())
        .args(args)
        .env("FLOTILLA_LOG", "info,openraft=warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("start flotilla");
    let drain = |pipe: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<_>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<_>));
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Finished {
        code,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}
