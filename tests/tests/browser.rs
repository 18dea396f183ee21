//! Browser tests: the page built by `cargo xtask web` (web/dist/), served from a sub-path by a
//! tiny static server in this process, opened in headless Chromium through chromedriver
//! (Debian's `chromium` and `chromium-driver`: /usr/bin/chromium, /usr/bin/chromedriver).
//!
//! The tests assert on state through the page's read-only hook (`window.flotilla.snapshot()`),
//! act through the page's own controls (links, the service form, keys), and fail on any console
//! error or failed request. A screenshot goes to target/screenshots/. They fail — never skip —
//! when the browser or web/dist/ is missing, saying how to get them (see
//! `flotilla_tests::browser`).

use std::collections::BTreeMap;
use std::time::Duration;

use fantoccini::Locator;
use flotilla_core::sim::{SimConfig, Simulation, Workload};
use flotilla_tests::browser::Browser;
use flotilla_tests::browser::dist;
use flotilla_tests::process::Proc;
use serde_json::{Value, json};

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
    let others = click_every_link_of(&browser, &snapshot, old).await;
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

    click_every_link_of(&browser, &snapshot, old).await;
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
    submit_service_form(&browser, "api", 7).await;
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
    press(&browser, "c").await;
    let before = browser.snapshot().await["now"].as_f64().unwrap_or(0.0);
    browser.js("window.flotilla.play()").await;
    browser
        .wait_state("the page to play a virtual second on", 10, |s| {
            s["now"].as_f64().is_some_and(|now| now >= before + 1.0)
        })
        .await;
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

/// Clicks both directions of every link between `node` and the others `snapshot` lists; the
/// others' ids.
async fn click_every_link_of(browser: &Browser, snapshot: &Value, node: u64) -> Vec<u64> {
    let others: Vec<u64> = nodes(snapshot)
        .iter()
        .filter_map(|n| n["id"].as_u64())
        .filter(|id| *id != node)
        .collect();
    for &other in &others {
        browser.click_link(node, other).await;
        browser.click_link(other, node).await;
    }
    others
}

/// Fills in the services form (label, replicas) and submits it, as a user does.
async fn submit_service_form(browser: &Browser, label: &str, replicas: u32) {
    for (field, value) in [
        ("service-label", label.to_string()),
        ("service-replicas", replicas.to_string()),
    ] {
        let input = browser
            .client
            .find(Locator::Id(field))
            .await
            .unwrap_or_else(|err| panic!("the {field} field: {err}"));
        input.clear().await.expect("clear the field");
        input.send_keys(&value).await.expect("type into the field");
    }
    browser
        .client
        .find(Locator::Css("#service-form button"))
        .await
        .expect("the submit button")
        .click()
        .await
        .expect("submit");
}

/// Presses `key` on the page, as a user does.
async fn press(browser: &Browser, key: &str) {
    browser
        .client
        .find(Locator::Css("body"))
        .await
        .expect("the body")
        .send_keys(key)
        .await
        .unwrap_or_else(|err| panic!("press {key}: {err}"));
}

/// The cluster secret of the live-mode test's demo and of the node that joins it.
const LIVE_SECRET: &str = "live-test-secret-0123456789";

