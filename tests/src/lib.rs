//! Shared helpers for Flotilla's cross-crate tests, mostly for driving the cluster
//! [`Simulation`] and checking what it does.
//!
//! * building blocks: [`cluster`], [`create`], [`submit_create`], [`commit_create`];
//! * waiting: [`elect`], [`converge`], [`wait_reply`], [`run_until_or_panic`];
//! * checking: [`invariant_violations`] / [`check_invariants`] (safety properties of one
//!   instant), [`advance_checked`] (the same, all along a stretch of virtual time) and
//!   [`leaders_by_term`] / [`check_history`] (safety properties of a whole event history);
//! * reading events: [`render`], [`messages`], [`count_kind`], [`client_replies`].
//!
//! Everything here panics with a message that says what was expected and shows the tail of the
//! event trace, so a failing simulation test can be understood from its output alone.

#![deny(missing_docs)]

pub mod browser;
pub mod cli;
pub mod demo;
pub mod ledger;
pub mod node_cluster;
pub mod process;
pub mod raw_http;
pub mod seeded;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use flotilla_core::model::ClusterState;
use flotilla_core::model::Command;
use flotilla_core::model::ServiceSpec;
use flotilla_core::raft::Applied;
use flotilla_core::sim::Event;
use flotilla_core::sim::EventKind;
use flotilla_core::sim::Message;
use flotilla_core::sim::MessageKind;
use flotilla_core::sim::NodeId;
use flotilla_core::sim::RequestId;
use flotilla_core::sim::Role;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;

/// How long [`elect`] and [`converge`] wait at most: many election timeouts (1–2 s each with
/// [`SimConfig::new`]), enough for a few split votes.
pub const ELECTION_LIMIT: Duration = Duration::from_secs(30);

/// Virtual-time slice between two invariant checks in [`advance_checked`].
pub const CHECK_EVERY: Duration = Duration::from_millis(100);

/// How many trailing events a panic message shows.
const TRACE_TAIL: usize = 120;

/// A cluster of `nodes` nodes with [`SimConfig::new`]'s etcd-like timing, from `seed`.
pub fn cluster(seed: u64, nodes: usize) -> Simulation {
    Simulation::new(SimConfig::new(seed, nodes)).expect("SimConfig::new gives valid settings")
}

/// A command creating one service `label` with `replicas` replicas.
pub fn create(label: &str, replicas: u32) -> Command {
    Command::CreateServices {
        services: vec![ServiceSpec {
            label: label.to_string(),
            replicas,
            uniq_id: None,
        }],
    }
}

/// Submits [`create`]`(label, replicas)` to node `node`, panicking if the node refuses it
/// (unknown or down).
pub fn submit_create(sim: &mut Simulation, node: NodeId, label: &str, replicas: u32) -> RequestId {
    sim.submit(node, create(label, replicas))
        .unwrap_or_else(|err| panic!("submitting {label} to n{node}: {err}"))
}

