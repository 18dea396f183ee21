//! Writes are applied once however often they arrive: the same `Idempotency-Key` through the
//! demo's entry point or straight to a node gets the first answer again and changes nothing, a
//! write whose answer was lost on the way back is not applied twice when retried, and a reused
//! key on a different request is refused. Also: a node whose join never finished (a learner
//! left behind) gets no replicas, a timed-out join takes it out again, and `DELETE` removes one
//! that stayed.

use std::net::TcpListener;
use std::time::Duration;

use flotilla_tests::process::Proc;
use flotilla_tests::process::delete_keyed;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::post_keyed;
use flotilla_tests::process::wait_for;
use serde_json::Value;
use serde_json::json;

/// A demo of three nodes on ports the OS picks: its API and its nodes' addresses.
struct Demo {
    proc: Proc,
    nodes: Vec<String>,
    _data: tempfile::TempDir,
}

impl Demo {
    fn start() -> Demo {
        let data = tempfile::tempdir().expect("temp dir");
        let data_dir = data.path().join("data");
        let args = [
            "demo",
            "--port",
            "0",
            "--nodes",
            "3",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ];
        let (proc, bound) = Proc::start_on_free_ports(&args, data.path(), "demo");
        let nodes = (1..=3)
            .map(|n| bound["nodes"][n.to_string()].as_str().unwrap().to_string())
            .collect();
        let demo = Demo {
            proc,
            nodes,
            _data: data,
        };
        demo.leader();
        demo
    }

    fn api(&self) -> String {
        self.proc.addr.clone()
    }

    /// The leader's address, once there is one.
    fn leader(&self) -> String {
        wait_for(Duration::from_secs(20), "a leader", || {
            let (status, stats) = get(&self.api(), "/clusters/0/stats");
            let addr = stats["leader"]["addr"].as_str()?;
            (status == 200).then(|| addr.to_string())
        })
    }

    /// Services by label, as the leader has them: how many carry `label`.
    fn count(&self, label: &str) -> usize {
        let (status, state) = get(&self.api(), "/clusters/0/state");
        assert_eq!(status, 200, "{state}");
        state["services"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|service| service["label"] == label)
            .count()
    }
}

fn web(replicas: u64) -> Value {
    json!({"container": {"label": "web"}, "replicas": replicas})
}

