//! Placement at scale: how long `apply` takes to place a million replicas on ten thousand
//! nodes, and to re-place the replicas of a hundred nodes that go down.
//!
//! A plain `main` (no harness): it prints wall times and asserts only correctness, never
//! speed, so it cannot fail on a slow machine. Run with
//! `cargo bench -p flotilla-core --bench placement`.
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark measures wall-clock time; core itself never reads a clock"
)]

use std::time::Instant;

use flotilla_core::model::{ClusterState, Command, NodeSpec, Outcome, ServiceSpec};

const NODES: u64 = 10_000;
const CAPACITY: u32 = 200;
/// 1000 services of 1000 replicas: one maximal `POST /service`, a million replicas.
const SERVICES: u32 = 1000;
const REPLICAS_EACH: u32 = 1000;
const DOWN: u64 = 100;

fn main() {
    let mut state = ClusterState::default();
    let mut index = 0;
    let mut apply = |state: &mut ClusterState, cmd: Command| {
        index += 1;
        state.apply(index, &cmd)
    };

    for id in 0..NODES {
        let node = NodeSpec {
            id,
            name: format!("n{id}"),
            addr: format!("10.0.{}.{}:8000", id / 256, id % 256),
            capacity: CAPACITY,
        };
        let outcome = apply(&mut state, Command::AddNode { node });
        assert!(matches!(outcome, Outcome::NodeAdded { .. }), "{outcome:?}");
    }

    let services = (0..SERVICES)
        .map(|i| ServiceSpec {
            label: format!("service {i}"),
            replicas: REPLICAS_EACH,
            uniq_id: Some(u64::from(i)),
        })
        .collect();
    let started = Instant::now();
    let outcome = apply(&mut state, Command::CreateServices { services });
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, Outcome::ServicesCreated { .. }),
        "{outcome:?}"
    );
    assert_eq!(state.total_pending(), 0);
    let replicas = u64::from(SERVICES) * u64::from(REPLICAS_EACH);
    println!(
        "placement: {NODES} nodes x {replicas} replicas in {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );

    // Spread the failures over the id range rather than taking a contiguous block.
    let started = Instant::now();
    let mut moved = 0;
    for k in 0..DOWN {
        let id = k * (NODES / DOWN);
        match apply(&mut state, Command::MarkNodeDown { id }) {
            Outcome::NodeMarked { moved: m, .. } => moved += m,
            other => panic!("{other:?}"),
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(state.total_pending(), 0);
    println!(
        "re-placement: {DOWN} nodes down, {moved} replicas moved in {:.1} ms",
        elapsed.as_secs_f64() * 1e3
    );
}
