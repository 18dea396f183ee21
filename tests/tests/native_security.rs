//! Security, end to end against real processes: each attack a stranger could make on an
//! unprotected cluster, refused — writes without the token, Raft messages without the
//! cluster's secret (stopping a node, proposing commands, poisoning terms, replays), joining a
//! cluster whose secret a node lacks, pages on other sites (content type, CORS, DNS rebinding),
//! and listening beyond loopback unprotected.

use std::time::Duration;

use flotilla::auth::ClusterSecret;
use flotilla::auth::PeerAuth;
use flotilla::transport::wire;
use flotilla::types::NativeTypes;
use flotilla_core::raft::Vote;
use flotilla_tests::demo::Demo;
use flotilla_tests::process::Proc;
use flotilla_tests::process::Reply;
use flotilla_tests::process::get;
use flotilla_tests::process::poll;
use flotilla_tests::process::send;
use flotilla_tests::process::wait_for;
use openraft::raft::VoteRequest;
use serde_json::Value;
use serde_json::json;

const TOKEN: &str = "test-token-0123456789";
const SECRET: &str = "test-secret-0123456789";

fn json_headers(token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("content-type", "application/json".to_string())];
    if let Some(token) = token {
        headers.push(("authorization", format!("Bearer {token}")));
    }
    headers
}

/// POSTs (or another method) JSON `body` to `addr` `path` with `token` if any.
fn write(method: &str, addr: &str, path: &str, body: &Value, token: Option<&str>) -> Reply {
    let headers = json_headers(token);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    send(
        method,
        addr,
        path,
        &headers,
        Some(body.to_string().into_bytes()),
    )
}

/// A three-node demo with `extra` flags: the demo, its API and its nodes' addresses.
fn demo(extra: &[&str]) -> (Demo, String, Vec<String>) {
    let demo = Demo::builder().nodes(3).args(extra).start();
    let (api, nodes) = (demo.api(), demo.nodes().to_vec());
    (demo, api, nodes)
}

fn assert_refused(reply: &Reply, status: u16, what: &str) {
    assert_eq!(reply.status, status, "{what}: {reply:?}");
    assert!(
        reply.json()["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{what}: a JSON error expected: {reply:?}"
    );
}

fn service_count(api: &str) -> usize {
    let (_, services) = get(api, "/clusters/0/services");
    services["services"].as_array().map_or(0, Vec::len)
}

#[test]
fn with_a_token_every_write_needs_it_and_reads_stay_open() {
    let (demo, api, nodes) = demo(&["--token", TOKEN]);
    let create = json!({"container": {"uniq_id": 0, "label": "web"}, "replicas": 3});

    // Every kind of write, without the token and with a wrong one: 401, nothing changes.
    let attempts: Vec<(&str, &str, &str, Value)> = vec![
        ("POST", api.as_str(), "/clusters/0/service", create.clone()),
        ("POST", api.as_str(), "/clusters", json!({"port": 1})),
        (
            "POST",
            api.as_str(),
            "/clusters/0/nodes",
            json!({"host": "localhost", "port": 1, "spawn": true}),
        ),
        (
            "DELETE",
            api.as_str(),
            "/clusters/0/nodes",
            json!({"host": "localhost", "port": nodes[0].rsplit_once(':').unwrap().1}),
        ),
        (
            "POST",
            nodes[1].as_str(),
            "/connections",
            json!({ nodes[0].clone(): 0 }),
        ),
        ("POST", nodes[1].as_str(), "/service", create.clone()),
        (
            "POST",
            nodes[1].as_str(),
            "/nodes",
            json!({"host": "localhost", "port": 1, "spawn": false}),
        ),
    ];
    for (method, addr, path, body) in &attempts {
        for token in [None, Some("wrong-token-0123456789")] {
            let reply = write(method, addr, path, body, token);
            assert_refused(
                &reply,
                401,
                &format!("{method} {addr}{path} with {token:?}"),
            );
            assert!(
                reply
                    .headers
                    .get("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer"))
            );
        }
    }
    assert_eq!(service_count(&api), 0);
    let (_, connections) = get(&nodes[1], "/connections");
    assert!(
        connections
            .as_object()
            .unwrap()
            .values()
            .all(|up| *up == json!(1)),
        "{connections}"
    );
    let (_, clusters) = get(&api, "/clusters");
    assert_eq!(
        clusters["clusters"].as_array().unwrap().len(),
        1,
        "{clusters}"
    );

    // Reads need nothing; writes with the token work, through the entry point and a node.
    assert_eq!(get(&api, "/clusters/0/stats").0, 200);
    assert_eq!(get(&nodes[2], "/stats").0, 200);
    let created = write("POST", &api, "/clusters/0/service", &create, Some(TOKEN));
    assert_eq!(created.status, 201, "{created:?}");
    let cut = write(
        "POST",
        &api,
        &format!("/clusters/0/nodes/{}/connections", nodes[1]),
        &json!({ nodes[0].clone(): 0 }),
        Some(TOKEN),
    );
    assert_eq!(cut.status, 200, "{cut:?}");
    let (_, connections) = get(&nodes[1], "/connections");
    assert_eq!(connections[&nodes[0]], json!(0), "{connections}");
    assert_eq!(service_count(&api), 1);

    // Even with the token, nodes start only on the ports --spawn-ports allows (8001-8999 here).
    for (path, body) in [
        (
            "/clusters/0/nodes",
            json!({"host": "localhost", "port": 22, "spawn": true}),
        ),
        ("/clusters", json!({"port": 40000, "nodes": 1})),
        ("/clusters", json!({"port": 8998, "nodes": 3})),
    ] {
        let refused = write("POST", &api, path, &body, Some(TOKEN));
        assert_refused(&refused, 403, path);
        assert!(refused.text.contains("--spawn-ports"), "{refused:?}");
    }
    let (_, clusters) = get(&api, "/clusters");
    assert_eq!(
        clusters["clusters"].as_array().unwrap().len(),
        1,
        "{clusters}"
    );
    drop(demo);
}

