//! End to end against the real `flotilla demo` process: every command of the seed README (with
//! the ports moved so tests can run side by side), link cuts seen in /connections and in
//! replication, and bad input refused with JSON errors that change nothing.

use std::time::Duration;

use flotilla_tests::demo::Demo;
use flotilla_tests::process::EventStream;
use flotilla_tests::process::Proc;
use flotilla_tests::process::delete;
use flotilla_tests::process::free_ports;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::post_announcing;
use flotilla_tests::process::post_raw;
use flotilla_tests::process::wait_for;
use serde_json::Value;
use serde_json::json;

/// The secret the tests' demos and the nodes that join them share.
const CLUSTER_SECRET: &str = "demo-test-secret-0123456789";

/// A five-node demo whose cluster `flotilla node` processes can join (they share its secret).
fn start_demo() -> Demo {
    Demo::builder()
        .args(&["--cluster-secret", CLUSTER_SECRET])
        .start()
}

fn total_load(state: &Value) -> u64 {
    state["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["load"].as_u64().unwrap())
        .sum()
}

#[test]
fn the_seed_readme_works_verbatim_against_the_demo() {
    let demo = start_demo();
    let api = demo.api();

    // curl localhost:8000/clusters
    let (status, clusters) = get(&api, "/clusters");
    assert_eq!(status, 200);
    assert_eq!(clusters["clusters"][0]["id"], "0");
    assert_eq!(
        clusters["clusters"][0]["nodes"].as_array().unwrap().len(),
        5
    );

    // The seed's service request, byte for byte.
    let (status, created) = post_raw(
        &api,
        "/clusters/0/service",
        r#"{"container": {"uniq_id": 0, "label": "description"}, "replicas": 99}"#,
    );
    assert_eq!(status, 201, "{created}");
    let log_index = created["log_index"].as_u64().expect("log_index");
    assert!(log_index > 0);
    let service = &created["services"][0];
    assert_eq!(service["label"], "description");
    assert_eq!(service["running"], 99);
    assert_eq!(service["pending"], 0);
    let placed: u64 = service["placement"]
        .as_object()
        .unwrap()
        .values()
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!(placed, 99);

    // The README's second shape.
    let (status, created) = post_raw(
        &api,
        "/clusters/0/service",
        r#"{"containers": [{"description": "container 0", "replicas": 10}, {"description": "container 1", "replicas": 10}]}"#,
    );
    assert_eq!(status, 201, "{created}");
    assert!(created["log_index"].as_u64().unwrap() > log_index);
    assert_eq!(created["services"].as_array().unwrap().len(), 2);

    // curl localhost:8000/clusters/0/stats: leader, term, commit index, loads, services.
    let stats = demo.wait_for_leader();
    assert!(stats["term"].as_u64().unwrap() >= 1);
    assert!(stats["commit_index"].as_u64().unwrap() >= log_index);
    assert_eq!(total_load(&stats), 119);
    assert_eq!(stats["services"].as_array().unwrap().len(), 3);
    let (status, nodes) = get(&api, "/clusters/0");
    assert_eq!(status, 200);
    assert_eq!(nodes["nodes"].as_array().unwrap().len(), 5);

    // Spawn and connect a new node (port 8099 in the README): the request names its port.
    let spawned_port = free_ports(1);
    let (status, added) = post(
        &api,
        "/clusters/0/nodes",
        &json!({"id": "custom0", "host": "localhost", "port": spawned_port, "capacity": 100, "spawn": true}),
    );
    assert_eq!(status, 201, "{added}\n{}", demo.proc.log());
    assert_eq!(added["node"]["name"], "custom0");
    let (status, own) = get(&format!("localhost:{spawned_port}"), "/stats");
    assert_eq!(status, 200);
    assert_eq!(own["name"], "custom0");
    assert_eq!(demo.state()["nodes"].as_array().unwrap().len(), 6);

    // Remove the node on 8001 (port as a string, as the README sends it).
    let first = demo.node(1);
    let (status, removed) = delete(
        &api,
        "/clusters/0/nodes",
        &json!({"host": "localhost", "port": first.rsplit_once(':').unwrap().1}),
    );
    assert_eq!(status, 200, "{removed}\n{}", demo.proc.log());
    wait_for(
        Duration::from_secs(10),
        "the removed node to stop serving",
        || (get(&first, "/stats").0 == 0).then_some(()),
    );
    let state = wait_for(
        Duration::from_secs(10),
        "5 nodes and all replicas placed",
        || {
            let state = demo.state();
            let nodes = state["nodes"].as_array().unwrap();
            let gone = nodes.iter().all(|node| node["addr"] != first.as_str());
            (gone && nodes.len() == 5 && total_load(&state) == 119).then_some(state)
        },
    );
    assert_eq!(state["pending"], 0);

    // Kill the connection from the node on 8004 to the node on 8002.
    let (status, links) = post_raw(
        &demo.node(4),
        "/connections/",
        &format!(r#"{{"{}": 0}}"#, demo.node(2)),
    );
    assert_eq!(status, 200, "{links}");
    let (_, links) = get(&demo.node(4), "/connections");
    assert_eq!(links[demo.node(2).as_str()], 0);
    assert_eq!(links[demo.node(3).as_str()], 1);
    let (_, back) = get(&demo.node(2), "/connections");
    assert_eq!(back[demo.node(4).as_str()], 1, "links are directed");
}

#[test]
fn a_cut_link_shows_in_replication_and_heals() {
    let demo = start_demo();
    let stats = demo.wait_for_leader();
    let leader_addr = stats["leader"]["addr"].as_str().unwrap().to_string();
    let follower = (1..=5)
        .map(|n| demo.node(n))
        .find(|addr| *addr != leader_addr)
        .unwrap();
    let (_, own) = get(&follower, "/stats");
    let follower_id = own["id"].as_u64().unwrap();

    // Cut the follower's link to the leader: its acknowledgements no longer arrive.
    let (status, _) = post(
        &follower,
        "/connections",
        &json!({ leader_addr.clone(): 0 }),
    );
    assert_eq!(status, 200);
    let (status, created) = post(
        &demo.api(),
        "/clusters/0/service",
        &json!({"container": {"label": "web"}, "replicas": 5}),
    );
    assert_eq!(status, 201, "{created}");
    let index = created["log_index"].as_u64().unwrap();
    // Wait until the follower has stored the entry and the leader has heard every other member
    // acknowledge it: by then the follower's acknowledgement would have arrived too, were its
    // link up.
    let leader = wait_for(
        Duration::from_secs(10),
        "the follower to store the entry and the others to acknowledge it",
        || {
            let (_, own) = get(&follower, "/stats");
            let stored = own["last_log_index"].as_u64()? >= index;
            let (_, leader) = get(&leader_addr, "/stats");
            let others_acknowledged = leader["peers"]
                .as_array()?
                .iter()
                .filter(|peer| peer["id"].as_u64() != Some(follower_id))
                .all(|peer| peer["match_index"].as_u64() >= Some(index));
            (stored && others_acknowledged).then_some(leader)
        },
    );
    let matched = match_index(&leader, follower_id).unwrap_or(0);
    assert!(
        matched < index,
        "the leader cannot know the follower stored {index}: {leader}"
    );

    // Heal: the leader learns the follower has everything.
    let (status, _) = post(
        &follower,
        "/connections",
        &json!({ leader_addr.clone(): 1 }),
    );
    assert_eq!(status, 200);
    wait_for(
        Duration::from_secs(10),
        "the leader to see the follower caught up",
        || {
            let (_, leader) = get(&leader_addr, "/stats");
            let matched = match_index(&leader, follower_id)?;
            (matched >= index).then_some(())
        },
    );
}

#[test]
fn healing_a_one_way_cut_leaves_leader_and_term_alone() {
    let demo = start_demo();
    let stats = demo.wait_for_leader();
    let leader_addr = stats["leader"]["addr"].as_str().unwrap().to_string();
    let (_, leader) = get(&leader_addr, "/stats");
    let (leader_id, term) = (
        leader["id"].as_u64().unwrap(),
        leader["term"].as_u64().unwrap(),
    );
    let follower = (1..=5)
        .map(|n| demo.node(n))
        .find(|addr| *addr != leader_addr)
        .unwrap();

    // Cut the link from the leader to the follower: it hears no heartbeats and its election
    // timer runs out again and again, but what it sends still arrives. With pre-vote it learns
    // it could not win (the others hear the leader) and keeps its term; without, each timeout
    // raised its term, and that term deposed the leader as soon as the link healed.
    let (status, _) = post(
        &leader_addr,
        "/connections",
        &json!({ follower.clone(): 0 }),
    );
    assert_eq!(status, 200);
    // Not a stand-in for a condition: several election timeouts (300–600 ms) must pass.
    std::thread::sleep(Duration::from_secs(3));
    let (_, alone) = get(&follower, "/stats");
    assert_eq!(
        alone["term"].as_u64(),
        Some(term),
        "the cut-off follower's term: {alone}"
    );

    let (status, _) = post(
        &leader_addr,
        "/connections",
        &json!({ follower.clone(): 1 }),
    );
    assert_eq!(status, 200);
    // A write after the heal: the follower must have answered the leader since.
    let (status, created) = post(
        &demo.api(),
        "/clusters/0/service",
        &json!({"container": {"label": "after-heal"}, "replicas": 1}),
    );
    assert_eq!(status, 201, "{created}");
    let index = created["log_index"].as_u64().unwrap();
    wait_for(
        Duration::from_secs(10),
        "the follower to commit the write made after the heal",
        || {
            let (_, own) = get(&follower, "/stats");
            (own["commit_index"].as_u64()? >= index && own["leader"].as_u64() == Some(leader_id))
                .then_some(())
        },
    );
    let (_, after) = get(&leader_addr, "/stats");
    assert_eq!(after["role"], "leader", "{after}");
    assert_eq!(after["term"].as_u64(), Some(term), "{after}");
}

#[test]
fn a_service_created_through_one_node_can_be_scaled_through_another_at_once() {
    let demo = start_demo();
    demo.wait_for_leader();
    let (creator, scaler) = (demo.node(2), demo.node(3));
    for round in 0..500 {
        let (status, created) = post(
            &creator,
            "/service",
            &json!({"container": {"label": "ryw"}, "replicas": 1}),
        );
        assert_eq!(status, 201, "round {round}: {created}");
        let id = created["services"][0]["id"].as_u64().unwrap();
        let (status, scaled) = post(
            &scaler,
            &format!("/services/{id}/scale"),
            &json!({"replicas": 0}),
        );
        assert_eq!(status, 200, "round {round}: scaling service {id}: {scaled}");
    }
}

/// What a leader's `/stats` says it knows `follower` stores (its match index), if it says.
fn match_index(leader_stats: &Value, follower: u64) -> Option<u64> {
    leader_stats["peers"]
        .as_array()?
        .iter()
        .find(|peer| peer["id"].as_u64() == Some(follower))?["match_index"]
        .as_u64()
}

#[test]
fn bad_input_gets_a_json_error_and_changes_nothing() {
    let demo = start_demo();
    let api = demo.api();
    let (status, _) = post(
        &api,
        "/clusters/0/service",
        &json!({"container": {"label": "kept"}, "replicas": 3}),
    );
    assert_eq!(status, 201);
    let before = demo.state();

    let cases: Vec<(&str, &str, &str, u16)> = vec![
        ("POST", "/clusters/0/service", "", 400),
        ("POST", "/clusters/0/service", "{not json", 400),
        ("POST", "/clusters/0/service", "[]", 400),
        (
            "POST",
            "/clusters/0/service",
            r#"{"container": {"label": "x"}, "replicas": -1}"#,
            422,
        ),
        (
            "POST",
            "/clusters/0/service",
            r#"{"container": {"label": "x"}, "replicas": "many"}"#,
            422,
        ),
        ("POST", "/clusters/0/service", r#"{"containers": []}"#, 422),
        (
            "POST",
            "/clusters/0/service",
            r#"{"container": {"label": ""}, "replicas": 1}"#,
            422,
        ),
        (
            "POST",
            "/clusters/0/service",
            r#"{"container": {"label": "x"}, "replicas": 99999999999}"#,
            422,
        ),
        (
            "POST",
            "/clusters/9/service",
            r#"{"container": {"label": "x"}, "replicas": 1}"#,
            404,
        ),
        ("GET", "/clusters/9/stats", "", 404),
        ("GET", "/no/such/path", "", 404),
        ("POST", "/clusters/0/nodes", r#"{"host": "localhost"}"#, 400),
        (
            "POST",
            "/clusters/0/nodes",
            r#"{"host": "localhost", "port": 99999}"#,
            422,
        ),
        (
            "DELETE",
            "/clusters/0/nodes",
            r#"{"host": "localhost", "port": 1}"#,
            404,
        ),
        (
            "POST",
            "/clusters/0/services/77/scale",
            r#"{"replicas": 2}"#,
            404,
        ),
        (
            "POST",
            "/clusters/0/services/abc/scale",
            r#"{"replicas": 2}"#,
            400,
        ),
        ("POST", "/clusters", r#"{"nodes": 3}"#, 400),
    ];
    for (method, path, body, expected) in cases {
        let (status, answer) = match method {
            "GET" => get(&api, path),
            "DELETE" => {
                flotilla_tests::process::delete(&api, path, &serde_json::from_str(body).unwrap())
            }
            _ => post_raw(&api, path, body),
        };
        assert_eq!(status, expected, "{method} {path} {body}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|error| !error.is_empty()),
            "{method} {path} {body}: no JSON error in {answer}"
        );
    }
    // A body over the limit: 413 with a JSON error, before the client sends any of it.
    let (status, answer) = post_announcing(&api, "/clusters/0/service", 2 << 20);
    assert_eq!(status, 413, "{answer}");
    assert!(answer["error"].is_string(), "{answer}");
    // Link changes naming unknown peers, or bad values, change no link.
    let (status, _) = post_raw(&demo.node(1), "/connections", r#"{"localhost:1": 0}"#);
    assert_eq!(status, 404);
    let (status, _) = post_raw(
        &demo.node(1),
        "/connections",
        &format!(r#"{{"{}": 0, "localhost:1": 0}}"#, demo.node(2)),
    );
    assert_eq!(status, 404);
    let (status, _) = post_raw(&demo.node(1), "/connections", r#"{"x": 7}"#);
    assert_eq!(status, 422);
    let (_, links) = get(&demo.node(1), "/connections");
    assert!(
        links.as_object().unwrap().values().all(|up| *up == 1),
        "{links}"
    );

    let after = demo.state();
    assert_eq!(before["services"], after["services"]);
    assert_eq!(before["nodes"], after["nodes"]);
    assert_eq!(before["commit_index"], after["commit_index"]);
}

#[test]
fn services_scale_and_delete_and_another_cluster_starts_alongside() {
    let demo = start_demo();
    let api = demo.api();
    let (status, created) = post(
        &api,
        "/clusters/0/services",
        &json!({"container": {"label": "web"}, "replicas": 10}),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["services"][0]["id"].as_u64().unwrap();

    // Scale up through the entry point, down through a node: placements follow.
    let (status, scaled) = post(
        &api,
        &format!("/clusters/0/services/{id}/scale"),
        &json!({"replicas": 25}),
    );
    assert_eq!(status, 200, "{scaled}");
    assert_eq!(total_load(&demo.state()), 25);
    let (status, scaled) = post(
        &demo.node(2),
        &format!("/services/{id}/scale"),
        &json!({"replicas": 4}),
    );
    assert_eq!(status, 200, "{scaled}");
    let (status, service) = get(&api, &format!("/clusters/0/services/{id}"));
    assert_eq!(status, 200, "{service}");
    assert_eq!(service["replicas"], 4);
    assert_eq!(total_load(&demo.state()), 4);

    // Delete it: gone from the list, every node's load back to zero.
    let (status, listed) = get(&api, "/clusters/0/services");
    assert_eq!(status, 200);
    assert_eq!(listed["services"].as_array().unwrap().len(), 1);
    let (status, deleted) = delete(&api, &format!("/clusters/0/services/{id}"), &json!({}));
    assert_eq!(status, 200, "{deleted}");
    let (_, listed) = get(&api, "/clusters/0/services");
    assert_eq!(listed["services"].as_array().unwrap().len(), 0);
    assert_eq!(total_load(&demo.state()), 0);
    let (status, _) = get(&api, &format!("/clusters/0/services/{id}"));
    assert_eq!(status, 404);

    // A second, unconnected cluster on ports the request names; a duplicate id is refused.
    let port = free_ports(3);
    let (status, answer) = post(
        &api,
        "/clusters",
        &json!({"id": "blue", "nodes": 3, "port": port}),
    );
    assert_eq!(status, 201, "{answer}\n{}", demo.proc.log());
    // The leader is known before it has applied the membership that names the nodes: wait
    // for both.
    let blue = wait_for(
        Duration::from_secs(20),
        "a leader in cluster blue that lists its 3 nodes",
        || {
            let (status, state) = get(&api, "/clusters/blue/stats");
            let listed = state["nodes"].as_array().map_or(0, Vec::len);
            (status == 200 && state["leader"].is_object() && listed == 3).then_some(state)
        },
    );
    assert_eq!(blue["nodes"].as_array().unwrap().len(), 3);
    let (status, created) = post(
        &api,
        "/clusters/blue/service",
        &json!({"container": {"label": "db"}, "replicas": 2}),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        total_load(&demo.state()),
        0,
        "cluster 0 is not connected to blue"
    );
    let (status, answer) = post(&api, "/clusters", &json!({"id": "blue", "port": port + 10}));
    assert_eq!(status, 409, "{answer}");
    let (_, clusters) = get(&api, "/clusters");
    assert_eq!(clusters["clusters"].as_array().unwrap().len(), 2);
}

#[test]
fn a_node_started_with_await_join_is_added_with_spawn_false_and_one_with_its_own_cluster_is_refused()
 {
    let demo = start_demo();
    let api = demo.api();
    let dir = tempfile::tempdir().expect("temp dir");
    // A `flotilla node` on a port the OS picks; its address and port.
    let start_node = |id: &str, extra: &[&str]| {
        let data = dir.path().join(format!("node-{id}"));
        let mut args = vec![
            "node",
            "--id",
            id,
            "--listen",
            "localhost:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--cluster-secret",
            CLUSTER_SECRET,
        ];
        args.extend(extra);
        let (node, _) = Proc::start_on_free_ports(&args, dir.path(), &format!("node-{id}"));
        let port: u16 = node.addr.rsplit_once(':').unwrap().1.parse().unwrap();
        (node, port)
    };

    // Waiting to be added: the seed's POST /nodes with "spawn": false adds it.
    let (waiting, port) = start_node("21", &["--await-join"]);
    let (status, added) = post(
        &api,
        "/clusters/0/nodes",
        &json!({"id": "outside", "host": "localhost", "port": port, "capacity": 50, "spawn": false}),
    );
    assert_eq!(status, 201, "{added}\n{}", waiting.log());
    assert_eq!(added["node"]["name"], "outside");
    let state = demo.state();
    assert_eq!(state["nodes"].as_array().unwrap().len(), 6, "{state}");
    wait_for(Duration::from_secs(10), "the new node to follow", || {
        let (_, stats) = get(&waiting.addr, "/stats");
        (stats["role"] == "follower" && stats["leader"].is_u64()).then_some(())
    });

    // A node that founded a cluster of its own cannot be added: its log would conflict.
    let (founder, port) = start_node("22", &[]);
    let (status, refused) = post(
        &api,
        "/clusters/0/nodes",
        &json!({"host": "localhost", "port": port, "spawn": false}),
    );
    assert_eq!(status, 409, "{refused}\n{}", founder.log());
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|error| error.contains("already belongs to a cluster")),
        "{refused}"
    );
    assert_eq!(demo.state()["nodes"].as_array().unwrap().len(), 6);
}

#[test]
fn the_cluster_event_stream_shows_every_node_link_cuts_services_and_members_leaving() {
    let demo = start_demo();
    let api = demo.api();
    let mut events = EventStream::open(&api, "/clusters/0/events", Duration::from_secs(60));

    // First the node list, then every node's summary; one of them leads.
    let (name, members) = events.next_event().expect("a first event");
    assert_eq!(name, "members", "the node list comes first: {members}");
    assert_eq!(members["nodes"].as_array().unwrap().len(), 5, "{members}");
    let mut latest = std::collections::BTreeMap::new();
    let leader = events.until("a summary from every node, one a leader", |name, data| {
        if name == "node" {
            latest.insert(data["addr"].as_str().unwrap().to_string(), data.clone());
        }
        let leader = latest.values().find(|node| node["role"] == "leader")?;
        (latest.len() == 5).then(|| leader["addr"].as_str().unwrap().to_string())
    });
    assert!(
        latest
            .values()
            .all(|node| node["capacity"] == 100 && node["term"].as_u64() >= Some(1))
    );

    // A link cut through a node's /connections (the seed's request) is published by that node.
    let (from, to) = (demo.node(4), demo.node(2));
    let (status, _) = post_raw(&from, "/connections/", &format!(r#"{{"{to}": 0}}"#));
    assert_eq!(status, 200);
    events.until("n4 reporting its cut link to n2", |name, data| {
        (name == "node" && data["addr"] == from.as_str() && data["connections"][&to] == 0)
            .then_some(())
    });

    // A service placed by the leader shows as load on the nodes.
    let (status, _) = post(
        &api,
        "/clusters/0/services",
        &json!({"container": {"label": "web"}, "replicas": 10}),
    );
    assert_eq!(status, 201);
    let mut loads = std::collections::BTreeMap::new();
    events.until("10 replicas as load over the nodes", |name, data| {
        if name == "node" {
            loads.insert(
                data["addr"].as_str().unwrap().to_string(),
                data["load"].as_u64().unwrap(),
            );
        }
        (loads.values().sum::<u64>() == 10).then_some(())
    });

    // A node that leaves the cluster leaves the node list.
    let leaving = if leader == demo.node(5) {
        demo.node(1)
    } else {
        demo.node(5)
    };
    let (host, port) = leaving.rsplit_once(':').unwrap();
    let (status, removed) = delete(
        &api,
        "/clusters/0/nodes",
        &json!({"host": host, "port": port}),
    );
    assert_eq!(status, 200, "{removed}");
    events.until("a members event without the removed node", |name, data| {
        let nodes = data["nodes"].as_array()?;
        (name == "members" && nodes.len() == 4 && !nodes.contains(&json!(leaving))).then_some(())
    });

    // One node's own stream: its summary, then its changes (n3 is not involved in the cut; n2
    // may be, since n4 may lead and no longer reach it).
    let third = demo.node(3);
    let mut own = EventStream::open(&third, "/events", Duration::from_secs(20));
    own.until("n3 knowing 3 peers after the removal", |name, data| {
        assert_eq!((name, &data["addr"]), ("node", &json!(third)));
        (data["connections"].as_object()?.len() == 3).then_some(())
    });

    // The node list with longer log tails (what the page's log panel reads), and a bad tail.
    let (status, stats) = get(&api, "/clusters/0?limit=2");
    assert_eq!(status, 200);
    for node in stats["nodes"].as_array().unwrap() {
        assert_eq!(node["log"]["limit"], 2, "{node}");
        assert!(
            node["log"]["entries"].as_array().unwrap().len() <= 2,
            "{node}"
        );
    }
    let (status, error) = get(&api, "/clusters/0?limit=many");
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"].as_str().unwrap().contains("limit"),
        "{error}"
    );

    // Past 32 open cluster streams the next is refused with 429; closed ones free their slots.
    let open: Vec<EventStream> = (1..32) // `events` above is the 32nd
        .map(|_| EventStream::open(&api, "/clusters/0/events", Duration::from_secs(60)))
        .collect();
    let (status, refused) = get(&api, "/clusters/0/events");
    assert_eq!(status, 429, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("32 event streams"),
        "{refused}"
    );
    drop(open);
    drop(events);
    wait_for(
        Duration::from_secs(30),
        "closed streams to free their slots",
        || {
            let mut stream =
                EventStream::try_open(&api, "/clusters/0/events", Duration::from_secs(5)).ok()?;
            stream
                .next_event()
                .map(|(name, _)| assert_eq!(name, "members"))
        },
    );

    // An unknown cluster has no stream.
    let (status, error) = get(&api, "/clusters/nope/events");
    assert_eq!(status, 404);
    assert!(error["error"].as_str().unwrap().contains("nope"), "{error}");
}

#[test]
fn sigterm_stops_the_demo_cleanly_and_a_restart_on_its_data_dir_keeps_everything() {
    let mut demo = Demo::builder()
        .args(&["--cluster-secret", CLUSTER_SECRET])
        .restartable()
        .start();
    let api = demo.api();
    let (status, created) = post(
        &api,
        "/clusters/0/service",
        &json!({"container": {"label": "kept"}, "replicas": 12}),
    );
    assert_eq!(status, 201, "{created}");
    // Open event streams (the cluster's and a node's) do not hold the demo up.
    let mut cluster_events = EventStream::open(&api, "/clusters/0/events", Duration::from_secs(30));
    let mut node_events = EventStream::open(&demo.node(1), "/events", Duration::from_secs(30));
    assert!(cluster_events.next_event().is_some() && node_events.next_event().is_some());
    demo.proc.terminate();
    assert_eq!(
        demo.proc.wait_exit(Duration::from_secs(15)),
        Some(0),
        "SIGTERM ends the demo with status 0\n{}",
        demo.proc.log()
    );
    assert_eq!(get(&api, "/clusters").0, 0, "nothing serves after the exit");
    assert!(
        cluster_events.until_end() && node_events.until_end(),
        "the streams ended"
    );
    assert_eq!(get(&demo.node(1), "/stats").0, 0, "the nodes stopped too");

    demo.proc.restart();
    demo.wait_for_leader();
    let state = demo.state();
    let services = state["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{state}");
    assert_eq!(services[0]["label"], "kept");
    assert_eq!(total_load(&state), 12, "{state}");
}