/// Formats events one per line, as `Event`'s `Display` prints them.
pub fn render(events: &[Event]) -> String {
    events
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The last events of `events`, formatted, for panic messages.
fn tail(events: &[Event]) -> String {
    let skip = events.len().saturating_sub(TRACE_TAIL);
    let mut out = String::new();
    if skip > 0 {
        out.push_str(&format!("  ({skip} earlier events not shown)\n"));
    }
    out.push_str(&render(&events[skip..]));
    out
}

/// One line per node: role, term, leader, log and commit positions.
pub fn describe_nodes(sim: &Simulation) -> String {
    sim.nodes()
        .iter()
        .map(|n| {
            format!(
                "n{}: {} term {} leader {:?} voter {} last {} commit {} applied {} snapshot {}",
                n.id,
                n.role,
                n.term,
                n.leader,
                n.voter,
                n.last_log_index,
                n.commit_index,
                n.applied_index,
                n.snapshot_index
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs `sim` until `done` holds or `limit` of virtual time passes; in the latter case panics
/// with `what`, the nodes' state and the events seen meanwhile (which are then consumed; on
/// success events are left for the caller to take).
pub fn run_until_or_panic(
    sim: &mut Simulation,
    limit: Duration,
    what: &str,
    done: impl FnMut(&Simulation) -> bool,
) {
    if !sim.run_until(limit, done) {
        let events = sim.take_events();
        panic!(
            "{what}: not reached within {limit:?} (now {:?})\nnodes:\n{}\nevents:\n{}",
            sim.now(),
            describe_nodes(sim),
            tail(&events)
        );
    }
}

/// Runs until some running node leads (see [`Simulation::leader`]) and returns it; panics,
/// listing the events seen, if none does within [`ELECTION_LIMIT`].
pub fn elect(sim: &mut Simulation) -> NodeId {
    run_until_or_panic(sim, ELECTION_LIMIT, "electing a leader", |sim| {
        sim.leader().is_some()
    });
    sim.leader().expect("run_until said a leader exists")
}

/// Whether the cluster has settled: a leader that every other running node follows in the
/// leader's term, and whose whole log (at least its own blank entry) every running node has
/// committed and applied.
pub fn settled(sim: &Simulation) -> Option<NodeId> {
    let leader = sim.leader()?;
    let lead = sim.node(leader)?;
    let running: Vec<_> = sim
        .nodes()
        .into_iter()
        .filter(|n| n.role != Role::Down)
        .collect();
    let agree = running.iter().all(|n| {
        n.id == leader
            || (n.leader == Some(leader)
                && n.term == lead.term
                && n.role != Role::Leader
                && n.role != Role::Candidate)
    });
    let caught_up = lead.commit_index > 0
        && running.iter().all(|n| {
            n.commit_index == lead.last_log_index && n.applied_index == lead.last_log_index
        });
    (agree && caught_up).then_some(leader)
}

/// Runs until the cluster has [`settled`] and returns the leader; panics (with the trace) if it
/// does not within `limit`.
pub fn converge(sim: &mut Simulation, limit: Duration) -> NodeId {
    run_until_or_panic(sim, limit, "converging on one leader", |sim| {
        settled(sim).is_some()
    });
    settled(sim).expect("run_until said the cluster settled")
}

/// Runs until request `request` is answered and returns the answer. Waits at most the client
/// timeout plus a second; a request whose serving node crashed is never answered, and then this
/// returns `Err("no reply …")`.
pub fn wait_reply(sim: &mut Simulation, request: RequestId) -> Result<Applied, String> {
    let limit = sim.config().client_timeout + Duration::from_secs(1);
    sim.run_until(limit, |sim| sim.reply(request).is_some());
    sim.reply(request)
        .unwrap_or_else(|| Err(format!("no reply to request #{request} within {limit:?}")))
}

/// Like [`wait_reply`], but panics (with the trace) unless the answer is `Ok`.
pub fn wait_committed(sim: &mut Simulation, request: RequestId) -> Applied {
    match wait_reply(sim, request) {
        Ok(applied) => applied,
        Err(why) => {
            let events = sim.take_events();
            panic!(
                "request #{request} was not committed: {why}\nnodes:\n{}\nevents:\n{}",
                describe_nodes(sim),
                tail(&events)
            )
        }
    }
}

/// Submits [`create`]`(label, replicas)` to node `node` and waits until it is committed (see
/// [`wait_committed`]).
pub fn commit_create(sim: &mut Simulation, node: NodeId, label: &str, replicas: u32) -> Applied {
    let request = submit_create(sim, node, label, replicas);
    wait_committed(sim, request)
}

/// Safety properties of the cluster right now, as a list of violations (empty if all hold):
///
/// * election safety: at most one running node reports itself leader in any one term;
/// * log matching: for every pair of running nodes, the entries both still hold at indexes up
///   to the smaller of their commit indexes have the same term and payload;
/// * state machine safety: running nodes that applied up to the same index have the same
///   cluster state;
/// * accounting, in every node's cluster state (running or not): each service has
///   `placed + pending == replicas`, places replicas only on nodes it knows, and no node holds
///   more replicas than its capacity (summed from the services, not from derived data).
pub fn invariant_violations(sim: &Simulation) -> Vec<String> {
    let mut violations = Vec::new();
    let snapshots = sim.nodes();
    let running: Vec<_> = snapshots.iter().filter(|n| n.role != Role::Down).collect();

    let mut leaders: BTreeMap<u64, Vec<NodeId>> = BTreeMap::new();
    for n in running.iter().filter(|n| n.role == Role::Leader) {
        leaders.entry(n.term).or_default().push(n.id);
    }
    for (term, ids) in leaders.iter().filter(|(_, ids)| ids.len() > 1) {
        violations.push(format!("term {term} has several leaders: {ids:?}"));
    }

    let logs: BTreeMap<NodeId, BTreeMap<u64, (u64, String)>> = running
        .iter()
        .map(|n| {
            let log = sim.log(n.id).unwrap_or_default();
            let by_index = log
                .into_iter()
                .map(|e| (e.index, (e.term, e.summary)))
                .collect();
            (n.id, by_index)
        })
        .collect();
    for (i, a) in running.iter().enumerate() {
        for b in &running[i + 1..] {
            let upto = a.commit_index.min(b.commit_index);
            for (index, entry_a) in logs[&a.id].range(..=upto) {
                if let Some(entry_b) = logs[&b.id].get(index)
                    && entry_a != entry_b
                {
                    violations.push(format!(
                        "committed entry {index} differs: n{} has {entry_a:?}, n{} has {entry_b:?}",
                        a.id, b.id
                    ));
                }
            }
        }
    }

    let states: BTreeMap<NodeId, ClusterState> = snapshots
        .iter()
        .filter_map(|n| sim.cluster_state(n.id).map(|state| (n.id, state)))
        .collect();
    for (i, a) in running.iter().enumerate() {
        for b in &running[i + 1..] {
            if a.applied_index == b.applied_index && states[&a.id] != states[&b.id] {
                violations.push(format!(
                    "n{} and n{} both applied up to {} but their cluster states differ",
                    a.id, b.id, a.applied_index
                ));
            }
        }
    }

    for (id, state) in &states {
        violations.extend(
            accounting_violations(state)
                .into_iter()
                .map(|why| format!("n{id}'s cluster state: {why}")),
        );
    }
    violations
}

/// Accounting violations in one cluster state (see [`invariant_violations`]): core's own
/// orchestrator check, the one the fault campaign runs after every step.
pub fn accounting_violations(state: &ClusterState) -> Vec<String> {
    flotilla_core::sim::campaign::orchestrator_violations(state)
}

/// Panics, listing the violations, the nodes and the trace, unless every property of
/// [`invariant_violations`] holds.
pub fn check_invariants(sim: &mut Simulation) {
    let violations = invariant_violations(sim);
    if !violations.is_empty() {
        let events = sim.take_events();
        panic!(
            "invariants violated at {:?}:\n  {}\nnodes:\n{}\nevents:\n{}",
            sim.now(),
            violations.join("\n  "),
            describe_nodes(sim),
            tail(&events)
        );
    }
}

/// Advances `sim` by `duration`, checking [`invariant_violations`] every [`CHECK_EVERY`] of
/// virtual time; returns (and consumes) the events not taken yet: those of the stretch, plus any
/// left over from before it.
pub fn advance_checked(sim: &mut Simulation, duration: Duration) -> Vec<Event> {
    let mut events = Vec::new();
    let end = sim.now() + duration;
    while sim.now() < end {
        sim.advance(CHECK_EVERY.min(end - sim.now()));
        let violations = invariant_violations(sim);
        events.extend(sim.take_events());
        if !violations.is_empty() {
            panic!(
                "invariants violated at {:?}:\n  {}\nnodes:\n{}\nevents:\n{}",
                sim.now(),
                violations.join("\n  "),
                describe_nodes(sim),
                tail(&events)
            );
        }
    }
    events
}

/// Every node that became leader, by term, over a history of events.
pub fn leaders_by_term(events: &[Event]) -> BTreeMap<u64, BTreeSet<NodeId>> {
    let mut leaders: BTreeMap<u64, BTreeSet<NodeId>> = BTreeMap::new();
    for event in events {
        if let EventKind::RoleChanged {
            node,
            role: Role::Leader,
            term,
        } = event.kind
        {
            leaders.entry(term).or_default().insert(node);
        }
    }
    leaders
}

/// Panics (with the trace) if a history breaks a safety property no single instant shows:
/// two nodes became leader in the same term, or a running node's commit index went backwards.
pub fn check_history(events: &[Event]) {
    for (term, nodes) in leaders_by_term(events) {
        assert!(
            nodes.len() <= 1,
            "term {term} had several leaders: {nodes:?}\nevents:\n{}",
            tail(events)
        );
    }
    let mut commit: BTreeMap<NodeId, u64> = BTreeMap::new();
    for event in events {
        match event.kind {
            EventKind::Committed { node, index } => {
                let before = commit.insert(node, index).unwrap_or(0);
                assert!(
                    index > before,
                    "n{node}'s commit index went from {before} to {index} at {:?}\nevents:\n{}",
                    event.at,
                    tail(events)
                );
            }
            EventKind::Crashed { node } | EventKind::NodeRemoved { node } => {
                commit.remove(&node);
            }
            _ => {}
        }
    }
}

/// Ids of the running nodes other than `leader`, in id order.
pub fn others(sim: &Simulation, leader: NodeId) -> Vec<NodeId> {
    sim.node_ids()
        .into_iter()
        .filter(|&id| id != leader && sim.is_running(id))
        .collect()
}

/// The client replies in `events`: `(request, node that answered, result)`.
pub fn client_replies(events: &[Event]) -> Vec<(RequestId, NodeId, Result<u64, String>)> {
    events
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::ClientReply {
                request,
                node,
                result,
            } => Some((*request, *node, result.clone())),
            _ => None,
        })
        .collect()
}

/// The messages sent in `events`, in order.
pub fn messages(events: &[Event]) -> impl Iterator<Item = &Message> {
    events.iter().filter_map(|event| match &event.kind {
        EventKind::Sent { message } => Some(message),
        _ => None,
    })
}

/// How many messages of `kind` were sent in `events`.
pub fn count_kind(events: &[Event], kind: MessageKind) -> usize {
    messages(events).filter(|m| m.kind == kind).count()
}

/// Total replicas placed and pending for service `label` in `state`, if it has that service.
pub fn service_totals(state: &ClusterState, label: &str) -> Option<(u32, u32, u32)> {
    state
        .services()
        .values()
        .find(|service| service.label == label)
        .map(|service| {
            (
                service.placement.values().sum(),
                service.pending,
                service.replicas,
            )
        })
}
