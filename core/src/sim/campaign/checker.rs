//! [`Checker`]: the safety properties of Raft and of the orchestrator, checked against a running
//! [`Simulation`] after every step of a campaign.
//!
//! It keeps what it has seen so far, so that properties over time can be checked too:
//!
//! * election safety: at most one leader per term, ever;
//! * log matching and state-machine safety: every entry a node has committed equals the one
//!   every other node committed at that index (the checker's copy of the committed log), and
//!   stays so;
//! * leader completeness: a leader holds every entry committed in an earlier term;
//! * monotonicity: a node's term never goes back, nor does its vote change within a term (but
//!   from a candidate to the leader elected in that term) — both across crashes, as they are on
//!   its disk — and its commit and applied indexes never go back while it runs;
//! * each node's state equals the one rebuilt from the committed log (a reference state machine
//!   that the checker feeds itself);
//! * the orchestrator's promises in every state a node applies: every replica is placed or
//!   visibly pending, only on nodes that are up and known, never over a node's capacity, and
//!   nothing pends while an up node has room.

use std::collections::BTreeMap;

use futures_util::FutureExt;
use futures_util::stream;
use openraft::RaftLogReader;
use openraft::ServerState;
use openraft::storage::RaftStateMachine;
use openraft_rt::WatchReceiver;

use crate::model::ClusterState;
use crate::model::NodeStatus;
use crate::raft::LogEntry;
use crate::raft::StateMachineStore;
use crate::raft::Vote;
use crate::sim::Event;
use crate::sim::EventKind;
use crate::sim::NodeId;
use crate::sim::Role;
use crate::sim::SimTypes;
use crate::sim::Simulation;

/// What the checker remembers of one node.
#[derive(Default)]
struct Track {
    /// The highest vote seen (running or on disk).
    vote: Option<Vote>,
    /// Commit and applied indexes while it runs; `None` once it stops.
    running: Option<(u64, u64)>,
    /// Committed entries of this node already compared with the committed log.
    checked_upto: u64,
    /// The applied index at which its state was last compared with the reference.
    compared_at: Option<u64>,
    /// The term in which its log was last checked for leader completeness.
    completeness_checked: Option<u64>,
}

/// The safety checker of one campaign seed. See the [module documentation](self).
#[derive(Default)]
pub struct Checker {
    leaders: BTreeMap<u64, NodeId>,
    /// The committed log as seen so far: each entry, and a term at or after the one it was
    /// committed in (the term of the node first seen holding it committed).
    committed: BTreeMap<u64, (LogEntry, u64)>,
    nodes: BTreeMap<NodeId, Track>,
    /// The reference state machine, fed the committed log in order.
    reference: StateMachineStore<SimTypes>,
    /// The reference state after each index it applied.
    reference_states: BTreeMap<u64, ClusterState>,
    /// The next index the reference applies.
    next_reference: u64,
}

/// What one running node reports, read once per check.
struct Observed {
    id: NodeId,
    state: ServerState,
    term: u64,
    vote: Vote,
    commit: u64,
    applied: u64,
}

impl Checker {
    /// Checks every property against `sim` now, and `events` (what happened since the last
    /// check); returns the first violation found.
    pub fn check(&mut self, sim: &Simulation, events: &[Event]) -> Result<(), String> {
        for event in events {
            if let EventKind::RoleChanged {
                node,
                role: Role::Leader,
                term,
            } = event.kind
            {
                self.leader_seen(term, node)?;
            }
        }
        let running: Vec<Observed> = {
            let world = sim.world.lock();
            world
                .rafts
                .iter()
                .map(|(&id, raft)| {
                    let metrics = raft.metrics();
                    let m = metrics.borrow_watched();
                    Observed {
                        id,
                        state: m.state,
                        term: m.current_term,
                        vote: m.vote,
                        commit: m.local_committed.as_ref().map_or(0, |id| id.index),
                        applied: m.last_applied.as_ref().map_or(0, |id| id.index),
                    }
                })
                .collect()
        };
        for node in &running {
            if node.state == ServerState::Leader {
                self.leader_seen(node.term, node.id)?;
            }
        }
        for (&id, disk) in &sim.nodes {
            if sim.removed.contains(&id) {
                continue;
            }
            let now_running = running.iter().find(|node| node.id == id);
            let vote = match now_running {
                Some(node) => Some(node.vote),
                None => disk.log.vote(),
            };
            let track = self.nodes.entry(id).or_default();
            if let Some(vote) = vote {
                check_vote(id, track.vote, vote)?;
                track.vote = Some(vote);
            }
            match now_running {
                Some(node) => {
                    if let Some((commit, applied)) = track.running
                        && (node.commit < commit || node.applied < applied)
                    {
                        return Err(format!(
                            "n{id}'s commit/applied index went back from {commit}/{applied} to {}/{} while it ran",
                            node.commit, node.applied
                        ));
                    }
                    track.running = Some((node.commit, node.applied));
                }
                None => {
                    // Stopped: the next run starts over from its disk.
                    *track = Track {
                        vote: track.vote,
                        ..Track::default()
                    };
                }
            }
        }
        for node in &running {
            self.check_committed(sim, node)?;
        }
        self.advance_reference()?;
        for node in &running {
            self.compare_state(sim, node)?;
            if node.state == ServerState::Leader {
                self.check_completeness(sim, node)?;
            }
        }
        Ok(())
    }

