//! Property tests of the whole state machine: random clusters, random command sequences
//! (including ones that must be rejected), and the invariants every Raft member relies on.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::placement::{Placer, pick_removals};
use super::*;

/// An abstract command; ids are drawn from small ranges so that they often hit existing
/// services and nodes, and sometimes miss (exercising rejections).
#[derive(Clone, Debug)]
enum Op {
    Create(Vec<u32>),
    Scale(ServiceId, u32),
    Delete(ServiceId),
    Add(NodeId, u64, u32),
    Remove(NodeId),
    Down(NodeId),
    Up(NodeId),
}

fn node_spec(id: NodeId, port: u64, capacity: u32) -> NodeSpec {
    NodeSpec {
        id,
        name: format!("n{id}"),
        addr: format!("host:{port}"),
        capacity,
    }
}

impl Op {
    fn command(&self) -> Command {
        match self {
            Op::Create(replicas) => Command::CreateServices {
                services: replicas
                    .iter()
                    .map(|&replicas| ServiceSpec {
                        label: "svc".into(),
                        replicas,
                        uniq_id: None,
                    })
                    .collect(),
            },
            &Op::Scale(id, replicas) => Command::ScaleService { id, replicas },
            &Op::Delete(id) => Command::DeleteService { id },
            &Op::Add(id, port, capacity) => Command::AddNode {
                node: node_spec(id, port, capacity),
            },
            &Op::Remove(id) => Command::RemoveNode { id },
            &Op::Down(id) => Command::MarkNodeDown { id },
            &Op::Up(id) => Command::MarkNodeUp { id },
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec(1u32..300, 1..4).prop_map(Op::Create),
        2 => (1u64..12, 0u32..400).prop_map(|(id, n)| Op::Scale(id, n)),
        1 => (1u64..12).prop_map(Op::Delete),
        1 => (0u64..16, 0u64..16, 0u32..200).prop_map(|(id, port, c)| Op::Add(id, port, c)),
        1 => (0u64..16).prop_map(Op::Remove),
        2 => (0u64..16).prop_map(Op::Down),
        2 => (0u64..16).prop_map(Op::Up),
    ]
}

/// Initial nodes: `(capacity, down)`; node `i` gets id `i`.
fn nodes() -> impl Strategy<Value = Vec<(u32, bool)>> {
    prop::collection::vec((0u32..200, prop::bool::weighted(0.2)), 0..10)
}

fn commands(initial: &[(u32, bool)], ops: &[Op]) -> Vec<Command> {
    let mut cmds = Vec::new();
    for (id, &(capacity, _)) in (0u64..).zip(initial) {
        cmds.push(Command::AddNode {
            node: node_spec(id, 100 + id, capacity),
        });
    }
    for (id, &(_, down)) in (0u64..).zip(initial) {
        if down {
            cmds.push(Command::MarkNodeDown { id });
        }
    }
    cmds.extend(ops.iter().map(Op::command));
    cmds
}

/// Applies `cmds` with log indices starting after `start`, returning the outcomes.
fn run(state: &mut ClusterState, start: u64, cmds: &[Command]) -> Vec<Outcome> {
    (start + 1..)
        .zip(cmds)
        .map(|(index, cmd)| state.apply(index, cmd))
        .collect()
}

/// Everything that must hold after every command.
fn check_invariants(state: &ClusterState) -> Result<(), TestCaseError> {
    let mut loads: BTreeMap<NodeId, u32> = state.nodes().keys().map(|&id| (id, 0)).collect();
    let mut pending = 0u64;
    for service in state.services().values() {
        let placed: u64 = service.placement.values().map(|&n| u64::from(n)).sum();
        prop_assert_eq!(
            placed + u64::from(service.pending),
            u64::from(service.replicas),
            "service {} loses replicas",
            service.id
        );
        for (node, &n) in &service.placement {
            prop_assert!(n > 0, "empty placement entry");
            let info = state.node(*node);
            prop_assert!(info.is_some(), "replica on unknown node {}", node);
            prop_assert_eq!(info.map(|i| i.status), Some(NodeStatus::Up));
            *loads.entry(*node).or_insert(0) += n;
        }
        pending += u64::from(service.pending);
    }
    prop_assert_eq!(state.total_pending(), pending);
    let requested: u64 = state
        .services()
        .values()
        .map(|s| u64::from(s.replicas))
        .sum();
    prop_assert_eq!(state.requested_replicas(), requested);
    for view in state.node_views() {
        prop_assert_eq!(Some(view.load), loads.get(&view.id).copied());
        prop_assert!(view.load <= view.capacity, "node {} over capacity", view.id);
        if view.status == NodeStatus::Down {
            prop_assert_eq!(view.load, 0);
        }
        if pending > 0 && view.status == NodeStatus::Up {
            prop_assert_eq!(view.load, view.capacity, "room left while pending");
        }
    }
    Ok(())
}

/// The greedy rule spelled out naively: scan every node for each replica.
fn naive_place(nodes: &mut [(NodeId, u32, u32)], count: u32) -> BTreeMap<NodeId, u32> {
    let mut added = BTreeMap::new();
    for _ in 0..count {
        let best = nodes
            .iter_mut()
            .filter(|(_, load, capacity)| load < capacity)
            .min_by(|a, b| {
                (u64::from(a.1) * u64::from(b.2))
                    .cmp(&(u64::from(b.1) * u64::from(a.2)))
                    .then(a.0.cmp(&b.0))
            });
        let Some(node) = best else { break };
        node.1 += 1;
        *added.entry(node.0).or_insert(0) += 1;
    }
    added
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn invariants_hold_and_rejections_change_nothing(
        initial in nodes(),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let mut state = ClusterState::default();
        for (index, cmd) in (1u64..).zip(commands(&initial, &ops)) {
            let before = state.clone();
            if let Outcome::Rejected { .. } = state.apply(index, &cmd) {
                prop_assert_eq!(&state, &before);
            }
            check_invariants(&state)?;
        }
    }

    #[test]
    fn same_log_same_result(
        initial in nodes(),
        ops in prop::collection::vec(op(), 0..40),
    ) {
        let cmds = commands(&initial, &ops);
        let (mut a, mut b) = (ClusterState::default(), ClusterState::default());
        prop_assert_eq!(run(&mut a, 0, &cmds), run(&mut b, 0, &cmds));
        prop_assert_eq!(&a, &b);
        // Byte for byte, as a snapshot.
        prop_assert_eq!(serde_json::to_string(&a).ok(), serde_json::to_string(&b).ok());
    }

    #[test]
    fn snapshot_round_trip_behaves_identically(
        initial in nodes(),
        ops in prop::collection::vec(op(), 0..40),
        split in any::<prop::sample::Index>(),
    ) {
        let cmds = commands(&initial, &ops);
        let at = split.index(cmds.len() + 1);
        let mut original = ClusterState::default();
        run(&mut original, 0, &cmds[..at]);
        let json = serde_json::to_string(&original).expect("serialises");
        let mut restored: ClusterState = serde_json::from_str(&json).expect("loads");
        prop_assert_eq!(&restored, &original);
        let start = at as u64;
        prop_assert_eq!(
            run(&mut restored, start, &cmds[at..]),
            run(&mut original, start, &cmds[at..])
        );
        prop_assert_eq!(restored, original);
    }

    #[test]
    fn equal_capacity_nodes_stay_level(
        capacities in prop::collection::vec(
            (prop::sample::select(vec![0u32, 1, 7, 50, 199]), prop::bool::weighted(0.2)),
            1..12,
        ),
        creates in prop::collection::vec(prop::collection::vec(1u32..500, 1..4), 1..6),
    ) {
        let ops: Vec<Op> = creates.into_iter().map(Op::Create).collect();
        let mut state = ClusterState::default();
        run(&mut state, 0, &commands(&capacities, &ops));
        let mut by_capacity: BTreeMap<u32, (u32, u32)> = BTreeMap::new();
        for view in state.node_views().filter(|v| v.status == NodeStatus::Up) {
            let (low, high) = by_capacity.entry(view.capacity).or_insert((u32::MAX, 0));
            *low = (*low).min(view.load);
            *high = (*high).max(view.load);
        }
        for (capacity, (low, high)) in by_capacity {
            prop_assert!(high - low <= 1, "capacity {}: loads {}..={}", capacity, low, high);
        }
    }

    #[test]
    fn placer_follows_the_greedy_rule(
        nodes in prop::collection::vec((0u32..50, 0u32..50), 0..20),
        batches in prop::collection::vec(0u32..200, 1..4),
    ) {
        let mut nodes: Vec<(NodeId, u32, u32)> = (0u64..)
            .zip(nodes)
            .map(|(id, (a, b))| (id * 3 % 20, a.min(b), a.max(b)))
            .collect();
        nodes.sort_unstable();
        nodes.dedup_by_key(|n| n.0);
        let mut placer = Placer::new(nodes.clone());
        for count in batches {
            let expected: Vec<(NodeId, u32)> = naive_place(&mut nodes, count).into_iter().collect();
            prop_assert_eq!(placer.place(count), expected);
        }
    }

    #[test]
    fn removals_follow_the_greedy_rule(
        held in prop::collection::vec((0u32..10, 0u32..40, 1u32..50), 0..10),
        count in 0u32..60,
    ) {
        // (id, mine, load, capacity) with mine <= load <= capacity.
        let held: Vec<(NodeId, u32, u32, u32)> = (0u64..)
            .zip(held)
            .map(|(id, (mine, other, capacity))| {
                let load = (mine + other).min(capacity);
                (id, mine.min(load), load, capacity)
            })
            .collect();
        let mut naive = held.clone();
        let mut expected = BTreeMap::new();
        for _ in 0..count {
            let top = naive.iter_mut().filter(|n| n.1 > 0).max_by(|a, b| {
                (u64::from(a.2) * u64::from(b.3))
                    .cmp(&(u64::from(b.2) * u64::from(a.3)))
                    .then(a.0.cmp(&b.0))
            });
            let Some(top) = top else { break };
            top.1 -= 1;
            top.2 -= 1;
            *expected.entry(top.0).or_insert(0) += 1;
        }
        prop_assert_eq!(pick_removals(held, count), expected.into_iter().collect::<Vec<_>>());
    }
}
