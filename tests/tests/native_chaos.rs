//! Chaos against real processes: `flotilla node`s on disk while writers create and scale
//! services through random nodes, and a seeded chaos loop kills nodes with SIGKILL (the leader
//! among them) and restarts them on the same data directory, and cuts and heals links through
//! `/connections`. Then every link is healed, every node killed and restarted, and the cluster
//! must keep its promises:
//!
//! - every acknowledged write is there, exactly once, on every node (a create whose answer was
//!   lost may be there once, never twice; a service has the replicas of its last acknowledged
//!   write, or of a later write whose outcome was unknown);
//! - every node converges to the same state;
//! - no node is ever over capacity and every placement adds up (checked during the run too).
//!
//! Environment:
//!
//! - `FLOTILLA_CHAOS_SECS` — how long the chaos lasts (default 50 s, so the whole test stays
//!   near a minute in a debug build); `FLOTILLA_CHAOS_SECS=600` for a long run.
//! - `FLOTILLA_CHAOS_SEED` — replays a run's choices (which node, which link, when, which
//!   write); the seed is printed at the start. Real processes keep their own timing, so the same
//!   seed makes the same choices, not the same interleaving.
//! - `FLOTILLA_CHAOS_NODES` — cluster size, 3 to 5 (default 3); at most a minority is down at
//!   once.
//! - `FLOTILLA_CHAOS_WRITERS` — concurrent writers (default 3).
//!
//! The figures of the run (kills, cuts, writes acknowledged and unknown) are printed at the end
//! (`cargo test -p flotilla-tests --test native_chaos -- --nocapture`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

use flotilla_tests::ledger::Ledger;
use flotilla_tests::ledger::accounting_violations;
use flotilla_tests::node_cluster::NodeCluster;
use flotilla_tests::node_cluster::TestDir;
use flotilla_tests::process::get;
use flotilla_tests::process::poll;
use flotilla_tests::process::post;
use flotilla_tests::seeded::Seeded;
use flotilla_tests::seeded::number_from_env;
use flotilla_tests::seeded::seed_from_env;
use serde_json::Value;
use serde_json::json;

/// Node flags: a node silent for 1.5 s is marked down (replicas move while it is killed), and a
/// write gives up after 5 s (a writer stuck behind a partition moves on).
const NODE_FLAGS: &[&str] = &[
    "--node-down-after-ms",
    "1500",
    "--request-timeout-ms",
    "5000",
];

/// How long the cluster may take to elect a leader and converge once the chaos stops.
const SETTLE_LIMIT: Duration = Duration::from_secs(90);

/// What the chaos loop did, printed at the end.
#[derive(Debug, Default)]
struct Figures {
    kills: u32,
    leader_kills: u32,
    cuts: u32,
    heal_alls: u32,
    mid_run_checks: u32,
}

