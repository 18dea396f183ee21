//! Determinism: a run is a function of its seed and the actions applied to it. The same seed and
//! script give the same events, byte for byte, and the same final state; another seed gives
//! another run. The script mixes a client workload, message loss, a crash, a restart and a cut.

use std::time::Duration;

use flotilla_core::model::ClusterState;
use flotilla_core::raft::LogEntryView;
use flotilla_core::raft::status::NodeReport;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;
use flotilla_core::sim::Workload;
use flotilla_tests::*;

/// What one scripted run leaves behind.
struct Run {
    /// Every event, formatted.
    trace: Vec<String>,
    /// Every node at the end.
    nodes: Vec<NodeReport>,
    /// Every node's log and cluster state at the end.
    disks: Vec<(Option<Vec<LogEntryView>>, Option<ClusterState>)>,
}

/// 20 virtual seconds of 3 nodes: a request a second, 5% loss, the leader crashed at 8 s and
/// restarted at 14 s, one link cut from 10 s to 12 s.
fn scripted_run(seed: u64) -> Run {
    let mut sim = Simulation::new(SimConfig {
        drop_rate: 0.05,
        ..SimConfig::new(seed, 3)
    })
    .unwrap();
    let mut workload = Workload::light();
    workload.drive(&mut sim, Duration::from_secs(8));
    let crashed = sim.leader().expect("a leader by 8 s");
    sim.crash(crashed).unwrap();
    workload.drive(&mut sim, Duration::from_secs(10));
    sim.cut(1, 2).unwrap();
    workload.drive(&mut sim, Duration::from_secs(12));
    sim.heal_all();
    workload.drive(&mut sim, Duration::from_secs(14));
    sim.restart(crashed).unwrap();
    workload.drive(&mut sim, Duration::from_secs(20));
    let trace = sim.take_events().iter().map(ToString::to_string).collect();
    assert_eq!(workload.sent(), 20);
    let disks = sim
        .node_ids()
        .into_iter()
        .map(|id| (sim.log(id), sim.cluster_state(id)))
        .collect();
    Run {
        trace,
        nodes: sim.nodes(),
        disks,
    }
}

#[test]
fn same_seed_and_actions_give_the_same_events_and_state() {
    let first = scripted_run(42);
    let second = scripted_run(42);

    // The run did something worth comparing: elections, commits, losses, the crash.
    let trace = first.trace.join("\n");
    for needle in [
        "became leader",
        "committed at index",
        "(lost)",
        "(link cut)",
        "crashed",
        "restarted",
    ] {
        assert!(trace.contains(needle), "the run has no '{needle}'");
    }
    assert!(first.trace.len() > 1000, "{} events", first.trace.len());

    if let Some(at) = (0..first.trace.len().max(second.trace.len()))
        .find(|&i| first.trace.get(i) != second.trace.get(i))
    {
        panic!(
            "the runs diverge at event {at}:\n  first:  {:?}\n  second: {:?}",
            first.trace.get(at),
            second.trace.get(at)
        );
    }
    assert_eq!(first.nodes, second.nodes);
    assert_eq!(first.disks, second.disks);
}

#[test]
fn another_seed_gives_another_run() {
    let a = scripted_run(42);
    let b = scripted_run(43);
    assert_ne!(a.trace, b.trace);
    // Not just a shifted timestamp: the runs differ in what happens, not only in when.
    let shape = |trace: &[String]| -> Vec<String> {
        trace
            .iter()
            .map(|line| {
                line.split_once("s ")
                    .map_or(line.clone(), |(_, what)| what.to_string())
            })
            .collect()
    };
    assert_ne!(shape(&a.trace), shape(&b.trace));
}

/// Determinism does not depend on how the driver slices time: stepping instant by instant,
/// advancing in odd slices and one long advance all see the same events.
#[test]
fn how_time_is_driven_does_not_change_the_run() {
    let drive = |how: u8| {
        let mut sim = cluster(9, 3);
        let end = Duration::from_secs(6);
        match how {
            0 => sim.advance(end),
            1 => {
                while sim.now() < end {
                    sim.advance(Duration::from_millis(37).min(end - sim.now()));
                }
            }
            _ => {
                while sim.now() < end {
                    assert!(sim.step(), "something is always scheduled");
                }
                // Stepping stops after `end`; trim what lies beyond it.
            }
        }
        sim.take_events()
            .into_iter()
            .filter(|e| e.at <= end)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    let whole = drive(0);
    assert!(whole.iter().any(|line| line.contains("became leader")));
    assert_eq!(drive(1), whole, "advancing in 37 ms slices");
    assert_eq!(drive(2), whole, "stepping");
}