    fn leader_seen(&mut self, term: u64, node: NodeId) -> Result<(), String> {
        match self.leaders.insert(term, node) {
            Some(other) if other != node => Err(format!(
                "election safety: n{other} and n{node} both became leader in term {term}"
            )),
            _ => Ok(()),
        }
    }

    /// The node's committed entries not compared yet against the committed log.
    fn check_committed(&mut self, sim: &Simulation, node: &Observed) -> Result<(), String> {
        let track = self.nodes.entry(node.id).or_default();
        let from = track.checked_upto;
        if node.commit <= from && from > 0 {
            return Ok(());
        }
        let entries = read_log(sim, node.id, from..=node.commit);
        track.checked_upto = node.commit;
        for entry in entries {
            let index = entry.log_id.index;
            match self.committed.get(&index) {
                Some((known, _)) if *known != entry => {
                    return Err(format!(
                        "state-machine safety: n{} committed {entry} at index {index}, but {known} was committed there",
                        node.id
                    ));
                }
                Some(_) => {}
                None => {
                    self.committed.insert(index, (entry, node.term));
                }
            }
        }
        Ok(())
    }

    /// Feeds the reference state machine every committed entry it has not applied yet.
    fn advance_reference(&mut self) -> Result<(), String> {
        while let Some((entry, _)) = self.committed.get(&self.next_reference) {
            let index = self.next_reference;
            let entries = stream::iter([Ok((entry.clone(), None))]);
            let reference = &mut self.reference;
            let applied = without_mutations(|| reference.apply(entries).now_or_never());
            if !matches!(applied, Some(Ok(()))) {
                return Err(format!(
                    "the reference state machine failed at index {index}"
                ));
            }
            let state = self.reference.read(Clone::clone);
            if let Some(why) = orchestrator_violations(&state).first() {
                return Err(format!(
                    "the state rebuilt from the committed log up to {index}: {why}"
                ));
            }
            self.reference_states.insert(index, state);
            self.next_reference += 1;
        }
        Ok(())
    }

    /// Compares the node's state, if it applied something new, with the reference at the same
    /// index, and checks the orchestrator's promises in it.
    fn compare_state(&mut self, sim: &Simulation, node: &Observed) -> Result<(), String> {
        let track = self.nodes.entry(node.id).or_default();
        let machine = &sim.nodes[&node.id].state_machine;
        // The in-memory state machine answers at once; `None`: nothing applied yet.
        let applied = machine.clone().applied_state().now_or_never();
        let Some(Ok((Some(applied), _))) = applied else {
            return Ok(());
        };
        let applied = applied.index;
        if track.compared_at == Some(applied) {
            return Ok(());
        }
        let state = machine.read(Clone::clone);
        if let Some(why) = orchestrator_violations(&state).first() {
            return Err(format!(
                "n{}'s state at applied index {applied}: {why}",
                node.id
            ));
        }
        if let Some(reference) = self.reference_states.get(&applied) {
            if *reference != state {
                return Err(format!(
                    "n{}'s state at applied index {applied} differs from the state rebuilt from the committed log:\n    node:      {}\n    reference: {}",
                    node.id,
                    describe_state(&state),
                    describe_state(reference)
                ));
            }
            track.compared_at = Some(applied);
        }
        Ok(())
    }

