//! Real `flotilla node` processes: three form a cluster; SIGKILL of the leader elects a new one
//! and writes continue; the killed node restarts from its data directory and catches up with
//! nothing acknowledged lost.

use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_tests::process::Proc;
use flotilla_tests::process::get;
use flotilla_tests::process::poll;
use flotilla_tests::process::post;
use flotilla_tests::process::wait_for;
use serde_json::Value;
use serde_json::json;

struct Cluster {
    nodes: Vec<Proc>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Node 1 founds the cluster; nodes 2 and 3 join it. Each listens on a port the OS picks
    /// (and restarts on it).
    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut nodes: Vec<Proc> = Vec::new();
        for id in 1..=3u16 {
            let data = dir.path().join(format!("node-{id}"));
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
                "--node-down-after-ms",
                "1500",
            ];
            if let Some(first) = &first {
                args.extend(["--join", first]);
            }
            let (node, _) = Proc::start_on_free_ports(&args, dir.path(), &format!("node-{id}"));
            if id == 1 {
                wait_for(
                    Duration::from_secs(20),
                    "node 1 to lead its own cluster",
                    || {
                        let (_, stats) = get(&node.addr, "/stats");
                        (stats["role"] == "leader").then_some(())
                    },
                );
            }
            nodes.push(node);
        }
        let cluster = Cluster { nodes, _dir: dir };
        let three = poll(Duration::from_secs(30), || {
            let (_, state) = get(&cluster.nodes[0].addr, "/state");
            (state["nodes"].as_array()?.len() == 3).then_some(())
        });
        assert!(
            three.is_some(),
            "timed out waiting for three voters; {:?}\n{}",
            get(&cluster.nodes[0].addr, "/state"),
            cluster.logs()
        );
        cluster
    }

    /// The leader of the highest term among the running nodes: (index in `nodes`, term).
    fn leader(&mut self) -> Option<(usize, u64)> {
        let mut best: Option<(usize, u64)> = None;
        for (index, node) in self.nodes.iter_mut().enumerate() {
            if !node.is_running() {
                continue;
            }
            let (status, stats) = get(&node.addr, "/stats");
            if status == 200 && stats["role"] == "leader" {
                let term = stats["term"].as_u64().unwrap();
                if best.is_none_or(|(_, best_term)| term > best_term) {
                    best = Some((index, term));
                }
            }
        }
        best
    }

    fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(Proc::log)
            .collect::<Vec<_>>()
            .join("\n----\n")
    }
}

/// Services by id with their requested replicas, as a node's state machine has them.
fn services(addr: &str) -> Option<BTreeMap<u64, u64>> {
    let (status, state) = get(addr, "/state");
    if status != 200 {
        return None;
    }
    state["services"]
        .as_array()?
        .iter()
        .map(|service| Some((service["id"].as_u64()?, service["replicas"].as_u64()?)))
        .collect()
}

fn create(addr: &str, label: &str, replicas: u64) -> Value {
    let (status, created) = post(
        addr,
        "/service",
        &json!({"container": {"label": label}, "replicas": replicas}),
    );
    assert_eq!(status, 201, "create through {addr}: {created}");
    created
}

