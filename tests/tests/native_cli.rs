//! The client commands of the real `flotilla` binary against a real `flotilla demo` started
//! with a token: every command's table (key fields present, columns aligned), its `--json`
//! (parsed), and the exit codes for success, a refusal (4xx), a missing or wrong token, an API
//! that is not there or does not answer and a bad command line; an HTTPS demo called with its
//! CA; and the completion scripts.

use std::collections::BTreeMap;

use flotilla_tests::cli::CliRun;
use flotilla_tests::cli::read_table;
use flotilla_tests::cli::run_cli;
use flotilla_tests::demo::Demo;
use flotilla_tests::process::Proc;
use flotilla_tests::process::free_ports;

/// The demo's token: writes need it.
const TOKEN: &str = "cli-test-token-0123456789";

/// Exit codes, as `flotilla --help` documents them.
const OK: i32 = 0;
const REFUSED: i32 = 1;
const USAGE: i32 = 2;
const UNREACHABLE: i32 = 3;
const UNAUTHORIZED: i32 = 4;
const SERVER: i32 = 5;

/// A five-node demo with a token, driven by the client commands.
struct CliDemo {
    demo: Demo,
}

impl CliDemo {
    fn start() -> CliDemo {
        CliDemo {
            demo: Demo::builder().args(&["--token", TOKEN]).start(),
        }
    }

    /// `flotilla ARGS --api <this demo>` with the demo's token.
    fn cli(&self, args: &[&str]) -> CliRun {
        self.cli_with(args, Some(TOKEN))
    }

    /// `flotilla ARGS --api <this demo>` with `token`.
    fn cli_with(&self, args: &[&str], token: Option<&str>) -> CliRun {
        let mut all = args.to_vec();
        all.extend(["--api", &self.demo.proc.addr, "--timeout", "60"]);
        let run = run_cli(&all, token);
        if run.code != OK {
            eprintln!("flotilla {}: {}", all.join(" "), run.stderr.trim());
        }
        run
    }

    /// `cli(args)`, which must succeed silently on stderr (no spinner off a terminal).
    fn ok(&self, args: &[&str]) -> CliRun {
        let run = self.cli(args);
        run.expect_code(OK, &args.join(" "));
        assert_eq!(
            run.stderr,
            "",
            "{}: nothing on stderr when not on a terminal",
            args.join(" ")
        );
        run
    }
}

/// The one line a failed command prints on stderr.
fn one_line(run: &CliRun) -> &str {
    let line = run.stderr.trim_end();
    assert!(
        line.starts_with("flotilla: ") && !line.contains('\n'),
        "one line: {:?}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "nothing on stdout when failing");
    line
}

fn cell<'a>(row: &'a BTreeMap<String, String>, heading: &str) -> &'a str {
    row.get(heading)
        .unwrap_or_else(|| panic!("no {heading} in {row:?}"))
}

fn number(row: &BTreeMap<String, String>, heading: &str) -> u64 {
    cell(row, heading)
        .parse()
        .unwrap_or_else(|_| panic!("{heading} is not a number in {row:?}"))
}

#[test]
fn status_shows_leader_term_commit_nodes_and_services() {
    let demo = CliDemo::start();
    let status = demo.ok(&["status", "--wait"]);
    for key in [
        "Cluster:",
        "Leader:",
        "Term:",
        "Commit index:",
        "Nodes:",
        "Services:",
    ] {
        assert!(status.stdout.contains(key), "{key}\n{}", status.stdout);
    }
    let nodes = read_table(&status.stdout, "ID");
    assert_eq!(nodes.len(), 5, "{}", status.stdout);
    let leaders: Vec<_> = nodes
        .iter()
        .filter(|node| cell(node, "ROLE") == "leader")
        .collect();
    assert_eq!(leaders.len(), 1, "{}", status.stdout);
    let leader_addr = cell(leaders[0], "ADDRESS");
    assert!(
        status.stdout.contains(&format!("({leader_addr}, id ")),
        "the Leader line names the leader's address:\n{}",
        status.stdout
    );
    for node in &nodes {
        assert_eq!(cell(node, "STATUS"), "up");
        assert_eq!(number(node, "CAPACITY"), 100);
        assert!(cell(node, "ADDRESS").starts_with("localhost:"));
    }

    let json = demo.ok(&["status", "--json"]).json();
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(5), "{json}");
    assert_eq!(json["leader"]["addr"], leader_addr, "{json}");
    assert!(json["commit_index"].as_u64().is_some(), "{json}");
}