/// A Raft message to `addr`, signed as node `from` of `cluster` with `secret` (unsigned: only
/// the cluster and sender headers, as before clusters had secrets).
fn raft(
    addr: &str,
    path: &str,
    cluster: &str,
    secret: Option<&str>,
    from: u64,
    body: Vec<u8>,
) -> Reply {
    let auth = PeerAuth::new(
        cluster,
        secret.map(|s| ClusterSecret::new(s, "test").unwrap()),
    );
    let signed = auth.sign("POST", path, from, &body);
    raft_with(addr, path, &signed.headers, body)
}

fn raft_with(addr: &str, path: &str, headers: &[(&'static str, String)], body: Vec<u8>) -> Reply {
    let mut all: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    all.push(("content-type", wire::CONTENT_TYPE));
    send("POST", addr, path, &all, Some(body))
}

fn vote_request(term: u64, candidate: u64) -> Vec<u8> {
    let request = VoteRequest::<NativeTypes>::new(Vote::new(term, candidate), None);
    wire::encode(&request).unwrap().to_vec()
}

#[test]
fn raft_endpoints_accept_only_fresh_messages_signed_with_the_cluster_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = flotilla_tests::process::lone_node(dir.path(), &["--cluster-secret", SECRET]);
    let addr = node.addr.clone();
    let term = || get(&addr, "/stats").1["term"].as_u64().unwrap_or(0);
    let term_before = term();

    // A stranger (no secret, or a wrong one) cannot stop the node, propose, vote or append.
    let leave = wire::encode(&()).unwrap().to_vec();
    for secret in [None, Some("not-the-secret-0123456789")] {
        let reply = raft(&addr, wire::LEAVE, "0", secret, 2, leave.clone());
        assert_eq!(reply.status, 401, "{reply:?}");
        let internal = wire::encode(&wire::Proposal::Leave {
            id: 1,
            request: flotilla_core::model::RequestId::from_bits(7),
        })
        .unwrap()
        .to_vec();
        let reply = raft(&addr, wire::PROPOSE, "0", secret, 2, internal);
        assert_eq!(reply.status, 401, "{reply:?}");
        let reply = raft(
            &addr,
            wire::VOTE,
            "0",
            secret,
            2,
            vote_request(u64::MAX - 1, 2),
        );
        assert_eq!(reply.status, 401, "{reply:?}");
    }
    // Another cluster's message is refused even with the same secret.
    let reply = raft(
        &addr,
        wire::VOTE,
        "other",
        Some(SECRET),
        2,
        vote_request(term_before + 1, 2),
    );
    assert_eq!(reply.status, 403, "{reply:?}");

    // Even a holder of the secret cannot poison the term with one openraft would overflow on.
    let reply = raft(
        &addr,
        wire::VOTE,
        "0",
        Some(SECRET),
        2,
        vote_request(u64::MAX - 1, 2),
    );
    assert_eq!(reply.status, 400, "{reply:?}");
    // Nor stop the node unless it is the node's leader (here the node leads itself).
    let reply = raft(&addr, wire::LEAVE, "0", Some(SECRET), 2, leave.clone());
    assert_eq!(reply.status, 403, "{reply:?}");

    // A member may forward only what the public API makes: never the leader's own bookkeeping.
    let internal =
        flotilla_core::model::Write::from(flotilla_core::model::Command::MarkNodeDown { id: 1 });
    let body = wire::encode(&wire::Proposal::Command(internal))
        .unwrap()
        .to_vec();
    let reply = raft(&addr, wire::PROPOSE, "0", Some(SECRET), 2, body);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.text.contains("not accepted from other nodes"),
        "{reply:?}"
    );
    assert_eq!(
        get(&addr, "/stats").1["members"]
            .as_object()
            .map(|m| m.len()),
        Some(1)
    );

    // A signed message is accepted once: a captured copy replayed is refused.
    let auth = PeerAuth::new("0", Some(ClusterSecret::new(SECRET, "test").unwrap()));
    let ping = wire::encode(&()).unwrap().to_vec();
    let signed = auth.sign("POST", wire::PING, 2, &ping);
    assert_eq!(
        raft_with(&addr, wire::PING, &signed.headers, ping.clone()).status,
        200
    );
    let replayed = raft_with(&addr, wire::PING, &signed.headers, ping);
    assert_eq!(replayed.status, 401, "{replayed:?}");
    assert!(replayed.text.contains("already received"), "{replayed:?}");

    std::thread::sleep(Duration::from_millis(500));
    assert!(node.is_running(), "the node stopped:\n{}", node.log());
    assert_eq!(get(&addr, "/stats").1["role"], "leader");
    assert_eq!(term(), term_before, "the term moved");
}