#[tokio::test(flavor = "current_thread")]
async fn live_mode_follows_the_running_demo_cuts_its_links_and_places_a_service() {
    let data = tempfile::tempdir().expect("temp dir");
    let browser = Browser::open().await;
    // The page is also served from the tests' own server (another origin) at the end: the demo
    // lets that origin call it, as an operator hosting the page elsewhere would.
    let origin = browser.origin();
    let (demo, _) = Proc::start_on_free_ports(
        &[
            "demo",
            "--cors-origin",
            &origin,
            // Shared with the `flotilla node` that joins below.
            "--cluster-secret",
            LIVE_SECRET,
            "--port",
            "0",
            "--nodes",
            "5",
            "--data-dir",
            data.path().join("data").to_str().unwrap(),
            "--web-dir",
            dist().to_str().unwrap(),
        ],
        data.path(),
        "demo",
    );
    let api = &demo.addr;
    // The page the demo serves, following its cluster "0".
    browser.load_url(&format!("http://{api}/?live=0")).await;
    assert_eq!(
        browser.js("return window.flotilla.live()").await,
        json!(true)
    );
    browser
        .wait_state("five nodes and a leader, from the event stream", 20, |s| {
            nodes(s).len() == 5 && leader_term(s).is_some()
        })
        .await;
    browser
        .wait("the explanation to speak of the five real nodes", 5, |b| {
            Box::pin(async move {
                b.js("return document.getElementById('inspector').textContent")
                    .await
                    .as_str()
                    .is_some_and(|text| text.contains("These 5 nodes are real"))
            })
        })
        .await;
    let snapshot = browser.snapshot().await;
    let (old, term) = leader_term(&snapshot).expect("a leader");

    // Cutting every link of the leader by clicking them: the others elect a new leader.
    let others = click_every_link_of(&browser, &snapshot, old).await;
    browser
        .wait_state(
            "every link of the old leader cut, as the nodes report",
            10,
            |s| s["cut"].as_array().map_or(0, Vec::len) == 2 * others.len(),
        )
        .await;
    browser
        .wait_state("a new leader in a higher term", 20, |s| {
            nodes(s).iter().any(|n| {
                n["role"] == "leader"
                    && n["id"].as_u64() != Some(old)
                    && n["term"].as_u64() > Some(term)
            })
        })
        .await;
    browser.screenshot("live-partitioned").await;

    // `h` heals every link: one leader, one term again.
    press(&browser, "h").await;
    browser
        .wait_state("healed links and one leader everyone follows", 20, |s| {
            let Some((leader, term)) = leader_term(s) else {
                return false;
            };
            s["cut"] == json!([])
                && nodes(s).iter().all(|n| {
                    n["term"].as_u64() == Some(term) && n["leader"].as_u64() == Some(leader)
                })
        })
        .await;

    // `p` splits the five nodes 2 | 3 as core plans it (the two lowest ids against the rest:
    // twelve directed links cut, each across), `h` heals them again.
    press(&browser, "p").await;
    browser
        .wait_state("the cluster split 2 | 3: 12 links cut", 10, |s| {
            let mut ids: Vec<u64> = nodes(s).iter().filter_map(|n| n["id"].as_u64()).collect();
            ids.sort_unstable();
            let lower = &ids[..ids.len() / 2];
            let cut = s["cut"].as_array().cloned().unwrap_or_default();
            cut.len() == 12
                && cut.iter().all(|link| {
                    let side =
                        |end: usize| link[end].as_u64().is_some_and(|id| lower.contains(&id));
                    side(0) != side(1)
                })
        })
        .await;
    press(&browser, "h").await;
    browser
        .wait_state("the split healed", 10, |s| s["cut"] == json!([]))
        .await;

    // A service submitted from the form is placed by the real cluster and shown.
    submit_service_form(&browser, "live-web", 3).await;
    browser
        .wait_state("the service's 3 replicas as load on the nodes", 20, |s| {
            let load: u64 = nodes(s).iter().filter_map(|n| n["load"].as_u64()).sum();
            let listed = s["services"].as_array().is_some_and(|list| {
                list.iter()
                    .any(|svc| svc["label"] == "live-web" && svc["running"] == 3)
            });
            load == 3 && listed
        })
        .await;

    // A `flotilla node` process joins (the seed's request with "spawn": false) and shows up;
    // killed -9, it is drawn as silent and the event log says so.
    let node_data = data.path().join("node-21");
    let (mut outsider, _) = Proc::start_on_free_ports(
        &[
            "node",
            "--id",
            "21",
            "--listen",
            "localhost:0",
            "--data-dir",
            node_data.to_str().unwrap(),
            "--await-join",
            "--cluster-secret",
            LIVE_SECRET,
        ],
        data.path(),
        "node-21",
    );
    let port: u16 = outsider.addr.rsplit_once(':').unwrap().1.parse().unwrap();
    let (status, added) = flotilla_tests::process::post(
        api,
        "/clusters/0/nodes",
        &json!({"host": "localhost", "port": port, "spawn": false}),
    );
    assert_eq!(status, 201, "{added}\n{}", outsider.log());
    browser
        .wait_state("n21 on the page, following the leader", 20, |s| {
            nodes(s)
                .iter()
                .any(|n| n["id"] == 21 && n["role"] == "follower")
        })
        .await;
    outsider.kill9();
    browser
        .wait_state("n21 drawn as not answering", 20, |s| {
            nodes(s)
                .iter()
                .any(|n| n["id"] == 21 && n["role"] == "down")
        })
        .await;
    let events = browser.js("return window.flotilla.eventLines()").await;
    let events = events.as_array().expect("event lines");
    let said = |words: &str| {
        events
            .iter()
            .any(|line| line.as_str().is_some_and(|l| l.contains(words)))
    };
    assert!(said("link cut"), "the event log names the cuts: {events:?}");
    assert!(said("joined the cluster"), "and the join: {events:?}");
    assert!(said("n21 (localhost:"), "and the silence: {events:?}");
    browser.screenshot("live").await;
    browser.assert_clean().await;

    // The page served elsewhere (here: the tests' static server) follows the demo with `api=`.
    browser.load(&format!("?live=0&api=http://{api}/")).await;
    browser
        .wait_state(
            "the demo's six nodes (n21 down), from another origin",
            20,
            |s| {
                nodes(s).len() == 6
                    && leader_term(s).is_some()
                    && nodes(s)
                        .iter()
                        .any(|n| n["id"] == 21 && n["role"] == "down")
            },
        )
        .await;
    browser.screenshot("live-other-origin").await;
    browser.assert_clean().await;
    browser.close().await;
    drop(demo);
}

