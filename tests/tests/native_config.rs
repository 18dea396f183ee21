//! Configuration as an operator sets it: a TOML file (`--config`), `FLOTILLA_…` environment
//! variables and flags, taken in that order of strength (flag > environment > file > default);
//! a bad file stops the process with a message naming the file and key; `--log-format json`
//! writes one JSON object per log line.

use std::path::Path;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;

use flotilla_tests::process::flotilla_bin;
use flotilla_tests::process::run_to_exit;
use flotilla_tests::process::wait_for;
use serde_json::Value;

/// A demo started with `args` and `env` on free ports; its port file once written, then its
/// stderr once stopped.
fn demo(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (Value, String) {
    let ports = dir.join("ports.json");
    let _ = std::fs::remove_file(&ports);
    let log = dir.join("demo.log");
    let mut command = Command::new(flotilla_bin());
    command
        .arg("demo")
        .args(args)
        .args(["--port", "0", "--port-file", ports.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .env_remove("FLOTILLA_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log file"));
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child: Child = command.spawn().expect("start flotilla");
    let bound: Value = wait_for(Duration::from_secs(30), "the port file", || {
        let text = std::fs::read_to_string(&ports).ok()?;
        serde_json::from_str(&text).ok()
    });
    let _ = child.kill();
    let _ = child.wait();
    (bound, std::fs::read_to_string(&log).unwrap_or_default())
}

fn node_count(bound: &Value) -> usize {
    bound["nodes"].as_object().map_or(0, |nodes| nodes.len())
}

#[test]
fn a_flag_beats_its_environment_variable_which_beats_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("flotilla.toml");
    std::fs::write(&config, "nodes = 2\n[demo]\ncapacity = 7\n").expect("config");
    let config = config.to_str().unwrap();

    let (bound, _) = demo(dir.path(), &["--config", config], &[]);
    assert_eq!(node_count(&bound), 2, "the file: {bound}");
    let (bound, _) = demo(dir.path(), &[], &[("FLOTILLA_CONFIG", config)]);
    assert_eq!(
        node_count(&bound),
        2,
        "the file named by FLOTILLA_CONFIG: {bound}"
    );
    let (bound, _) = demo(
        dir.path(),
        &["--config", config],
        &[("FLOTILLA_NODES", "3")],
    );
    assert_eq!(
        node_count(&bound),
        3,
        "the environment over the file: {bound}"
    );
    let (bound, _) = demo(
        dir.path(),
        &["--config", config, "--nodes", "1"],
        &[("FLOTILLA_NODES", "3")],
    );
    assert_eq!(node_count(&bound), 1, "the flag over both: {bound}");
}

#[test]
fn a_bad_file_stops_the_process_naming_file_and_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("nodes = \"five\"\n", "nodes"),
        ("heartbeat-msec = 50\n", "heartbeat-msec"),
        ("[demo]\nnodes = [1]\n", "demo.nodes"),
    ];
    for (text, key) in cases {
        let config = dir.path().join("bad.toml");
        std::fs::write(&config, text).expect("config");
        let finished = run_to_exit(
            &["demo", "--port", "0", "--config", config.to_str().unwrap()],
            Duration::from_secs(20),
        );
        assert_eq!(finished.code, Some(2), "{text:?}: {}", finished.stderr);
        assert!(
            finished.stderr.contains(key),
            "{text:?}: {}",
            finished.stderr
        );
        assert!(
            finished.stderr.contains(config.to_str().unwrap()),
            "{text:?}: {}",
            finished.stderr
        );
    }
}

#[test]
fn json_logs_are_one_object_per_line_at_the_levels_rust_log_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, log) = demo(
        dir.path(),
        &["--nodes", "1", "--log-format", "json"],
        &[("RUST_LOG", "info")],
    );
    let lines: Vec<&str> = log.lines().filter(|line| !line.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines");
    for line in &lines {
        let entry: Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"));
        assert!(entry["level"].is_string(), "{line}");
        assert!(entry["fields"].is_object(), "{line}");
    }
    assert!(
        lines.iter().any(|line| line.contains("node started")),
        "{log}"
    );
    let (_, quiet) = demo(dir.path(), &["--nodes", "1"], &[("RUST_LOG", "error")]);
    assert!(
        !quiet.contains("node started"),
        "RUST_LOG=error still logs info: {quiet}"
    );
}