#[test]
fn a_node_joins_only_a_cluster_whose_secret_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (_demo, api, _) = demo(&["--cluster-secret", SECRET]);
    let start_node = |id: &str, secret: &str| {
        let data = dir.path().join(format!("node-{id}"));
        let (node, _) = Proc::start_on_free_ports(
            &[
                "node",
                "--id",
                id,
                "--listen",
                "localhost:0",
                "--await-join",
                "--data-dir",
                data.to_str().unwrap(),
                "--cluster-secret",
                secret,
            ],
            dir.path(),
            &format!("node-{id}"),
        );
        let port = node.addr.rsplit_once(':').unwrap().1.to_string();
        (node, port)
    };
    let add = |port: &str| {
        write(
            "POST",
            &api,
            "/clusters/0/nodes",
            &json!({"host": "localhost", "port": port.parse::<u16>().unwrap(), "spawn": false}),
            None,
        )
    };

    let (stranger, port) = start_node("21", "another-secret-0123456789");
    let refused = add(&port);
    assert!(
        refused.status >= 400 && refused.status < 600 && refused.status != 201,
        "{refused:?}"
    );
    assert!(refused.json()["error"].is_string(), "{refused:?}");
    let (_, state) = get(&api, "/clusters/0/stats");
    assert_eq!(state["nodes"].as_array().unwrap().len(), 3, "{state}");
    let (_, stats) = get(&stranger.addr, "/stats");
    assert!(
        stats["members"].as_object().is_none_or(|m| m.is_empty()),
        "{stats}"
    );

    let (member, port) = start_node("22", SECRET);
    let added = add(&port);
    assert_eq!(added.status, 201, "{added:?}\n{}", member.log());
    wait_for(Duration::from_secs(10), "the new node to follow", || {
        let (_, stats) = get(&member.addr, "/stats");
        (stats["role"] == "follower").then_some(())
    });
}

