//! Simulation speed: how many virtual seconds a simulated cluster (real openraft nodes on the
//! virtual runtime, with a light client workload) runs per wall-clock second, for 5 and 51 nodes.
//!
//! A plain `main` (no harness) that prints and never asserts a speed. Run with
//! `cargo bench -p flotilla-core --bench simulation`.
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock time; core itself never reads a clock"
)]

use std::time::Duration;
use std::time::Instant;

use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;
use flotilla_core::sim::Workload;

fn run(nodes: usize, virtual_seconds: u64) {
    let mut sim =
        Simulation::new(SimConfig::new(1, nodes)).expect("the default settings are valid");
    let mut workload = Workload::light();
    let started = Instant::now();
    let mut events = 0usize;
    for second in 1..=virtual_seconds {
        workload.drive(&mut sim, Duration::from_secs(second));
        events += sim.take_events().len();
    }
    let wall = started.elapsed().as_secs_f64();
    let commit = sim
        .nodes()
        .iter()
        .map(|node| node.commit_index)
        .max()
        .unwrap_or(0);
    assert!(
        sim.leader().is_some(),
        "a {nodes}-node cluster must have a leader after {virtual_seconds} s"
    );
    println!(
        "simulation: {nodes:>2} nodes, {virtual_seconds} virtual s in {wall:.2} s wall = {:.1} virtual s per wall s \
         ({events} events, commit index {commit})",
        virtual_seconds as f64 / wall
    );
}

fn main() {
    run(5, 600);
    run(51, 60);
}