#[test]
fn acknowledged_writes_survive_kills_and_cuts_exactly_once_and_every_node_converges() {
    let seed = seed_from_env("FLOTILLA_CHAOS_SEED");
    let secs = number_from_env("FLOTILLA_CHAOS_SECS", 50);
    let count = number_from_env("FLOTILLA_CHAOS_NODES", 3).clamp(3, 5) as usize;
    let writers = number_from_env("FLOTILLA_CHAOS_WRITERS", 3).max(1);
    println!("chaos: {count} nodes, {writers} writers, {secs} s");
    let mut rng = Seeded::new(seed);
    let dir = TestDir::new();
    let mut cluster = NodeCluster::start(count, dir.path(), NODE_FLAGS);
    let addrs = cluster.addrs();

    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<JoinHandle<Ledger>> = (0..writers)
        .map(|index| {
            let (addrs, rng, stop) = (addrs.clone(), rng.fork(), Arc::clone(&stop));
            std::thread::spawn(move || write_until_stopped(index, &addrs, rng, &stop))
        })
        .collect();

    let figures = run_chaos(&mut cluster, &mut rng, Duration::from_secs(secs), seed);

    stop.store(true, Ordering::SeqCst);
    let mut ledger = Ledger::default();
    for thread in threads {
        ledger.merge(thread.join().expect("a writer panicked"));
    }

    // Heal everything, then crash and restart every node: all of it must come back from disk.
    for node in &mut cluster.nodes {
        if !node.is_running() {
            node.restart();
        }
    }
    cluster.heal_all();
    for node in &mut cluster.nodes {
        node.kill9();
    }
    for node in &mut cluster.nodes {
        node.restart();
    }

    // A write in the new leader's term commits everything before it; then all nodes converge.
    let barrier_index = barrier_write(&mut cluster, &mut ledger, seed);
    let states = converge(&cluster, barrier_index, seed);

    let (acknowledged, unknown) = ledger.counts();
    println!(
        "chaos figures: seed {seed}, {secs} s, {count} nodes: {} kills ({} of the leader), {} \
         link cuts, {} heal-alls, {} mid-run state checks; {acknowledged} writes acknowledged, \
         {unknown} with an unknown outcome; {} services at the end",
        figures.kills,
        figures.leader_kills,
        figures.cuts,
        figures.heal_alls,
        figures.mid_run_checks,
        states[0]["services"].as_array().map_or(0, Vec::len),
    );

    let mut violations = Vec::new();
    for (index, state) in states.iter().enumerate() {
        let services = state["services"].as_array().cloned().unwrap_or_default();
        for why in ledger
            .violations(&services)
            .into_iter()
            .chain(accounting_violations(state))
        {
            violations.push(format!("node {}: {why}", index + 1));
        }
    }
    assert!(
        violations.is_empty(),
        "seed {seed} (FLOTILLA_CHAOS_SEED={seed} replays its choices): {} violations:\n  {}",
        violations.len(),
        violations.join("\n  ")
    );
    assert!(
        acknowledged > 0,
        "seed {seed}: no write was acknowledged during the chaos\n{}",
        cluster.logs()
    );
}