#[test]
fn pages_on_other_sites_cannot_change_the_cluster() {
    let (_demo, api, nodes) = demo(&["--cors-origin", "http://page.example:8080"]);
    let create = json!({"container": {"label": "web"}, "replicas": 1}).to_string();

    // A plain form post (what any site may send without asking): refused, nothing created.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let headers: Vec<(&str, &str)> =
            content_type.iter().map(|t| ("content-type", *t)).collect();
        let reply = send(
            "POST",
            &api,
            "/clusters/0/service",
            &headers,
            Some(create.clone().into_bytes()),
        );
        assert_refused(&reply, 415, &format!("{content_type:?}"));
    }
    assert_eq!(service_count(&api), 0);

    // CORS: a site not named gets no permission; the named one does.
    let preflight = |origin: &str, addr: &str| {
        send(
            "OPTIONS",
            addr,
            "/clusters/0/service",
            &[
                ("origin", origin),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type"),
            ],
            None,
        )
    };
    let evil = preflight("http://evil.example", &api);
    assert!(
        !evil.headers.contains_key("access-control-allow-origin"),
        "{evil:?}"
    );
    let named = preflight("http://page.example:8080", &api);
    assert_eq!(
        named
            .headers
            .get("access-control-allow-origin")
            .map(String::as_str),
        Some("http://page.example:8080"),
        "{named:?}"
    );
    let on_node = preflight("http://evil.example", &nodes[0]);
    assert!(
        !on_node.headers.contains_key("access-control-allow-origin"),
        "{on_node:?}"
    );

    // DNS rebinding: a request naming another host is refused; loopback names are served.
    for addr in [&api, &nodes[0]] {
        let port = addr.rsplit_once(':').unwrap().1;
        let rebound = send(
            "GET",
            addr,
            "/stats",
            &[("host", &format!("evil.example:{port}"))],
            None,
        );
        assert_refused(&rebound, 403, "a rebound Host");
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
            let served = send("GET", addr, "/clusters", &[("host", &host)], None);
            assert_ne!(served.status, 403, "{host}: {served:?}");
        }
    }
}

#[test]
fn listening_beyond_loopback_needs_a_token_and_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut proc = Proc::start(args, "", dir.path(), "refused");
        let code = proc.wait_exit(Duration::from_secs(20));
        (code, proc.log())
    };
    let (code, log) = run(&["demo", "--bind", "0.0.0.0", "--port", "0"]);
    assert!(code.is_some_and(|c| c != 0), "{code:?} {log}");
    assert!(
        log.contains("--token") && log.contains("--insecure"),
        "{log}"
    );
    let (code, log) = run(&[
        "node",
        "--id",
        "1",
        "--listen",
        "192.0.2.1:0",
        "--token",
        TOKEN,
    ]);
    assert!(code.is_some_and(|c| c != 0), "{code:?} {log}");
    assert!(log.contains("--cluster-secret"), "{log}");
    let (code, log) = run(&["demo", "--port", "0", "--token", "short"]);
    assert!(code.is_some_and(|c| c != 0), "{code:?} {log}");
    assert!(log.contains("at least 16"), "{log}");

    // --insecure starts anyway.
    let (mut insecure, _) = Proc::start_on_free_ports(
        &[
            "demo",
            "--bind",
            "0.0.0.0",
            "--port",
            "0",
            "--insecure",
            "--nodes",
            "1",
        ],
        dir.path(),
        "insecure",
    );
    assert!(
        poll(Duration::from_secs(5), || insecure
            .is_running()
            .then_some(()))
        .is_some()
    );
}

