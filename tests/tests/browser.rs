//! Browser tests: the page built by `cargo xtask web` (web/dist/), served from a sub-path by a
//! tiny static server in this process, opened in headless Chromium through chromedriver
//! (Debian's `chromium` and `chromium-driver`: /usr/bin/chromium, /usr/bin/chromedriver).
//!
//! The tests assert on state through the page's read-only hook (`window.flotilla.snapshot()`),
//! act through the page's own controls (links, the service form, keys), and fail on any console
//! error or failed request. A screenshot goes to target/screenshots/. They fail — never skip —
//! when the browser or web/dist/ is missing, saying how to get them.
//!
//! One browser at a time (a lock): the machine has two cores and Chromium is heavy.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use flotilla_core::sim::{SimConfig, Simulation, Workload};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The page is served under this sub-path, as on a project page: relative URLs must hold.
const PREFIX: &str = "/flotilla/";

/// Async-aware: the guard lives across awaits for the whole browser session.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

fn dist() -> PathBuf {
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

/// Serves web/dist/ under [`PREFIX`] on 127.0.0.1 and records every request it could not serve.
struct Server {
    port: u16,
    failed: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(root: PathBuf) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
        let port = listener.local_addr().expect("a bound address").port();
        let failed = Arc::new(Mutex::new(Vec::new()));
        let record = failed.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, record) = (root.clone(), record.clone());
                std::thread::spawn(move || serve(stream, &root, &record));
            }
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

