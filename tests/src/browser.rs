//! Driving the page in a real browser: web/dist/ served from a sub-path by a static file server
//! in this process (axum + tower-http's `ServeDir`), opened in headless Chromium through chromedriver (Debian's `chromium` and
//! `chromium-driver`: /usr/bin/chromium, /usr/bin/chromedriver), in a 1280x720 viewport.
//!
//! Used by the browser tests (tests/browser.rs) and the frame-time benchmark (benches/page.rs).
//! One browser at a time (a lock): the machines have two cores and Chromium is heavy. Missing
//! pieces (the browser, web/dist/) fail loudly, saying how to get them.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use tower_http::services::ServeDir;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The page is served under this sub-path, as on a project page: relative URLs must hold.
const PREFIX: &str = "/flotilla/";

/// Async-aware: the guard lives across awaits for the whole browser session.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The workspace's root directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The built page (`web/dist/`); panics saying how to build it when it is missing.
pub fn dist() -> PathBuf {
    let dist = workspace_root().join("web").join("dist");
    for file in [
        "index.html",
        "app.js",
        "flotilla_web.js",
        "flotilla_web_bg.wasm",
    ] {
        assert!(
            dist.join(file).is_file(),
            "{} is missing: build the page with `cargo xtask web` first (`cargo xtask test` does)",
            dist.join(file).display()
        );
    }
    dist
}

fn check_browser() {
    for (path, what) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromedriver")] {
        assert!(
            Path::new(path).exists(),
            "{path} ({what}) is missing: the browser tests need Debian's Chromium and ChromeDriver; \
             install them with `sudo apt-get install -y chromium chromium-driver` (.ci/run does)"
        );
    }
}

// ----- a static file server ------------------------------------------------------------------

/// Serves web/dist/ under [`PREFIX`] on 127.0.0.1 (tower-http's `ServeDir`, on a runtime of its
/// own so it answers while a test blocks) and records every request it could not serve.
struct Server {
    port: u16,
    failed: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let port = listener.local_addr().expect("a bound address").port();
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let failed = Arc::new(Mutex::new(Vec::new()));
        let record = failed.clone();
        let files = ServeDir::new(root).append_index_html_on_directories(true);
        let app = axum::Router::new()
            .nest_service(PREFIX.trim_end_matches('/'), files)
            .fallback(|| async { http::StatusCode::NOT_FOUND })
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    let record = record.clone();
                    async move {
                        let path = request.uri().path().to_string();
                        let mut response = next.run(request).await;
                        if !response.status().is_success() {
                            record.lock().unwrap_or_else(|e| e.into_inner()).push(path);
                        }
                        // Every load reads the files as built now, never a cached copy.
                        response.headers_mut().insert(
                            http::header::CACHE_CONTROL,
                            http::HeaderValue::from_static("no-store"),
                        );
                        response
                    }
                },
            ));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("the file server's runtime");
            runtime.block_on(async move {
                let listener =
                    tokio::net::TcpListener::from_std(listener).expect("a tokio listener");
                axum::serve(listener, app).await.expect("the file server");
            });
        });
        Server { port, failed }
    }

    fn url(&self, query: &str) -> String {
        format!("http://127.0.0.1:{}{PREFIX}{query}", self.port)
    }

    fn failed(&self) -> Vec<String> {
        self.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

// ----- the browser ---------------------------------------------------------------------------

/// chromedriver in a process group of its own, with the Chromium it starts; the whole group is
/// killed when dropped, so a test that fails before closing its session leaves no browser
/// running (it would keep animating the page and eat the machine's CPU).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory is shared.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Driver {
    /// Starts chromedriver on a port the OS picks and returns it with that port. With
    /// `--port=0` chromedriver takes a free IPv6 port and then tries the same number on IPv4,
    /// which another process may hold ("IPv4 port not available. Exiting..."): then it starts
    /// again, up to five times.
    fn start() -> (Driver, u16) {
        let mut said_before = Vec::new();
        for _attempt in 0..5 {
            let mut driver = Driver(
                Command::new(CHROMEDRIVER)
                    .arg("--port=0")
                    .process_group(0)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("start chromedriver"),
            );
            match driver.port_it_says() {
                Ok(port) => return (driver, port),
                Err(lines) => said_before.push(lines),
            }
        }
        panic!("chromedriver did not start in five attempts; it said: {said_before:?}");
    }

    /// Reads chromedriver's stdout until it names its port (`Err` with what it said if it exits
    /// or stays silent for 20 s instead).
    fn port_it_says(&mut self) -> Result<u16, Vec<String>> {
        let stdout = self.0.stdout.take().expect("chromedriver's stdout");
        let (said, heard) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Reads every line, so chromedriver never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = said.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = heard.recv_timeout(left) else {
                return Err(lines);
            };
            let port = line
                .strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok());
            if let Some(port) = port {
                return Ok(port);
            }
            lines.push(line);
        }
    }
}