#[test]
fn three_node_processes_survive_kill_9_of_the_leader() {
    let mut cluster = Cluster::start();
    let (leader, term) = cluster.leader().expect("a leader");
    let follower = (leader + 1) % 3;

    // A follower accepts a service and forwards it to the leader.
    let mut acknowledged: BTreeMap<u64, u64> = BTreeMap::new();
    let created = create(
        &cluster.nodes[follower].addr.clone(),
        "through-a-follower",
        7,
    );
    acknowledged.insert(created["services"][0]["id"].as_u64().unwrap(), 7);

    // SIGKILL the leader: a new leader in a higher term, and writes continue.
    cluster.nodes[leader].kill9();
    let elected = poll(Duration::from_secs(10), || {
        cluster.leader().filter(|(index, _)| *index != leader)
    });
    let Some((new_leader, new_term)) = elected else {
        panic!("no new leader within 10 s\n{}", cluster.logs());
    };
    assert!(
        new_term > term,
        "new leader's term {new_term} must exceed {term}"
    );
    for n in 0..5 {
        let survivor = cluster.nodes[(leader + 1 + n % 2) % 3].addr.clone();
        let created = create(&survivor, &format!("after-failover-{n}"), 3);
        acknowledged.insert(created["services"][0]["id"].as_u64().unwrap(), 3);
    }
    // The new leader marks the killed node down and moves its replicas.
    let new_leader_addr = cluster.nodes[new_leader].addr.clone();
    let killed_id = leader as u64 + 1;
    let node_status = |addr: &str| {
        let (_, state) = get(addr, "/state");
        let node = state["nodes"]
            .as_array()?
            .iter()
            .find(|node| node["id"] == killed_id)?
            .clone();
        Some((node["status"].as_str()?.to_string(), node["load"].as_u64()?))
    };
    wait_for(
        Duration::from_secs(10),
        "the killed node marked down with its replicas moved",
        || (node_status(&new_leader_addr)? == ("down".to_string(), 0)).then_some(()),
    );

    // Restart the killed node from its data directory: it catches up, nothing is lost.
    cluster.nodes[leader].restart();
    let addr = cluster.nodes[leader].addr.clone();
    let logs = cluster.logs();
    wait_for(
        Duration::from_secs(20),
        "the restarted node to catch up",
        || (services(&addr)? == acknowledged).then_some(()),
    );
    for node in &cluster.nodes {
        assert_eq!(services(&node.addr), Some(acknowledged.clone()), "{}", logs);
    }
    wait_for(
        Duration::from_secs(10),
        "the restarted node marked up again",
        || (node_status(&addr)?.0 == "up").then_some(()),
    );
}

#[test]
fn every_node_restarted_after_kill_9_keeps_every_acknowledged_write() {
    let mut cluster = Cluster::start();
    let mut acknowledged = BTreeMap::new();
    for n in 0..10 {
        let created = create(
            &cluster.nodes[n % 3].addr.clone(),
            &format!("s{n}"),
            1 + n as u64,
        );
        acknowledged.insert(created["services"][0]["id"].as_u64().unwrap(), 1 + n as u64);
    }
    for node in &mut cluster.nodes {
        node.kill9();
    }
    for node in &mut cluster.nodes {
        node.restart();
    }
    wait_for(
        Duration::from_secs(20),
        "a leader after a full restart",
        || cluster.leader(),
    );
    for node in &cluster.nodes {
        let addr = node.addr.clone();
        wait_for(
            Duration::from_secs(20),
            "every acknowledged service back",
            || (services(&addr)? == acknowledged).then_some(()),
        );
    }
    // And the cluster still takes writes.
    create(&cluster.nodes[0].addr.clone(), "after-restart", 1);
}

#[test]
fn a_node_that_is_told_to_leave_exits() {
    let mut cluster = Cluster::start();
    let leaving = cluster.nodes[2].addr.clone();
    let (host, port) = leaving.rsplit_once(':').unwrap();
    let (status, answer) = flotilla_tests::process::delete(
        &cluster.nodes[0].addr,
        "/nodes",
        &json!({"host": host, "port": port}),
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        cluster.nodes[2].wait_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        cluster.logs()
    );
    let (_, state) = get(&cluster.nodes[0].addr, "/state");
    assert_eq!(state["nodes"].as_array().unwrap().len(), 2);
    // Joining a member again as it is changes nothing and says so; joining it as something else
    // (its id is taken) is refused with a clear error.
    let member_port: u16 = cluster.nodes[1]
        .addr
        .rsplit_once(':')
        .unwrap()
        .1
        .parse()
        .unwrap();
    let (status, answer) = post(
        &cluster.nodes[0].addr,
        "/nodes",
        &json!({"host": "localhost", "port": member_port, "capacity": 100}),
    );
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["node"]["id"], 2, "{answer}");
    let (status, answer) = post(
        &cluster.nodes[0].addr,
        "/nodes",
        &json!({"host": "localhost", "port": member_port, "capacity": 7}),
    );
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["error"].as_str().unwrap().contains("already"),
        "{answer}"
    );
    let (_, state) = get(&cluster.nodes[0].addr, "/state");
    assert_eq!(state["nodes"].as_array().unwrap().len(), 2, "{state}");
}