#[test]
fn services_are_created_listed_shown_scaled_and_deleted() {
    let demo = CliDemo::start();
    demo.ok(&["status", "--wait"]);

    let created = demo.ok(&["service", "create", "--label", "web", "--replicas", "7"]);
    assert!(
        created.stdout.starts_with("Created service "),
        "{}",
        created.stdout
    );
    let rows = read_table(&created.stdout, "ID");
    assert_eq!(rows.len(), 1);
    assert_eq!(cell(&rows[0], "LABEL"), "web");
    assert_eq!(number(&rows[0], "REPLICAS"), 7);
    assert_eq!(number(&rows[0], "PLACED") + number(&rows[0], "PENDING"), 7);
    let web = cell(&rows[0], "ID").to_string();

    let db = demo
        .ok(&[
            "service",
            "create",
            "--label",
            "db",
            "--replicas",
            "3",
            "--uniq-id",
            "42",
            "--json",
        ])
        .json();
    assert_eq!(db["services"][0]["label"], "db", "{db}");
    assert_eq!(db["services"][0]["uniq_id"], 42, "{db}");
    let db_id = db["services"][0]["id"].as_u64().expect("an id").to_string();

    let list = demo.ok(&["service", "list"]);
    let rows = read_table(&list.stdout, "ID");
    let labels: Vec<&str> = rows.iter().map(|row| cell(row, "LABEL")).collect();
    assert_eq!(labels, ["web", "db"], "{}", list.stdout);
    let json = demo.ok(&["service", "list", "--json"]).json();
    assert_eq!(json["services"].as_array().map(Vec::len), Some(2), "{json}");

    let show = demo.ok(&["service", "show", &web]);
    assert!(show.stdout.contains("Label:"), "{}", show.stdout);
    assert!(show.stdout.contains("7 placed"), "{}", show.stdout);
    let placement = read_table(&show.stdout, "NODE");
    let placed: u64 = placement.iter().map(|row| number(row, "REPLICAS")).sum();
    assert_eq!(placed, 7, "{}", show.stdout);
    for row in &placement {
        assert!(cell(row, "ADDRESS").starts_with("localhost:"), "{row:?}");
        assert!(cell(row, "NAME").starts_with('n'), "{row:?}");
    }
    let json = demo.ok(&["service", "show", &db_id, "--json"]).json();
    assert_eq!(json["uniq_id"], 42, "{json}");

    let scaled = demo.ok(&["service", "scale", &web, "--replicas", "10"]);
    let rows = read_table(&scaled.stdout, "ID");
    assert_eq!(number(&rows[0], "REPLICAS"), 10, "{}", scaled.stdout);
    let json = demo
        .ok(&["service", "scale", &web, "--replicas", "2", "--json"])
        .json();
    assert_eq!(json["service"]["replicas"], 2, "{json}");

    // A refusal (4xx) is exit code 1, with the server's message, and changes nothing.
    let missing = demo.cli(&["service", "scale", "999", "--replicas", "1"]);
    missing.expect_code(REFUSED, "scaling a missing service");
    let line = one_line(&missing);
    assert!(line.contains("404"), "{line}");
    assert!(line.contains("no service with id 999"), "{line}");
    let too_many = demo.cli(&[
        "service",
        "create",
        "--label",
        "x",
        "--replicas",
        "99999999999",
    ]);
    too_many.expect_code(REFUSED, "too many replicas");
    one_line(&too_many);

    let deleted = demo.ok(&["service", "delete", &db_id]);
    assert!(
        deleted.stdout.starts_with("Deleted service"),
        "{}",
        deleted.stdout
    );
    demo.cli(&["service", "show", &db_id])
        .expect_code(REFUSED, "showing a deleted service");
    let json = demo.ok(&["service", "list", "--json"]).json();
    assert_eq!(json["services"].as_array().map(Vec::len), Some(1), "{json}");
}