/// One test's browser: the server, chromedriver and a WebDriver session.
pub struct Browser {
    server: Server,
    /// The WebDriver session, for anything the helpers below do not cover.
    pub client: Client,
    _driver: Driver,
    _lock: tokio::sync::MutexGuard<'static, ()>,
}

/// `GET /session/{id}/se/log` with `{"type": "browser"}`: chromedriver's console log (errors,
/// failed loads), which W3C WebDriver itself does not cover.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(r#"{"type":"browser"}"#.to_string()),
        )
    }
}

impl Browser {
    /// Starts the static server, chromedriver and a headless Chromium session (waiting for any
    /// other browser of this process to close first).
    pub async fn open() -> Browser {
        let lock = ONE_BROWSER.lock().await;
        check_browser();
        let server = Server::start(dist());
        let (driver, port) = Driver::start();
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,720", "--hide-scrollbars", "--force-device-scale-factor=1"],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object")
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session with chromium");
        let browser = Browser {
            server,
            client,
            _driver: driver,
            _lock: lock,
        };
        // The page must read well in a 1280x720 viewport: size the window so the viewport is.
        browser.set_viewport(1280, 720).await;
        browser
    }

    /// Sizes the window so that the page's viewport is `width` x `height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("size the window");
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .expect("the viewport size");
        let (w, h) = (
            inner[0].as_u64().unwrap_or(u64::from(width)) as u32,
            inner[1].as_u64().unwrap_or(u64::from(height)) as u32,
        );
        self.client
            .set_window_size(2 * width - w, 2 * height - h)
            .await
            .expect("size the window");
    }

    /// The origin the page is served from (`http://127.0.0.1:PORT`): what a server must allow
    /// (`--cors-origin`) for the page to call it from here.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// Opens the page with `query` and waits for its hook.
    pub async fn load(&self, query: &str) {
        self.load_url(&self.server.url(query)).await;
    }

    /// Opens the page at `url` (served by anything: the demo, say) and waits for its hook.
    pub async fn load_url(&self, url: &str) {
        self.client.goto(url).await.expect("navigate to the page");
        self.wait("the page to start (window.flotilla.ready)", 20, |b| {
            Box::pin(async move {
                b.js("return !!(window.flotilla && window.flotilla.ready)")
                    .await
                    == json!(true)
            })
        })
        .await;
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The page's state as its test hook reports it (`window.flotilla.snapshot()`).
    pub async fn snapshot(&self) -> Value {
        self.js("return window.flotilla.snapshot()").await
    }

    /// Polls `check` every 100 ms for up to `seconds` of wall time.
    pub async fn wait<'a>(
        &'a self,
        what: &str,
        seconds: u64,
        check: impl Fn(&'a Browser) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + 'a>>,
    ) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            if check(self).await {
                return;
            }
            if Instant::now() > deadline {
                let snapshot = self.snapshot().await;
                panic!("timed out after {seconds} s waiting for {what}; page state: {snapshot:#}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until `check` holds on the snapshot.
    pub async fn wait_state(&self, what: &str, seconds: u64, check: impl Fn(&Value) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let snapshot = self.snapshot().await;
            if check(&snapshot) {
                return;
            }
            if Instant::now() > deadline {
                panic!("timed out after {seconds} s waiting for {what}; page state: {snapshot:#}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fails on any console error or failed load the browser logged, or any request the server
    /// could not serve.
    pub async fn assert_clean(&self) {
        let log = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("chromedriver's browser log");
        let severe: Vec<&Value> = log
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry["level"] == "SEVERE" || entry["level"] == "ERROR")
                    .collect()
            })
            .unwrap_or_default();
        assert!(severe.is_empty(), "the console shows errors: {severe:#?}");
        assert!(
            self.server.failed().is_empty(),
            "requests failed: {:?}",
            self.server.failed()
        );
    }

    /// Saves a screenshot as target/screenshots/`name`.png and returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = workspace_root().join("target").join("screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Clicks the ring at a point on the line of the directed link `from → to`, as a user
    /// does: the page works out which link is under the pointer.
    pub async fn click_link(&self, from: u64, to: u64) {
        let clicked = self
            .js(&format!(
                "const p = window.flotilla.linkPoint({from}, {to}); if (!p) return false;\
                 document.getElementById('ring').dispatchEvent(new MouseEvent('click', \
                 {{bubbles: true, clientX: p.x, clientY: p.y}})); return true;"
            ))
            .await;
        assert_eq!(clicked, json!(true), "no line for the link n{from}->n{to}");
    }

    /// Ends the WebDriver session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