fn serve(stream: TcpStream, root: &Path, failed: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/");
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let file = path
        .strip_prefix(PREFIX)
        .map(|rest| if rest.is_empty() { "index.html" } else { rest })
        .filter(|rest| !rest.split('/').any(|part| part == ".."))
        .map(|rest| root.join(rest))
        .filter(|file| file.is_file());
    let mut stream = stream;
    let Some(file) = file else {
        failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.to_string());
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let mut body = Vec::new();
    if std::fs::File::open(&file)
        .and_then(|mut f| f.read_to_end(&mut body))
        .is_err()
    {
        return;
    }
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

// ----- the browser ---------------------------------------------------------------------------

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One test's browser: the server, chromedriver and a WebDriver session.
struct Browser {
    server: Server,
    client: Client,
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
    async fn open() -> Browser {
        let lock = ONE_BROWSER.lock().await;
        check_browser();
        let server = Server::start(dist());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let driver = Driver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start chromedriver"),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
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
        // The page must read well in a 1280x720 viewport: size the window so the viewport is.
        client
            .set_window_size(1280, 720)
            .await
            .expect("size the window");
        let inner = client
            .execute("return [window.innerWidth, window.innerHeight]", vec![])
            .await
            .expect("the viewport size");
        let (w, h) = (
            inner[0].as_u64().unwrap_or(1280),
            inner[1].as_u64().unwrap_or(720),
        );
        client
            .set_window_size(2560 - w as u32, 1440 - h as u32)
            .await
            .expect("size the window");
        Browser {
            server,
            client,
            _driver: driver,
            _lock: lock,
        }
    }

    /// Opens the page with `query` and waits for its hook.
    async fn load(&self, query: &str) {
        self.client
            .goto(&self.server.url(query))
            .await
            .expect("navigate to the page");
        self.wait("the page to start (window.flotilla.ready)", 20, |b| {
            Box::pin(async move {
                b.js("return !!(window.flotilla && window.flotilla.ready)")
                    .await
                    == json!(true)
            })
        })
        .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    async fn snapshot(&self) -> Value {
        self.js("return window.flotilla.snapshot()").await
    }

    /// Polls `check` every 100 ms for up to `seconds` of wall time.
    async fn wait<'a>(
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
    async fn wait_state(&self, what: &str, seconds: u64, check: impl Fn(&Value) -> bool) {
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
    async fn assert_clean(&self) {
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
    async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = workspace_root().join("target").join("screenshots");
        std::fs::create_dir_all(&dir).expect("create target/screenshots");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Clicks the page's line for the directed link `from → to` (as a user does).
    async fn click_link(&self, from: u64, to: u64) {
        let clicked = self
            .js(&format!(
                "const l = document.querySelector('.link-hit[data-from=\"{from}\"][data-to=\"{to}\"]');\
                 if (!l) return false; l.dispatchEvent(new MouseEvent('click', {{bubbles: true}})); return true;"
            ))
            .await;
        assert_eq!(clicked, json!(true), "no line for the link n{from}->n{to}");
    }

    async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn nodes(snapshot: &Value) -> Vec<&Value> {
    snapshot["nodes"]
        .as_array()
        .map(|n| n.iter().collect())
        .unwrap_or_default()
}

fn leader_term(snapshot: &Value) -> Option<(u64, u64)> {
    let leader = snapshot["leader"].as_u64()?;
    let node = nodes(snapshot)
        .into_iter()
        .find(|n| n["id"].as_u64() == Some(leader))?;
    Some((leader, node["term"].as_u64()?))
}

/// The trace `cargo xtask sim --seed --nodes --seconds --trace` prints, computed here. On a
/// thread of its own: the simulation's virtual-time executor must not run inside the test's
/// tokio runtime.
fn native_trace(seed: u32, nodes: usize, seconds: u64) -> String {
    std::thread::spawn(move || {
        let mut sim = Simulation::new(SimConfig::new(seed.into(), nodes)).expect("a simulation");
        let mut native = String::new();
        Workload::light().drive_observed(&mut sim, Duration::from_secs(seconds), |event| {
            native.push_str(&format!("{event}\n"));
        });
        native
    })
    .join()
    .expect("the native simulation")
}

// ----- the tests -----------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn the_page_elects_a_leader_on_load_with_no_errors() {
    let browser = Browser::open().await;
    browser.load("").await;
    let first = browser.snapshot().await;
    assert_eq!(nodes(&first).len(), 5, "five nodes on load");
    assert_eq!(first["playing"], json!(true), "it runs without a click");
    browser
        .wait_state("a leader, with no click", 30, |s| leader_term(s).is_some())
        .await;
    let snapshot = browser.snapshot().await;
    let (leader, term) = leader_term(&snapshot).expect("a leader");
    let status = snapshot["status"].as_str().unwrap_or_default();
    assert!(
        status.contains(&format!("n{leader} leads in term {term}")),
        "the status line names the leader: {status:?}"
    );
    // The ring shows it: the leader's node is drawn as a leader.
    let class = browser
        .js(&format!(
            "return document.querySelector('.node[data-node=\"{leader}\"]').getAttribute('class')"
        ))
        .await;
    assert!(
        class.as_str().unwrap_or_default().contains("leader"),
        "{class}"
    );
    // A real click on a node opens the inspector with its Raft state.
    browser
        .client
        .find(Locator::Css(&format!(
            ".node[data-node=\"{leader}\"] .body"
        )))
        .await
        .expect("the leader's circle")
        .click()
        .await
        .expect("click the leader");
    let inspector = browser
        .client
        .find(Locator::Id("inspector"))
        .await
        .expect("the inspector")
        .text()
        .await
        .expect("its text");
    assert!(
        inspector.contains(&format!("n{leader}")) && inspector.contains("match"),
        "the inspector shows the leader and its peers' match indexes: {inspector}"
    );
    browser.assert_clean().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn cutting_the_leaders_links_elects_another_and_healing_reunites_them() {
    let browser = Browser::open().await;
    browser.load("?seed=3").await;
    browser.js("window.flotilla.runTo(15)").await;
    let snapshot = browser.snapshot().await;
    let (old, term) = leader_term(&snapshot).expect("a leader after 15 virtual seconds");
    let others: Vec<u64> = nodes(&snapshot)
        .iter()
        .filter_map(|n| n["id"].as_u64())
        .filter(|id| *id != old)
        .collect();
    for &other in &others {
        browser.click_link(old, other).await;
        browser.click_link(other, old).await;
    }
    let cut = browser.snapshot().await["cut"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(cut, 2 * others.len(), "every link of n{old} is cut");
    browser.js("window.flotilla.play()").await;
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 20)")
        .await;
    let snapshot = browser.snapshot().await;
    let (new, new_term) = leader_term(&snapshot).expect("a new leader");
    assert!(
        new != old && new_term > term,
        "a new leader in a higher term: n{new} in {new_term}, was n{old} in {term}"
    );
    let status = snapshot["status"].as_str().unwrap_or_default();
    assert!(
        status.contains(&format!("n{new} leads in term {new_term}")),
        "{status}"
    );
    browser.screenshot("partitioned").await;

    for &other in &others {
        browser.click_link(old, other).await;
        browser.click_link(other, old).await;
    }
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 20)")
        .await;
    let snapshot = browser.snapshot().await;
    assert_eq!(snapshot["cut"], json!([]), "every link healed");
    let (leader, term) = leader_term(&snapshot).expect("a leader after healing");
    for node in nodes(&snapshot) {
        assert_eq!(node["term"].as_u64(), Some(term), "one term: {snapshot:#}");
        assert_eq!(
            node["leader"].as_u64(),
            Some(leader),
            "one leader: {snapshot:#}"
        );
        if node["id"].as_u64() != Some(leader) {
            assert_eq!(node["role"], "follower", "{snapshot:#}");
        }
    }
    browser.assert_clean().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn a_submitted_service_shows_its_replicas_on_the_nodes() {
    let browser = Browser::open().await;
    browser.load("?seed=5").await;
    browser.js("window.flotilla.runTo(12)").await;
    let label = browser
        .client
        .find(Locator::Id("service-label"))
        .await
        .expect("the label field");
    label.clear().await.expect("clear the label");
    label.send_keys("api").await.expect("type a label");
    let replicas = browser
        .client
        .find(Locator::Id("service-replicas"))
        .await
        .expect("the replicas field");
    replicas.clear().await.expect("clear replicas");
    replicas.send_keys("7").await.expect("type replicas");
    browser
        .client
        .find(Locator::Css("#service-form button"))
        .await
        .expect("the submit button")
        .click()
        .await
        .expect("submit");
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 5)")
        .await;
    let snapshot = browser.snapshot().await;
    let api = snapshot["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["label"] == "api"))
        .unwrap_or_else(|| panic!("the service is listed: {snapshot:#}"));
    assert_eq!(api["running"], 7, "{api}");
    let placed: u64 = api["placement"]
        .as_object()
        .map(|p| p.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(placed, 7);
    let load: u64 = nodes(&snapshot)
        .iter()
        .filter_map(|n| n["load"].as_u64())
        .sum();
    assert_eq!(load, 7, "the nodes carry the replicas: {snapshot:#}");
    let panel = browser
        .client
        .find(Locator::Id("service-list"))
        .await
        .expect("the services panel")
        .text()
        .await
        .expect("its text");
    assert!(
        panel.contains("api") && panel.contains("7/7"),
        "the panel shows it: {panel}"
    );
    // Press `c` for a client request too, then look at the page.
    browser
        .client
        .find(Locator::Css("body"))
        .await
        .expect("the body")
        .send_keys("c")
        .await
        .expect("press c");
    browser.js("window.flotilla.play()").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    browser.screenshot("page").await;
    browser.assert_clean().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_url_replays_the_same_run() {
    let browser = Browser::open().await;
    browser.load("?seed=11").await;
    browser.js("window.flotilla.runTo(9)").await;
    let leader = leader_term(&browser.snapshot().await).map_or(1, |(id, _)| id);
    let other = if leader == 1 { 2 } else { 1 };
    browser.click_link(leader, other).await;
    browser.js("window.flotilla.runTo(14)").await;
    browser
        .js(&format!(
            "document.querySelector('.node[data-node=\"{other}\"]').dispatchEvent(new MouseEvent('click'));"
        ))
        .await;
    browser
        .js("document.querySelector('#inspector button[data-act=\"crash\"]').click()")
        .await;
    browser.js("window.flotilla.runTo(30)").await;
    let first = browser.js("return window.flotilla.eventLines()").await;
    let url = browser.snapshot().await["url"]
        .as_str()
        .expect("the URL")
        .to_string();
    assert!(
        url.contains("seed=11") && url.contains("a="),
        "seed and actions in the URL: {url}"
    );

    browser
        .client
        .goto(&url)
        .await
        .expect("open the shared URL");
    browser
        .wait("the page to restart", 20, |b| {
            Box::pin(async move {
                b.js("return !!(window.flotilla && window.flotilla.ready)")
                    .await
                    == json!(true)
            })
        })
        .await;
    // Different frames this time: where time is cut must not matter.
    browser.js("window.flotilla.runTo(30, 0.013)").await;
    let second = browser.js("return window.flotilla.eventLines()").await;
    let lines = first.as_array().map_or(0, Vec::len);
    assert!(lines > 100, "a real run: {lines} events");
    assert!(
        first == second,
        "the shared URL replays the same run, event for event"
    );
    let text = serde_json::to_string(&first).unwrap_or_default();
    assert!(text.contains("crashed") && text.contains("cut"), "{text}");
    browser.assert_clean().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_browser_runs_the_native_trace_event_for_event() {
    let browser = Browser::open().await;
    browser.load("").await;
    let mut by_seed = BTreeMap::new();
    for (seed, nodes, seconds) in [(5u32, 5usize, 8u64), (42, 3, 5)] {
        let wasm = browser
            .js(&format!(
                "return window.flotilla.trace({seed}, {nodes}, {seconds})"
            ))
            .await;
        let native = native_trace(seed, nodes, seconds);
        let wasm = wasm.as_str().expect("the trace is text");
        let count = native.lines().count();
        assert!(
            count > 50,
            "a real trace: {count} lines for seed {seed}:\n{native}"
        );
        if let Some((line, (w, n))) = wasm
            .lines()
            .zip(native.lines())
            .enumerate()
            .find(|(_, (w, n))| w != n)
        {
            panic!(
                "seed {seed}: wasm and native differ at line {}:\n  wasm:   {w}\n  native: {n}",
                line + 1
            );
        }
        assert_eq!(wasm.lines().count(), native.lines().count(), "seed {seed}");
        by_seed.insert(seed, native.lines().count());
    }
    eprintln!("wasm == native traces (lines per seed): {by_seed:?}");
    browser.assert_clean().await;
    browser.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_guided_tour_shows_an_election_replication_two_leaders_and_healing() {
    let browser = Browser::open().await;
    browser.load("").await;
    browser
        .client
        .find(Locator::Id("tour-button"))
        .await
        .expect("the Tour button")
        .click()
        .await
        .expect("click Tour");
    assert_eq!(
        browser.js("return window.flotilla.tourStep()").await,
        json!(0)
    );
    let text = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            client
                .find(Locator::Id("tour"))
                .await
                .expect("the tour card")
                .text()
                .await
                .expect("its text")
        }
    };
    assert!(text(&browser).await.contains("Election"));
    browser.js("window.flotilla.runTo(30)").await;
    assert!(
        leader_term(&browser.snapshot().await).is_some(),
        "step 1 elects a leader"
    );

    // Step 2: a client request is replicated, committed and placed.
    browser
        .js("document.getElementById('tour-next').click()")
        .await;
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 15)")
        .await;
    let snapshot = browser.snapshot().await;
    let services = snapshot["services"].as_array().cloned().unwrap_or_default();
    assert_eq!(services.len(), 1, "{snapshot:#}");
    assert_eq!(services[0]["running"], 4, "{snapshot:#}");

    // Step 3: two nodes claim leadership in different terms; the old one holds an entry it
    // cannot commit.
    browser
        .js("document.getElementById('tour-next').click()")
        .await;
    let snapshot = browser.snapshot().await;
    let mut leaders: Vec<(u64, u64, u64, u64)> = nodes(&snapshot)
        .iter()
        .filter(|n| n["role"] == "leader")
        .map(|n| {
            let field = |name: &str| n[name].as_u64().unwrap_or_default();
            (
                field("term"),
                field("id"),
                field("last_log_index"),
                field("commit_index"),
            )
        })
        .collect();
    leaders.sort();
    assert_eq!(leaders.len(), 2, "two leaders: {snapshot:#}");
    let (old_term, old, old_last, old_commit) = leaders[0];
    assert!(leaders[1].0 > old_term, "in different terms: {leaders:?}");
    assert!(
        old_commit > 0 && old_last > old_commit,
        "n{old} holds an uncommitted write after committed ones: {leaders:?}"
    );
    let status = snapshot["status"].as_str().unwrap_or_default();
    assert!(status.contains("still thinks it leads"), "{status}");
    assert!(text(&browser).await.contains("both say they lead"));
    browser.screenshot("tour-partition").await;

    // Step 4: healed, one leader, one term, every log committed alike.
    browser
        .js("document.getElementById('tour-next').click()")
        .await;
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 20)")
        .await;
    let snapshot = browser.snapshot().await;
    let (leader, term) = leader_term(&snapshot).expect("a leader after healing");
    for node in nodes(&snapshot) {
        assert_eq!(node["term"].as_u64(), Some(term), "{snapshot:#}");
        assert_eq!(node["leader"].as_u64(), Some(leader), "{snapshot:#}");
        assert_eq!(node["commit_index"], node["last_log_index"], "{snapshot:#}");
    }
    // The minority write was overwritten and never acknowledged: it is nowhere, even after the
    // client's timeout.
    browser
        .js("window.flotilla.runTo(window.flotilla.snapshot().now + 40)")
        .await;
    let later = browser.snapshot().await;
    let minority = later["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["label"] == "minority")
        .count();
    assert_eq!(minority, 0, "{later:#}");
    let lines = browser.js("return window.flotilla.eventLines()").await;
    let failed = lines
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .any(|line| line.contains("client request #1 failed") && line.contains("discarded"));
    assert!(failed, "the client hears that its write failed: {lines:#}");
    // Done ends the tour; the URL holds the run, so it replays like any other.
    browser
        .js("document.getElementById('tour-next').click()")
        .await;
    assert_eq!(
        browser.js("return window.flotilla.tourStep()").await,
        Value::Null
    );
    assert!(
        snapshot["url"]
            .as_str()
            .unwrap_or_default()
            .contains("seed=7")
    );
    browser.assert_clean().await;
    browser.close().await;
}