/// One writer: creates services `w{index}-{n}` and scales the ones it created, through random
/// nodes, one write at a time, until `stop`; returns what it asked and what was answered.
fn write_until_stopped(index: u64, addrs: &[String], mut rng: Seeded, stop: &AtomicBool) -> Ledger {
    let mut ledger = Ledger::default();
    let mut mine: Vec<(String, u64)> = Vec::new();
    let mut created = 0u64;
    while !stop.load(Ordering::SeqCst) {
        let addr = &addrs[rng.index(addrs.len())];
        let status = if !mine.is_empty() && rng.percent(35) {
            let (label, id) = mine[rng.index(mine.len())].clone();
            let replicas = rng.range(0, 5);
            let (status, _) = post(
                addr,
                &format!("/services/{id}/scale"),
                &json!({ "replicas": replicas }),
            );
            ledger.scaled(&label, replicas, (200..300).contains(&status));
            status
        } else {
            created += 1;
            let label = format!("w{index}-{created}");
            let replicas = rng.range(1, 4);
            let (status, answer) = post(
                addr,
                "/service",
                &json!({"container": {"label": label}, "replicas": replicas}),
            );
            let id = if (200..300).contains(&status) {
                answer["services"][0]["id"].as_u64()
            } else {
                None
            };
            ledger.created(&label, replicas, id);
            if let Some(id) = id {
                mine.push((label, id));
            }
            status
        };
        if status == 0 {
            // The node is down: try another shortly, without spinning.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    ledger
}

/// The chaos loop: kills (the leader half the time) and restarts after a while, directed link
/// cuts healed after a while, heal-alls, and checks of a random node's accounting, for `length`.
fn run_chaos(cluster: &mut NodeCluster, rng: &mut Seeded, length: Duration, seed: u64) -> Figures {
    let mut figures = Figures::default();
    let count = cluster.nodes.len();
    let max_down = (count - 1) / 2;
    let addrs = cluster.addrs();
    let mut down: BTreeMap<usize, Instant> = BTreeMap::new();
    let mut cuts: BTreeMap<(usize, usize), Instant> = BTreeMap::new();
    let end = Instant::now() + length;
    while Instant::now() < end {
        let now = Instant::now();
        let due: Vec<usize> = down
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(index, _)| *index)
            .collect();
        for index in due {
            down.remove(&index);
            cluster.nodes[index].restart();
            // A restarted node's links are all up again.
            cuts.retain(|(from, _), _| *from != index);
        }
        let due: Vec<(usize, usize)> = cuts
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(link, _)| *link)
            .collect();
        for (from, to) in due {
            cuts.remove(&(from, to));
            post(
                &addrs[from],
                "/connections",
                &json!({ addrs[to].clone(): 1 }),
            );
        }
        let running: Vec<usize> = (0..count)
            .filter(|index| !down.contains_key(index))
            .collect();
        match rng.range(0, 10) {
            0..=2 if down.len() < max_down => {
                let leader = if rng.percent(50) {
                    cluster.leader()
                } else {
                    None
                };
                let target = leader.unwrap_or_else(|| running[rng.index(running.len())]);
                figures.kills += 1;
                if leader.is_some() {
                    figures.leader_kills += 1;
                }
                cluster.nodes[target].kill9();
                down.insert(
                    target,
                    Instant::now() + Duration::from_millis(rng.range(300, 3000)),
                );
            }
            3..=5 => {
                let from = running[rng.index(running.len())];
                let to = (from + 1 + rng.index(count - 1)) % count;
                figures.cuts += 1;
                post(
                    &addrs[from],
                    "/connections",
                    &json!({ addrs[to].clone(): 0 }),
                );
                cuts.insert(
                    (from, to),
                    Instant::now() + Duration::from_millis(rng.range(300, 4000)),
                );
            }
            6 => {
                figures.heal_alls += 1;
                cluster.heal_all();
                cuts.clear();
            }
            _ => {
                let index = running[rng.index(running.len())];
                let (status, state) = get(&addrs[index], "/state");
                if status == 200 {
                    figures.mid_run_checks += 1;
                    let violations = accounting_violations(&state);
                    assert!(
                        violations.is_empty(),
                        "seed {seed}: node {} during the chaos:\n  {}\n{state}",
                        index + 1,
                        violations.join("\n  ")
                    );
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.range(200, 1200)));
    }
    figures
}

/// Creates a `barrier` service through the leader once there is one, retrying until it is
/// acknowledged; records it and returns its log index.
fn barrier_write(cluster: &mut NodeCluster, ledger: &mut Ledger, seed: u64) -> u64 {
    let mut attempt = 0u64;
    let done = poll(SETTLE_LIMIT, || {
        let leader = cluster.leader()?;
        attempt += 1;
        let label = format!("barrier-{attempt}");
        let (status, answer) = post(
            &cluster.nodes[leader].addr,
            "/service",
            &json!({"container": {"label": label}, "replicas": 1}),
        );
        let id = if status == 201 {
            answer["services"][0]["id"].as_u64()
        } else {
            None
        };
        ledger.created(&label, 1, id);
        id?;
        answer["log_index"].as_u64()
    });
    done.unwrap_or_else(|| {
        panic!(
            "seed {seed}: no write acknowledged within {SETTLE_LIMIT:?} after healing and \
             restarting every node\n{}",
            cluster.logs()
        )
    })
}

/// Waits until every node has applied at least `index` and all report the same services and
/// nodes; returns each node's `/state`.
fn converge(cluster: &NodeCluster, index: u64, seed: u64) -> Vec<Value> {
    let mut last: Vec<(u16, Value)> = Vec::new();
    let converged = poll(SETTLE_LIMIT, || {
        last = cluster
            .nodes
            .iter()
            .map(|node| get(&node.addr, "/state"))
            .collect();
        let all_applied = last.iter().all(|(status, state)| {
            *status == 200 && state["last_applied"].as_u64().is_some_and(|at| at >= index)
        });
        let first = &last[0].1;
        let same = last.iter().all(|(_, state)| {
            state["services"] == first["services"] && state["nodes"] == first["nodes"]
        });
        (all_applied && same).then(|| last.iter().map(|(_, state)| state.clone()).collect())
    });
    converged.unwrap_or_else(|| {
        let summary: Vec<String> = last
            .iter()
            .enumerate()
            .map(|(node, (status, state))| {
                format!(
                    "node {}: {status}, applied {}, {} services",
                    node + 1,
                    state["last_applied"],
                    state["services"].as_array().map_or(0, Vec::len)
                )
            })
            .collect();
        panic!(
            "seed {seed}: the nodes did not converge within {SETTLE_LIMIT:?} (applied at least \
             {index}, same services and nodes):\n  {}\n{}",
            summary.join("\n  "),
            cluster.logs()
        )
    })
}