/// A server that answers `/raft/ping` as a fresh node would (but holds no secret), or with
/// words of its own in an error, and claims, on `/stats`, to lead in a huge term: what an
/// attacker plants to draw the writes.
fn impostor(answers_ping: bool) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let identity = wire::Identity {
                id: 99,
                cluster: "0".into(),
                name: "n99".into(),
                belongs: false,
            };
            let ping = wire::encode(&identity).unwrap().to_vec();
            let app = axum::Router::new()
                .route(
                    "/raft/ping",
                    axum::routing::post(move || async move {
                        if answers_ping {
                            (axum::http::StatusCode::OK, ping)
                        } else {
                            let words = b"ECHO-ME: words a stranger wants shown to the client";
                            (axum::http::StatusCode::BAD_REQUEST, words.to_vec())
                        }
                    }),
                )
                .route(
                    "/stats",
                    axum::routing::get(|| async {
                        axum::Json(
                            json!({"id": 99, "role": "leader", "term": 1_000_000, "leader": 99}),
                        )
                    }),
                );
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    port
}

#[test]
fn an_impostor_that_answers_like_a_node_but_lacks_the_secret_is_not_added() {
    let (_demo, api, _) = demo(&[]);
    let port = impostor(true);
    let refused = write(
        "POST",
        &api,
        "/clusters/0/nodes",
        &json!({"host": "localhost", "port": port, "spawn": false}),
        None,
    );
    assert_ne!(refused.status, 201, "{refused:?}");
    assert!(
        refused
            .text
            .contains("not signed with the cluster's secret"),
        "{refused:?}"
    );
    let (_, state) = get(&api, "/clusters/0/stats");
    assert_eq!(state["nodes"].as_array().unwrap().len(), 3, "{state}");
    assert!(
        state["leader"]["term"].as_u64().unwrap() < 1_000_000,
        "{state}"
    );
    // A stranger's own words never reach the client.
    let port = impostor(false);
    let refused = write(
        "POST",
        &api,
        "/clusters/0/nodes",
        &json!({"host": "localhost", "port": port, "spawn": false}),
        None,
    );
    assert_ne!(refused.status, 201, "{refused:?}");
    assert!(!refused.text.contains("ECHO-ME"), "{refused:?}");
    let created = write(
        "POST",
        &api,
        "/clusters/0/service",
        &json!({"container": {"label": "a"}, "replicas": 1}),
        None,
    );
    assert_eq!(created.status, 201, "{created:?}");
}

#[test]
fn every_limit_refuses_what_passes_it_naming_its_flag_and_changes_nothing() {
    let (_demo, api, nodes) = demo(&[
        "--max-services",
        "2",
        "--max-replicas",
        "10",
        "--max-replicas-per-service",
        "6",
        "--max-label-chars",
        "8",
        "--max-containers",
        "2",
    ]);
    let create =
        |label: &str, replicas: u64| json!({"container": {"label": label}, "replicas": replicas});
    assert_eq!(
        write("POST", &api, "/clusters/0/service", &create("web", 6), None).status,
        201
    );
    let cases = [
        (
            api.as_str(),
            "/clusters/0/service",
            create("api", 5),
            409,
            "--max-replicas",
        ),
        (
            nodes[1].as_str(),
            "/service",
            create("api", 5),
            409,
            "--max-replicas",
        ),
        (
            api.as_str(),
            "/clusters/0/service",
            create("api", 7),
            422,
            "--max-replicas-per-service",
        ),
        (
            api.as_str(),
            "/clusters/0/service",
            create("a-long-label", 1),
            422,
            "--max-label-chars",
        ),
        (
            api.as_str(),
            "/clusters/0/service",
            json!({"containers": [{"label": "a", "replicas": 1}, {"label": "b", "replicas": 1}, {"label": "c", "replicas": 1}]}),
            422,
            "--max-containers",
        ),
    ];
    for (addr, path, body, status, flag) in &cases {
        let refused = write("POST", addr, path, body, None);
        assert_refused(&refused, *status, flag);
        assert!(refused.text.contains(flag), "{refused:?}");
    }
    assert_eq!(service_count(&api), 1);
    assert_eq!(
        write("POST", &api, "/clusters/0/service", &create("api", 4), None).status,
        201
    );
    let refused = write("POST", &api, "/clusters/0/service", &create("db", 1), None);
    assert_refused(&refused, 409, "--max-services");
    assert!(refused.text.contains("--max-services"), "{refused:?}");
    // Scaling up past the total is refused; down is always allowed.
    let (_, services) = get(&api, "/clusters/0/services");
    let id = services["services"][0]["id"].as_u64().unwrap();
    let scale = format!("/clusters/0/services/{id}/scale");
    let refused = write("POST", &api, &scale, &json!({"replicas": 7}), None);
    assert_refused(&refused, 422, "scale past --max-replicas-per-service");
    assert_eq!(
        write("POST", &api, &scale, &json!({"replicas": 1}), None).status,
        200
    );
    assert_eq!(service_count(&api), 2);
}