#[test]
fn writes_need_the_servers_token() {
    let demo = CliDemo::start();
    demo.ok(&["status", "--wait"]);
    let create = ["service", "create", "--label", "web", "--replicas", "1"];

    let missing = demo.cli_with(&create, None);
    missing.expect_code(UNAUTHORIZED, "no token");
    let line = one_line(&missing);
    assert!(
        line.contains("401") && line.contains("FLOTILLA_TOKEN"),
        "{line}"
    );

    let wrong = demo.cli_with(&create, Some("not-the-token-0123456789"));
    wrong.expect_code(UNAUTHORIZED, "a wrong token");
    one_line(&wrong);

    // Reads need none; and the refused writes changed nothing.
    let list = demo.cli_with(&["service", "list", "--json"], None);
    list.expect_code(OK, "reading without a token");
    assert_eq!(list.json()["services"], serde_json::json!([]));
}

#[test]
fn nodes_are_added_listed_and_removed_and_links_cut_and_healed() {
    let demo = CliDemo::start();
    demo.ok(&["status", "--wait"]);

    let list = demo.ok(&["node", "list"]);
    let nodes = read_table(&list.stdout, "ID");
    assert_eq!(nodes.len(), 5, "{}", list.stdout);
    for node in &nodes {
        assert!(
            ["leader", "follower"].contains(&cell(node, "ROLE")),
            "{node:?}"
        );
        assert_eq!(cell(node, "CUT"), "-", "{node:?}");
        number(node, "TERM");
        number(node, "COMMIT");
    }
    let from = cell(&nodes[0], "ADDRESS").to_string();
    let to = cell(&nodes[1], "ADDRESS").to_string();

    let cut = demo.ok(&["link", "cut", &from, &to]);
    assert!(
        cut.stdout
            .starts_with(&format!("Cut the link {from} -> {to}"))
    );
    let links = read_table(&cut.stdout, "FROM");
    assert_eq!(links.len(), 4, "{}", cut.stdout);
    for link in &links {
        let expected = if cell(link, "TO") == to { "cut" } else { "up" };
        assert_eq!(cell(link, "LINK"), expected, "{link:?}");
        assert_eq!(cell(link, "FROM"), from);
    }
    let list = demo.ok(&["node", "list"]);
    let nodes = read_table(&list.stdout, "ID");
    let sender = nodes
        .iter()
        .find(|node| cell(node, "ADDRESS") == from)
        .expect("the sender");
    assert_eq!(cell(sender, "CUT"), to, "{}", list.stdout);
    let healed = demo.ok(&["link", "heal", &from, &to, "--json"]).json();
    assert_eq!(healed[&to], 1, "{healed}");
    let unknown = demo.cli(&["link", "cut", &from, "localhost:1"]);
    unknown.expect_code(REFUSED, "cutting a link to no peer");
    assert!(one_line(&unknown).contains("not a peer"));

    let port = free_ports(1).to_string();
    let addr = format!("localhost:{port}");
    let added = demo.ok(&[
        "node",
        "add",
        "--spawn",
        "--id",
        "extra",
        "--port",
        &port,
        "--capacity",
        "50",
    ]);
    let rows = read_table(&added.stdout, "ID");
    assert_eq!(cell(&rows[0], "ADDRESS"), addr, "{}", added.stdout);
    assert_eq!(cell(&rows[0], "NAME"), "extra");
    assert_eq!(number(&rows[0], "CAPACITY"), 50);
    let json = demo.ok(&["node", "list", "--json"]).json();
    assert_eq!(json["nodes"].as_array().map(Vec::len), Some(6), "{json}");
    demo.cli(&["node", "add", "--port", &port])
        .expect_code(REFUSED, "adding a node twice");

    let removed = demo.ok(&["node", "remove", &addr]);
    assert!(
        removed.stdout.starts_with("Removed node"),
        "{}",
        removed.stdout
    );
    assert!(removed.stdout.contains(&addr), "{}", removed.stdout);
    let status = demo.ok(&["status", "--json"]).json();
    let addrs: Vec<&str> = status["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|node| node["addr"].as_str())
        .collect();
    assert!(!addrs.contains(&addr.as_str()), "{addrs:?}");
    let again = demo.cli(&["node", "remove", "--host", "localhost", "--port", &port]);
    again.expect_code(REFUSED, "removing a node that left");
    one_line(&again);
}

#[test]
fn clusters_are_listed_and_created() {
    let demo = CliDemo::start();
    demo.ok(&["status", "--wait"]);
    let port = free_ports(2).to_string();
    let created = demo.ok(&[
        "cluster", "create", "--id", "side", "--nodes", "2", "--port", &port,
    ]);
    assert!(
        created
            .stdout
            .starts_with("Created cluster side of 2 nodes")
    );
    let list = demo.ok(&["cluster", "list"]);
    let clusters = read_table(&list.stdout, "ID");
    let ids: Vec<&str> = clusters.iter().map(|row| cell(row, "ID")).collect();
    assert_eq!(ids, ["0", "side"], "{}", list.stdout);
    assert_eq!(number(&clusters[1], "NODES"), 2);
    assert!(cell(&clusters[1], "ADDRESSES").contains(&format!("localhost:{port}")));
    let json = demo.ok(&["cluster", "list", "--json"]).json();
    assert_eq!(json["clusters"].as_array().map(Vec::len), Some(2), "{json}");

    let side = demo.ok(&["status", "--wait", "--cluster", "side"]);
    assert_eq!(read_table(&side.stdout, "ID").len(), 2, "{}", side.stdout);
    let missing = demo.cli(&["status", "--cluster", "nope"]);
    missing.expect_code(REFUSED, "a cluster that does not exist");
    assert!(one_line(&missing).contains("no cluster"));
    let taken = demo.cli(&["cluster", "create", "--id", "side", "--port", &port]);
    taken.expect_code(REFUSED, "a cluster id taken");
}

#[test]
fn an_api_that_is_not_there_is_exit_code_3() {
    let port = free_ports(1);
    let run = run_cli(&["status", "--api", &format!("localhost:{port}")], None);
    run.expect_code(UNREACHABLE, "nothing listening");
    let line = one_line(&run);
    assert!(line.contains("cannot reach the API"), "{line}");
    let run = run_cli(
        &[
            "service",
            "list",
            "--api",
            &format!("http://127.0.0.1:{port}/"),
        ],
        None,
    );
    run.expect_code(UNREACHABLE, "nothing listening");
}

#[test]
fn an_api_that_does_not_answer_in_time_is_exit_code_5() {
    // Connections complete in the listener's backlog, and nothing ever answers them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("address");
    let run = run_cli(
        &[
            "service",
            "list",
            "--api",
            &addr.to_string(),
            "--timeout",
            "1",
        ],
        None,
    );
    run.expect_code(SERVER, "no answer");
    assert!(one_line(&run).contains("--timeout"), "{}", run.stderr);
}

#[test]
fn an_https_api_is_called_trusting_the_ca_given() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let ca_dir = path("ca");
    run_cli(&["certs", "ca", "--out", &ca_dir], None).expect_code(OK, "certs ca");
    run_cli(
        &[
            "certs",
            "node",
            "--ca",
            &ca_dir,
            "--name",
            "demo",
            "--host",
            "localhost",
            "--out",
            &path("demo"),
        ],
        None,
    )
    .expect_code(OK, "certs node");
    let ca = path("ca/ca.pem");
    let (demo, _) = Proc::start_on_free_ports(
        &[
            "demo",
            "--port",
            "0",
            "--nodes",
            "3",
            "--token",
            TOKEN,
            "--tls-cert",
            &path("demo/demo.pem"),
            "--tls-key",
            &path("demo/demo-key.pem"),
            "--tls-ca",
            &ca,
        ],
        dir.path(),
        "demo",
    );
    let https = format!("https://{}", demo.addr);
    let status = run_cli(
        &[
            "status",
            "--wait",
            "--api",
            &https,
            "--tls-ca",
            &ca,
            "--timeout",
            "60",
        ],
        None,
    );
    status.expect_code(OK, "status over HTTPS");
    assert_eq!(
        read_table(&status.stdout, "ID").len(),
        3,
        "{}",
        status.stdout
    );
    // Without a scheme, --tls-ca means https.
    run_cli(
        &[
            "service",
            "create",
            "--label",
            "web",
            "--replicas",
            "2",
            "--api",
            &demo.addr,
            "--tls-ca",
            &ca,
            "--timeout",
            "60",
        ],
        Some(TOKEN),
    )
    .expect_code(OK, "a write over HTTPS");
    let untrusted = run_cli(&["status", "--api", &https], None);
    untrusted.expect_code(UNREACHABLE, "an HTTPS API without its CA");
    assert!(
        one_line(&untrusted).contains("--tls-ca"),
        "{}",
        untrusted.stderr
    );
}