#[test]
fn the_same_key_is_applied_once_through_the_entry_point_and_a_node() {
    let demo = Demo::start();
    let (status, first) = post_keyed(&demo.api(), "/clusters/0/service", &web(3), "create-web");
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_keyed(&demo.api(), "/clusters/0/service", &web(3), "create-web");
    assert_eq!((status, &again), (201, &first), "a retry answers what the first one did");
    // The id lives in the cluster, not in the entry point: a node answers the same.
    for node in &demo.nodes {
        let (status, direct) = post_keyed(node, "/service", &web(3), "create-web");
        assert_eq!((status, &direct), (201, &first), "through {node}");
    }
    assert_eq!(demo.count("web"), 1, "one service, however often it was asked for");

    // Straight to a node, with a key of its own.
    let node = &demo.nodes[1];
    let db = json!({"container": {"label": "db"}, "replicas": 1});
    let (status, direct) = post_keyed(node, "/service", &db, "create-db");
    assert_eq!(status, 201, "{direct}");
    assert_eq!(post_keyed(node, "/service", &db, "create-db"), (201, direct));
    assert_eq!(demo.count("db"), 1);

    // The same key on a different request: 422, nothing changes.
    let (status, reused) = post_keyed(&demo.api(), "/clusters/0/service", &web(5), "create-web");
    assert_eq!(status, 422, "{reused}");
    let error = reused["error"].as_str().unwrap();
    assert!(error.contains("idempotency key \"create-web\""), "{error}");
    assert_eq!(demo.count("web"), 1);
    let (_, state) = get(&demo.api(), "/clusters/0/state");
    let replicas: Vec<&Value> = state["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|service| &service["replicas"])
        .collect();
    assert_eq!(replicas, vec![&json!(3), &json!(1)], "{state}");

    // Scaling and deleting twice: the second answers like the first (not 404 for the delete).
    let id = first["services"][0]["id"].as_u64().unwrap();
    let scale = format!("/clusters/0/services/{id}/scale");
    let scaled = post_keyed(&demo.api(), &scale, &json!({"replicas": 4}), "scale-web");
    assert_eq!(scaled.0, 200, "{}", scaled.1);
    assert_eq!(post_keyed(&demo.api(), &scale, &json!({"replicas": 4}), "scale-web"), scaled);
    let path = format!("/clusters/0/services/{id}");
    let deleted = delete_keyed(&demo.api(), &path, &Value::Null, "delete-web");
    assert_eq!(deleted.0, 200, "{}", deleted.1);
    assert_eq!(delete_keyed(&demo.api(), &path, &Value::Null, "delete-web"), deleted);
    assert_eq!(demo.count("web"), 0);

    // Malformed keys: 400, nothing changes.
    for bad in ["has space", &"k".repeat(129)] {
        let (status, refused) = post_keyed(&demo.api(), "/clusters/0/service", &web(1), bad);
        assert_eq!(status, 400, "{refused}");
        assert!(refused["error"].as_str().unwrap().contains("Idempotency-Key"));
        let (status, refused) = post_keyed(node, "/service", &web(1), bad);
        assert_eq!(status, 400, "{refused}");
    }
    assert_eq!(demo.count("web"), 0);
    // Without a key every request is a new one, as before.
    assert_eq!(post(&demo.api(), "/clusters/0/service", &web(1)).0, 201);
    assert_eq!(post(&demo.api(), "/clusters/0/service", &web(1)).0, 201);
    assert_eq!(demo.count("web"), 2);
}

#[test]
fn a_write_whose_answer_was_lost_is_not_applied_twice() {
    let demo = Demo::start();
    let leader = demo.leader();
    let follower = demo.nodes.iter().find(|node| **node != leader).unwrap();
    // The leader's answers to the follower are lost: the follower forwards the write, the
    // leader commits it with the third node, and the follower never hears back.
    let (status, links) = post(&leader, "/connections", &json!({ follower.clone(): 0 }));
    assert_eq!(status, 200, "{links}");
    let (status, lost) = post_keyed(follower, "/service", &web(2), "lost-answer");
    assert_eq!(status, 503, "{lost}");
    assert!(lost["error"].as_str().unwrap().contains("may have been applied"), "{lost}");
    assert_eq!(demo.count("web"), 1, "the write was committed");
    let (status, _) = post(&leader, "/connections", &json!({ follower.clone(): 1 }));
    assert_eq!(status, 200);

    // The client retries with the same key, through the same node and the entry point alike.
    let (status, retried) = post_keyed(follower, "/service", &web(2), "lost-answer");
    assert_eq!(status, 201, "{retried}");
    let (status, via_entry) = post_keyed(&demo.api(), "/clusters/0/service", &web(2), "lost-answer");
    assert_eq!((status, &via_entry), (201, &retried));
    assert_eq!(demo.count("web"), 1, "the retry was not applied again");
}

/// Postcard's unsigned varint (LEB128).
fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// A process that says it is node `id` of whatever cluster asks (`/raft/ping` answers a
/// postcard `Identity`), and refuses every Raft message: a joiner that passes the leader's check
/// but never catches up, so its join stops half-way with a learner. Returns its port.
fn silent_joiner(id: u64) -> u16 {
    use std::io::BufRead;
    use std::io::BufReader;
    use std::io::Read;
    use std::io::Write;

    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let (mut length, mut cluster) = (0usize, String::new());
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        let (name, value) = header.split_once(':').unwrap_or((header, ""));
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "x-flotilla-cluster" => cluster = value.trim().to_string(),
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let (status, answer) = if request_line.contains("/raft/ping") {
                        let mut identity = Vec::new();
                        varint(id, &mut identity);
                        for text in [cluster.as_str(), "silent"] {
                            varint(text.len() as u64, &mut identity);
                            identity.extend_from_slice(text.as_bytes());
                        }
                        identity.push(0); // belongs: false
                        ("200 OK", identity)
                    } else {
                        ("500 Internal Server Error", b"not catching up".to_vec())
                    };
                    let head = format!(
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n",
                        answer.len()
                    );
                    let stream = reader.get_mut();
                    if stream.write_all(head.as_bytes()).is_err()
                        || stream.write_all(&answer).is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    port
}

/// Three `flotilla node` processes with a short request timeout; node 1 founds the cluster.
fn three_nodes(dir: &std::path::Path) -> Vec<Proc> {
    let mut nodes: Vec<Proc> = Vec::new();
    for id in 1..=3u16 {
        let data = dir.join(format!("node-{id}"));
        let id_text = id.to_string();
        let first = nodes.first().map(|node| node.addr.clone());
        let mut args = vec![
            "node",
            "--id",
            &id_text,
            "--listen",
            "localhost:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--request-timeout-ms",
            "3000",
        ];
        if let Some(first) = &first {
            args.extend(["--join", first]);
        }
        let (node, _) = Proc::start_on_free_ports(&args, dir, &format!("node-{id}"));
        if id == 1 {
            wait_for(Duration::from_secs(20), "node 1 to lead", || {
                (get(&node.addr, "/stats").1["role"] == "leader").then_some(())
            });
        }
        nodes.push(node);
    }
    wait_for(Duration::from_secs(30), "three voters", || {
        let (_, state) = get(&nodes[0].addr, "/state");
        (state["nodes"].as_array()?.len() == 3).then_some(())
    });
    nodes
}

/// The running node that leads, by index.
fn leader(nodes: &mut [Proc]) -> usize {
    wait_for(Duration::from_secs(20), "a leader", || {
        nodes.iter_mut().position(|node| {
            node.is_running() && get(&node.addr, "/stats").1["role"] == "leader"
        })
    })
}

fn members(addr: &str) -> Value {
    get(addr, "/stats").1["members"].clone()
}

#[test]
fn a_learner_left_by_a_failed_join_gets_no_replicas_and_is_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut nodes = three_nodes(dir.path());
    let joiner = silent_joiner(9);
    let join = json!({"host": "127.0.0.1", "port": joiner, "capacity": 50, "spawn": false});

    // A join that times out takes its learner out again.
    let first = leader(&mut nodes);
    let (status, failed) = post(&nodes[first].addr, "/nodes", &join);
    assert_eq!(status, 503, "{failed}");
    wait_for(Duration::from_secs(10), "the learner to be removed", || {
        members(&nodes[first].addr).get("9").is_none().then_some(())
    });

    // A leader that dies mid-join leaves the learner behind.
    let addr = nodes[first].addr.clone();
    let request = std::thread::spawn(move || post(&addr, "/nodes", &join));
    wait_for(Duration::from_secs(10), "the learner to be added", || {
        members(&nodes[first].addr).get("9").map(|_| ())
    });
    nodes[first].kill9();
    let _ = request.join();
    let now = leader(&mut nodes);
    let survivor = nodes[now].addr.clone();
    assert!(members(&survivor).get("9").is_some(), "the learner stayed");

    // It is no placement target: everything lands on the two voters, the rest waits.
    let (status, created) = post(
        &survivor,
        "/service",
        &json!({"container": {"label": "web"}, "replicas": 250}),
    );
    assert_eq!(status, 201, "{created}");
    let (_, state) = get(&survivor, "/state");
    let ids: Vec<u64> = state["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3], "{state}");
    let placement = &created["services"][0]["placement"];
    assert!(placement.get("9").is_none(), "{created}");

    // DELETE removes it, though it never was a voter.
    let (status, removed) = flotilla_tests::process::delete(
        &survivor,
        "/nodes",
        &json!({"host": "127.0.0.1", "port": joiner}),
    );
    assert_eq!(status, 200, "{removed}");
    wait_for(Duration::from_secs(10), "the learner to be gone", || {
        members(&survivor).get("9").is_none().then_some(())
    });
}
