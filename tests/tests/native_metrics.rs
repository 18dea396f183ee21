//! `GET /metrics` on a node and on the entry point, scraped from a real demo after some work and
//! judged by the Prometheus project's own Python parser of the OpenMetrics text format
//! (`prometheus_client.openmetrics.parser`, strict: `# EOF`, types, units, suffixes), not by
//! code written for Flotilla: every line parses, every family has a type and help, and the
//! values say what happened (a leader, committed and applied entries, services and replicas,
//! requests by route pattern and status).

use std::io::Write as _;
use std::process::Command;
use std::process::Stdio;

use flotilla_tests::demo::Demo;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::send;
use serde_json::Value;
use serde_json::json;

/// The text at `addr`'s `/metrics`, with its content type.
fn scrape(addr: &str) -> (String, String) {
    let reply = send("GET", addr, "/metrics", &[], None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    let content_type = reply
        .headers
        .get("content-type")
        .cloned()
        .unwrap_or_default();
    (content_type, reply.text)
}

/// Parses `text` with prometheus_client's parser; returns every sample as
/// `{"name", "labels", "value", "family", "type", "help"}`.
fn parse(text: &str) -> Vec<Value> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for sample in family.samples:
        out.append({"name": sample.name, "labels": sample.labels, "value": sample.value,
                    "family": family.name, "type": family.type, "help": family.documentation})
print(json.dumps(out))
"#;
    let mut child = Command::new("python3")
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "this test needs python3 with prometheus-client (pip install prometheus-client): \
                 cannot run python3: {err}"
            )
        });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("python3 ran");
    assert!(
        output.status.success(),
        "prometheus_client could not parse the metrics (pip install prometheus-client if it is \
         missing): {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the script")
}

/// The value of the one sample called `name` whose labels include `labels`.
fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<&Value> = samples
        .iter()
        .filter(|sample| sample["name"] == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, want)| sample["labels"][key].as_str() == Some(want))
        })
        .collect();
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0]["value"].as_f64().expect("a number")
}

#[test]
fn nodes_and_the_entry_point_serve_metrics_prometheus_parses() {
    let demo = Demo::builder().nodes(3).start();
    let service = json!({"container": {"label": "web"}, "replicas": 7});
    let (status, answer) = post(&demo.api(), "/clusters/0/service", &service);
    assert_eq!(status, 201, "{answer}");
    let (status, _) = get(&demo.api(), "/clusters/0/services/999");
    assert_eq!(status, 404);
    let leader = demo.leader();

    let (content_type, text) = scrape(&leader);
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    let samples = parse(&text);
    for sample in &samples {
        assert!(
            sample["help"].as_str().is_some_and(|help| !help.is_empty()),
            "no help: {sample}"
        );
        assert!(
            sample["name"].as_str().unwrap().starts_with("flotilla_"),
            "{sample}"
        );
    }
    assert_eq!(
        value(&samples, "flotilla_raft_role", &[("role", "leader")]),
        1.0
    );
    assert_eq!(
        value(&samples, "flotilla_raft_role", &[("role", "follower")]),
        0.0
    );
    assert!(value(&samples, "flotilla_raft_term", &[]) >= 1.0);
    let commit = value(&samples, "flotilla_raft_commit_index", &[]);
    assert!(commit >= 2.0, "commit index {commit}");
    assert!(value(&samples, "flotilla_raft_applied_index", &[]) <= commit);
    assert!(value(&samples, "flotilla_raft_leader_changes_total", &[]) >= 1.0);
    assert_eq!(value(&samples, "flotilla_services", &[]), 1.0);
    assert_eq!(value(&samples, "flotilla_replicas_placed", &[]), 7.0);
    assert_eq!(value(&samples, "flotilla_replicas_pending", &[]), 0.0);
    assert_eq!(value(&samples, "flotilla_nodes", &[("status", "up")]), 3.0);
    // The leader reports a lag for each of its two peers.
    let lags = samples
        .iter()
        .filter(|sample| sample["name"] == "flotilla_raft_replication_lag_entries")
        .count();
    assert_eq!(lags, 2, "{text}");
    assert!(value(&samples, "flotilla_storage_fsync_seconds_count", &[]) >= 1.0);
    assert!(value(&samples, "flotilla_raft_apply_delay_seconds_count", &[]) >= 0.0);

    // Every node's requests are counted by route pattern, never by raw path.
    let stats = value(
        &samples,
        "flotilla_http_requests_total",
        &[("route", "/stats"), ("method", "GET"), ("status", "200")],
    );
    assert!(stats >= 1.0);
    assert!(!text.contains("/services/999"), "a raw path became a label");

    let (_, entry) = scrape(&demo.api());
    let samples = parse(&entry);
    let created = value(
        &samples,
        "flotilla_http_requests_total",
        &[
            ("route", "/clusters/{id}/service"),
            ("method", "POST"),
            ("status", "201"),
        ],
    );
    assert_eq!(created, 1.0);
    let missing = value(
        &samples,
        "flotilla_http_requests_total",
        &[
            ("route", "/clusters/{id}/services/{service}"),
            ("status", "404"),
        ],
    );
    assert_eq!(missing, 1.0);
    assert!(
        !entry.contains("/services/999"),
        "a raw path became a label"
    );
}