#[test]
fn a_bad_command_line_is_exit_code_2() {
    run_cli(&["service", "scale", "web", "--replicas", "1"], None)
        .expect_code(USAGE, "a service id that is not a number");
    run_cli(&["service", "create", "--label", "x"], None).expect_code(USAGE, "no --replicas");
    let bad_api = run_cli(&["status", "--api", "ftp://localhost:1"], None);
    bad_api.expect_code(USAGE, "an --api that is not http");
    assert!(one_line(&bad_api).contains("--api"));
    let bad_ca = run_cli(&["status", "--tls-ca", "/nonexistent/ca.pem"], None);
    bad_ca.expect_code(USAGE, "a --tls-ca that cannot be read");
    assert!(one_line(&bad_ca).contains("--tls-ca"));
    run_cli(&["node", "remove", "localhost"], None).expect_code(USAGE, "an ADDR with no port");
}

#[test]
fn help_documents_the_exit_codes_and_completions_produce_scripts() {
    for args in [
        &["--help"][..],
        &["status", "--help"],
        &["service", "scale", "--help"],
    ] {
        let help = run_cli(args, None);
        help.expect_code(OK, "help");
        assert!(
            help.stdout.contains("Exit codes") && help.stdout.contains("3  the API could not"),
            "{args:?}: {}",
            help.stdout
        );
    }
    let expectations = [
        ("bash", "complete -F"),
        ("zsh", "#compdef flotilla"),
        ("fish", "complete -c flotilla"),
    ];
    for (shell, marker) in expectations {
        let script = run_cli(&["completions", shell], None);
        script.expect_code(OK, shell);
        assert!(script.stdout.contains(marker), "{shell}: {}", script.stdout);
        for word in ["status", "service", "link", "cluster"] {
            assert!(script.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    run_cli(&["completions", "tcsh"], None).expect_code(USAGE, "an unknown shell");
    // `flotilla node` still runs a node: without --id and --listen it is a usage error.
    run_cli(&["node"], None).expect_code(USAGE, "node without flags");
}