#[test]
fn a_server_takes_only_so_much_at_once_and_says_which_flag_limits_it() {
    let (_demo, api, nodes) = demo(&[
        "--max-body-bytes",
        "300",
        "--max-clusters",
        "1",
        "--max-event-streams",
        "1",
    ]);
    // A body past --max-body-bytes: 413, on the entry point and on a node.
    let big =
        json!({"container": {"label": "x".repeat(200)}, "replicas": 1, "padding": "y".repeat(200)});
    for (addr, path) in [
        (api.as_str(), "/clusters/0/service"),
        (nodes[0].as_str(), "/service"),
    ] {
        let refused = write("POST", addr, path, &big, None);
        assert_refused(&refused, 413, path);
        assert!(refused.text.contains("--max-body-bytes"), "{refused:?}");
    }
    // One cluster is the most: a second is refused.
    let refused = write("POST", &api, "/clusters", &json!({"port": 8101}), None);
    assert_refused(&refused, 409, "--max-clusters");
    assert!(refused.text.contains("--max-clusters"), "{refused:?}");
    // One event stream at a time.
    let _open = flotilla_tests::process::EventStream::open(
        &api,
        "/clusters/0/events",
        Duration::from_secs(10),
    );
    let second = flotilla_tests::process::EventStream::try_open(
        &api,
        "/clusters/0/events",
        Duration::from_secs(10),
    );
    let Err((status, body)) = second else {
        panic!("a second stream was opened")
    };
    assert_eq!(status, 429, "{body}");
    assert_eq!(service_count(&api), 0);
}

#[test]
fn writes_past_the_in_flight_limit_and_raft_bodies_past_theirs_are_refused() {
    let (_demo, _api, nodes) = demo(&[
        "--max-inflight-writes",
        "1",
        "--max-raft-body-bytes",
        "4096",
        "--cluster-secret",
        SECRET,
        "--request-timeout-ms",
        "4000",
    ]);
    // Node 3 cut off from the others: a write it takes waits for a leader it cannot reach.
    let lonely = &nodes[2];
    let cut_from: serde_json::Map<String, Value> =
        nodes[..2].iter().map(|n| (n.clone(), json!(0))).collect();
    assert_eq!(
        write(
            "POST",
            lonely,
            "/connections",
            &Value::Object(cut_from),
            None
        )
        .status,
        200
    );
    for other in &nodes[..2] {
        assert_eq!(
            write(
                "POST",
                other,
                "/connections",
                &json!({ lonely.clone(): 0 }),
                None
            )
            .status,
            200
        );
    }
    let waiting = {
        let lonely = lonely.clone();
        std::thread::spawn(move || {
            write(
                "POST",
                &lonely,
                "/service",
                &json!({"container": {"label": "slow"}, "replicas": 1}),
                None,
            )
        })
    };
    // Once the first holds the only slot, a second is refused at once.
    std::thread::sleep(Duration::from_millis(500));
    let refused = write(
        "POST",
        lonely,
        "/service",
        &json!({"container": {"label": "b"}, "replicas": 1}),
        None,
    );
    assert_refused(&refused, 503, "a second write while the first waits");
    assert!(
        refused.text.contains("--max-inflight-writes"),
        "{refused:?}"
    );
    assert_eq!(
        refused.headers.get("retry-after").map(String::as_str),
        Some("1"),
        "{refused:?}"
    );
    assert_eq!(get(lonely, "/stats").0, 200, "reads are not counted");
    let _ = waiting.join();

    // A Raft message over --max-raft-body-bytes is refused before it is read, even signed.
    let body = vec![0u8; 8192];
    let reply = raft(&nodes[0], wire::APPEND, "0", Some(SECRET), 2, body);
    assert_eq!(reply.status, 413, "{reply:?}");
}