#[tokio::test(flavor = "current_thread")]
async fn at_phone_width_the_page_fits_and_links_are_cut_by_keyboard() {
    let browser = Browser::open().await;
    browser.set_viewport(390, 844).await;
    browser.load("?seed=2").await;
    browser.js("window.flotilla.runTo(10)").await;
    let layout = browser
        .js(
            "const ring = document.getElementById('ring').getBoundingClientRect();\
             const play = document.getElementById('play').getBoundingClientRect();\
             return { viewport: window.innerWidth, page: document.documentElement.scrollWidth,\
                      ring: [ring.left, ring.right, ring.height], play: [play.left, play.right] };",
        )
        .await;
    let viewport = layout["viewport"].as_f64().unwrap();
    assert!(viewport <= 400.0, "a phone-width viewport: {layout}");
    assert!(
        layout["page"].as_f64() <= Some(viewport),
        "nothing wider than the screen (no sideways scrolling): {layout}"
    );
    let ring = &layout["ring"];
    assert!(
        ring[0].as_f64() >= Some(0.0)
            && ring[1].as_f64() <= Some(viewport)
            && ring[2].as_f64() >= Some(300.0),
        "the ring fills the width: {layout}"
    );
    let play = &layout["play"];
    assert!(
        play[0].as_f64() >= Some(0.0) && play[1].as_f64() <= Some(viewport),
        "{layout}"
    );

    // By keyboard: Enter on a node opens its inspector; Enter on a link's button cuts it, and
    // the focus stays on that button, so Enter again heals it.
    browser
        .js("document.querySelector('#ring [data-node=\"1\"]').focus()")
        .await;
    let enter = "\u{E007}";
    let active = browser
        .client
        .active_element()
        .await
        .expect("the focused node");
    active.send_keys(enter).await.expect("press Enter on n1");
    browser
        .js("document.querySelector('#inspector button[data-act=\"toggle_link\"][data-from=\"1\"][data-to=\"2\"]').focus()")
        .await;
    let active = browser
        .client
        .active_element()
        .await
        .expect("the focused link");
    active.send_keys(enter).await.expect("press Enter on n1→n2");
    assert_eq!(
        browser.snapshot().await["cut"],
        json!([[1, 2]]),
        "n1→n2 cut"
    );
    let active = browser
        .client
        .active_element()
        .await
        .expect("the focused link");
    assert_eq!(
        active.attr("data-to").await.expect("an attribute"),
        Some("2".to_string()),
        "the focus stays on the link's button"
    );
    active.send_keys(enter).await.expect("press Enter again");
    assert_eq!(browser.snapshot().await["cut"], json!([]), "n1→n2 healed");
    browser.screenshot("phone").await;
    browser.assert_clean().await;
    browser.close().await;
}
