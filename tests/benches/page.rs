//! The browser page's frame time, in the headless Chromium the browser tests use: 5 nodes (goal
//! 60 fps) and 51 nodes (goal at least 30 fps), at the page's default pace and at 10x speed.
//!
//! For each case the page runs for a few seconds of wall time; the bench prints the frame rate
//! it reached and the work per frame (the page's own measurement of simulation + drawing), next
//! to a peer measured in the same run: the frame rate the same browser gives an empty page
//! doing nothing but counting frames. Only the ratio means anything on a shared machine. It
//! never asserts a speed; it saves a screenshot of each case in target/screenshots/. Needs web/dist/ (`cargo xtask bench` builds it first) and Chromium.

use std::time::Duration;
use std::time::Instant;

use flotilla_tests::browser::Browser;
use serde_json::Value;

/// How long each case is measured, after a warm-up. Frames per wall-clock second are what is
/// measured, so the sleeps below are the measurement itself, not a wait for a condition.
const MEASURE: Duration = Duration::from_secs(5);
const WARM_UP: Duration = Duration::from_secs(2);

/// Frames per second an empty page gets in this browser: the ceiling for the page.
async fn empty_page_fps(browser: &Browser) -> f64 {
    browser
        .client
        .goto("about:blank")
        .await
        .expect("open an empty page");
    browser
        .js("window.frames_seen = 0; (function count() { window.frames_seen++; requestAnimationFrame(count); })();")
        .await;
    tokio::time::sleep(WARM_UP).await;
    let before = browser.js("return window.frames_seen").await;
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let after = browser.js("return window.frames_seen").await;
    let frames = after.as_f64().unwrap_or(0.0) - before.as_f64().unwrap_or(0.0);
    frames / started.elapsed().as_secs_f64()
}

/// Percentile `p` (0..=1) of `values`, sorted in place.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let index = ((values.len() - 1) as f64 * p).round() as usize;
    values[index]
}

async fn measure_page(browser: &Browser, nodes: u32, speed: u32, peer_fps: f64) {
    browser
        .load(&format!("?seed=1&nodes={nodes}&speed={speed}"))
        .await;
    tokio::time::sleep(WARM_UP).await;
    browser.js("window.flotilla.frameWork(true)").await;
    let started = Instant::now();
    tokio::time::sleep(MEASURE).await;
    let work = browser.js("return window.flotilla.frameWork(true)").await;
    let wall = started.elapsed().as_secs_f64();
    let mut work: Vec<f64> = work
        .as_array()
        .map(|frames| frames.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let fps = work.len() as f64 / wall;
    let p50 = percentile(&mut work, 0.5);
    let p95 = percentile(&mut work, 0.95);
    let max = percentile(&mut work, 1.0);
    browser
        .screenshot(&format!("bench-{nodes}-nodes-{speed}x"))
        .await;
    println!(
        "page: {nodes:>2} nodes at {speed:>2}x: {fps:5.1} fps = {:.2} of the empty page's {peer_fps:.1}; \
         work per frame p50 {p50:.2} ms, p95 {p95:.2} ms, max {max:.2} ms (budget at 60 fps: 16.7 ms)",
        fps / peer_fps
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let browser = Browser::open().await;
        let peer_fps = empty_page_fps(&browser).await;
        println!("page: peer: an empty page gets {peer_fps:.1} fps in this browser");
        for (nodes, speed) in [(5, 1), (5, 10), (51, 1), (51, 10)] {
            measure_page(&browser, nodes, speed, peer_fps).await;
        }
        browser.assert_clean().await;
        browser.close().await;
    });
}