    /// A leader of term `t` holds every entry committed in a term before `t` (or a snapshot
    /// covering it). Checked once per node and term.
    fn check_completeness(&mut self, sim: &Simulation, node: &Observed) -> Result<(), String> {
        let track = self.nodes.entry(node.id).or_default();
        if track.completeness_checked == Some(node.term) {
            return Ok(());
        }
        track.completeness_checked = Some(node.term);
        let disk = &sim.nodes[&node.id];
        let covered = disk
            .state_machine
            .snapshot_index()
            .max(disk.log.purged_index());
        let log: BTreeMap<u64, LogEntry> = read_log(sim, node.id, covered + 1..)
            .into_iter()
            .map(|entry| (entry.log_id.index, entry))
            .collect();
        for (index, (entry, committed_by)) in self.committed.range(covered + 1..) {
            if *committed_by >= node.term {
                continue;
            }
            match log.get(index) {
                Some(held) if held == entry => {}
                held => {
                    return Err(format!(
                        "leader completeness: n{} leads term {} without entry {index} ({entry}) committed by term {committed_by}; it holds {held:?}",
                        node.id, node.term
                    ));
                }
            }
        }
        Ok(())
    }

    /// How many committed entries the checker has seen.
    pub fn committed_entries(&self) -> usize {
        self.committed.len()
    }
}

/// A vote never goes back: not to a lower term, nor to another candidate in the same term.
fn check_vote(id: NodeId, before: Option<Vote>, now: Vote) -> Result<(), String> {
    let Some(before) = before else { return Ok(()) };
    let (was, is) = (before.leader_id, now.leader_id);
    if is.term < was.term {
        return Err(format!(
            "n{id}'s term went back from {} to {} (its vote was not kept)",
            was.term, is.term
        ));
    }
    // Within a term, the vote may change only from a candidate (itself, or one it granted) to
    // the leader it then hears from (a committed vote); never to another candidate, and never
    // away from a leader.
    let changed = is.term == was.term && was.term > 0 && is.voted_for != was.voted_for;
    if changed && (before.committed || !now.committed) {
        return Err(format!(
            "n{id} voted for n{} and then for n{} in term {}",
            was.voted_for, is.voted_for, is.term
        ));
    }
    Ok(())
}

/// Node `id`'s log entries in `range`, as its disk holds them.
fn read_log(
    sim: &Simulation,
    id: NodeId,
    range: impl std::ops::RangeBounds<u64> + Clone + std::fmt::Debug + Send + Sync,
) -> Vec<LogEntry> {
    let mut log = sim.nodes[&id].log.clone();
    // The in-memory store answers at once.
    log.try_get_log_entries(range)
        .now_or_never()
        .and_then(Result::ok)
        .unwrap_or_default()
}

/// Runs `f` with any test-only mutation switched off: the reference must stay correct.
fn without_mutations<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(test)]
    return crate::mutation::with_mutation(None, f);
    #[cfg(not(test))]
    f()
}

/// The orchestrator's promises that one state breaks.
pub fn orchestrator_violations(state: &ClusterState) -> Vec<String> {
    let mut found = Vec::new();
    let mut loads: BTreeMap<NodeId, u64> = BTreeMap::new();
    for service in state.services().values() {
        let placed: u64 = service.placement.values().map(|&n| u64::from(n)).sum();
        if placed + u64::from(service.pending) != u64::from(service.replicas) {
            found.push(format!(
                "service {} places {placed} and has {} pending, of {} replicas",
                service.id, service.pending, service.replicas
            ));
        }
        for (&node, &count) in &service.placement {
            match state.node(node) {
                None => found.push(format!(
                    "service {} has {count} replicas on unknown node {node}",
                    service.id
                )),
                Some(info) if info.status != NodeStatus::Up => found.push(format!(
                    "service {} has {count} replicas on node {node}, which is down",
                    service.id
                )),
                Some(_) => {}
            }
            *loads.entry(node).or_default() += u64::from(count);
        }
    }
    let pending = state.total_pending();
    for info in state.nodes().values() {
        let load = loads.get(&info.id).copied().unwrap_or(0);
        if load > u64::from(info.capacity) {
            found.push(format!(
                "node {} holds {load} replicas, over its capacity {}",
                info.id, info.capacity
            ));
        }
        if pending > 0 && info.status == NodeStatus::Up && load < u64::from(info.capacity) {
            found.push(format!(
                "{pending} replicas pend while node {} has room ({load} of {})",
                info.id, info.capacity
            ));
        }
    }
    found
}

/// A state in one line: nodes with status and load, services with placement and pending.
pub fn describe_state(state: &ClusterState) -> String {
    let nodes: Vec<String> = state
        .node_views()
        .map(|node| {
            format!(
                "{}:{:?}:{}/{}",
                node.id, node.status, node.load, node.capacity
            )
        })
        .collect();
    let services: Vec<String> = state
        .services()
        .values()
        .map(|s| {
            format!(
                "{}({}) x{} {:?} +{} pending",
                s.id, s.label, s.replicas, s.placement, s.pending
            )
        })
        .collect();
    format!(
        "nodes [{}] services [{}]",
        nodes.join(" "),
        services.join(", ")
    )
}
