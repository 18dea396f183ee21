//! The `flotilla` command line as a user meets it: help that names every subcommand and flag,
//! and clear errors for impossible settings. (Having integration tests also makes
//! `cargo test --workspace` build the binary that flotilla-tests' process tests run.)

use std::net::TcpListener;
use std::process::Command;

fn flotilla(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_flotilla"))
        .args(args)
        .output()
        .expect("run flotilla");
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

#[test]
fn help_names_the_subcommands_and_their_flags() {
    let (code, help) = flotilla(&["--help"]);
    assert_eq!(code, 0);
    assert!(help.contains("demo") && help.contains("node"), "{help}");
    let (_, demo) = flotilla(&["demo", "--help"]);
    for flag in [
        "--nodes",
        "--port",
        "--data-dir",
        "--bind",
        "--heartbeat-ms",
    ] {
        assert!(demo.contains(flag), "demo help lacks {flag}: {demo}");
    }
    let (_, node) = flotilla(&["node", "--help"]);
    for flag in ["--id", "--listen", "--join", "--capacity", "--data-dir"] {
        assert!(node.contains(flag), "node help lacks {flag}: {node}");
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, text) = flotilla(&["demo", "--port", &port, "--nodes", "1"]);
    assert_ne!(code, 0);
    assert!(
        text.contains("cannot listen") && text.contains(&port),
        "{text}"
    );
}

#[test]
fn inconsistent_raft_timing_is_refused() {
    let dir = std::env::temp_dir().join(format!("flotilla-cli-test-{}", std::process::id()));
    let (code, text) = flotilla(&[
        "node",
        "--id",
        "1",
        "--listen",
        "localhost:0",
        "--heartbeat-ms",
        "900",
        "--election-min-ms",
        "300",
        "--data-dir",
        dir.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_ne!(code, 0);
    assert!(text.to_lowercase().contains("timing"), "{text}");
}

#[test]
fn node_ids_start_at_one() {
    let (code, text) = flotilla(&["node", "--id", "0", "--listen", "localhost:1"]);
    assert_ne!(code, 0);
    assert!(text.contains("--id"), "{text}");
}
