//! The simulation: a whole Flotilla cluster — real openraft nodes, the real state machine — in
//! one process, on a virtual clock, with every fault a method call.
//!
//! ```
//! use std::time::Duration;
//! use flotilla_core::sim::{SimConfig, Simulation};
//!
//! let mut sim = Simulation::new(SimConfig::new(7, 3)).unwrap();
//! sim.run_until(Duration::from_secs(30), |sim| sim.leader().is_some());
//! let leader = sim.leader().unwrap();
//! sim.isolate(leader);                       // cut every link to and from it
//! sim.advance(Duration::from_secs(10));      // the others elect a new leader
//! for event in sim.take_events() {
//!     println!("{event}");                   // "  12.031000s n2 became leader in term 3", …
//! }
//! ```
//!
//! Layout: [`config`](SimConfig) holds the knobs; `world` is what nodes share (the wire, election
//! timers, the event record); `network` implements openraft's network traits on that wire;
//! `client` serves client requests (forwarding to the leader); [`event`] and [`snapshot`] are what
//! observers get. Time moves only when the driver calls [`Simulation::advance`],
//! [`Simulation::step`] or [`Simulation::run_until`].
//!
//! Election timers are the simulation's, not openraft's (its own elections are disabled and the
//! simulation triggers them): that is what lets observers see each node's timer run down, and
//! lets a user force a timeout or align timers to provoke a split vote.

mod client;
mod config;
pub mod event;
mod network;
pub mod snapshot;
mod types;
mod workload;
mod world;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use openraft::ChangeMembers;
use openraft::ServerState;
use openraft::SnapshotPolicy;
use openraft_rt::WatchReceiver;

pub use config::SimConfig;
pub use event::DropReason;
pub use event::Event;
pub use event::EventKind;
pub use event::Message;
pub use event::MessageId;
pub use event::MessageKind;
pub use event::NodeId;
pub use event::RequestId;
pub use event::Role;
pub use snapshot::NodeSnapshot;
pub use snapshot::PeerProgress;
pub use types::SimRaft;
pub use types::SimTypes;
pub use workload::Workload;

use self::network::SimNetworkFactory;
use self::world::World;
use self::world::WorldHandle;
use crate::model::ClusterState;
use crate::model::Command;
use crate::raft::Applied;
use crate::raft::LivenessPolicy;
use crate::raft::LogEntryView;
use crate::raft::MemLogStore;
use crate::raft::Member;
use crate::raft::StateMachineStore;
use crate::raft::watch_liveness;
use crate::rt::Executor;
use crate::rt::VirtualInstant;
use crate::rt::VirtualRuntime;

/// Why a simulation action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No node has this id.
    UnknownNode(NodeId),
    /// The action needs the node running, and it is down.
    NodeDown(NodeId),
    /// The action needs the node down, and it is running.
    NodeRunning(NodeId),
    /// The action needs a leader and there is none right now.
    NoLeader,
    /// The settings are not usable.
    InvalidConfig(String),
    /// The node was removed from the cluster: it cannot be started again.
    Removed(NodeId),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::UnknownNode(id) => write!(f, "there is no node n{id}"),
            SimError::NodeDown(id) => write!(f, "n{id} is down"),
            SimError::NodeRunning(id) => write!(f, "n{id} is running"),
            SimError::NoLeader => f.write_str("there is no leader right now"),
            SimError::InvalidConfig(why) => write!(f, "invalid settings: {why}"),
            SimError::Removed(id) => write!(f, "n{id} was removed from the cluster"),
        }
    }
}

impl std::error::Error for SimError {}

/// A node's disk (what survives a crash) and identity.
struct SimNode {
    member: Member,
    log: MemLogStore<SimTypes>,
    state_machine: StateMachineStore<SimTypes>,
}

/// What the driver last saw of a running node, to turn changes into events.
#[derive(Clone, Copy, PartialEq)]
struct Seen {
    role: Role,
    term: u64,
    commit: u64,
}

/// A simulated cluster. See the [module documentation](self).
pub struct Simulation {
    runtime: VirtualRuntime,
    world: WorldHandle,
    raft_config: Arc<openraft::Config>,
    nodes: BTreeMap<NodeId, SimNode>,
    seen: BTreeMap<NodeId, Seen>,
    /// Nodes whose removal from the membership committed: stopped for good.
    removed: BTreeSet<NodeId>,
    /// Total events recorded so far, including those already taken.
    events_recorded: u64,
    /// Events not yet taken by [`Simulation::take_events`].
    events: Vec<Event>,
}

impl Simulation {
    /// Starts a cluster of `config.nodes` nodes (ids 1..=n, all voters, all followers: the first
    /// whose election timer runs out campaigns).
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate().map_err(SimError::InvalidConfig)?;
        let raft_config = openraft::Config {
            cluster_name: "flotilla-sim".to_string(),
            heartbeat_interval: millis(config.heartbeat_interval),
            election_timeout_min: millis(config.election_timeout.0),
            election_timeout_max: millis(config.election_timeout.1),
            // The simulation runs the election timers itself (see the module docs).
            enable_elect: false,
            snapshot_policy: SnapshotPolicy::LogsSinceLast(config.snapshot_every),
            max_in_snapshot_log_to_keep: 0,
            ..openraft::Config::default()
        };
        let raft_config = Arc::new(
            raft_config
                .validate()
                .map_err(|err| SimError::InvalidConfig(err.to_string()))?,
        );
        let runtime = VirtualRuntime::with_seed(config.seed);
        let count = config.nodes as u64;
        let capacity = config.capacity;
        let mut sim = Simulation {
            runtime,
            world: WorldHandle::new(World::new(config)),
            raft_config,
            nodes: BTreeMap::new(),
            seen: BTreeMap::new(),
            removed: BTreeSet::new(),
            events_recorded: 0,
            events: Vec::new(),
        };
        let members: BTreeMap<NodeId, Member> =
            (1..=count).map(|id| (id, member(id, capacity))).collect();
        for id in 1..=count {
            let log = MemLogStore::bootstrapped(&members).map_err(SimError::InvalidConfig)?;
            sim.nodes.insert(
                id,
                SimNode {
                    member: member(id, capacity),
                    log,
                    state_machine: StateMachineStore::default(),
                },
            );
            sim.boot(id);
        }
        sim.exec().run_ready();
        sim.observe();
        Ok(sim)
    }

    fn exec(&self) -> &Executor {
        self.runtime.executor()
    }

    fn create_node(&mut self, id: NodeId, capacity: u32) {
        let member = Member {
            name: format!("n{id}"),
            addr: format!("sim:{id}"),
            capacity,
        };
        self.nodes.insert(
            id,
            SimNode {
                member,
                log: MemLogStore::default(),
                state_machine: StateMachineStore::default(),
            },
        );
    }

    /// Starts node `id`'s Raft from its disk, as a process of its own (owner `id`).
    fn boot(&mut self, id: NodeId) {
        let node = &self.nodes[&id];
        let (log, state_machine) = (node.log.clone(), node.state_machine.clone());
        let network = SimNetworkFactory {
            world: self.world.clone(),
            from: id,
        };
        let config = self.raft_config.clone();
        let world = self.world.clone();
        let liveness = LivenessPolicy {
            down_after: world.lock().config.node_down_after,
        };
        let exec = self.exec().clone();
        exec.enter_as(Some(id), || {
            exec.spawn(async move {
                // In-memory storage cannot fail to open, so neither can this.
                let machine = state_machine.clone();
                if let Ok(raft) = SimRaft::new(id, config, network, log, state_machine).await {
                    let exec = crate::rt::executor_here();
                    // The failure detector is this node's too: a crash stops it.
                    exec.spawn(watch_liveness(raft.clone(), machine, liveness));
                    let now = exec.now();
                    let mut world = world.lock();
                    world.rafts.insert(id, raft);
                    world.reset_election_timer(id, now);
                }
            })
        });
        self.exec().run_ready();
    }

    // ----- time ---------------------------------------------------------------------------

    /// Virtual time since the start of the run.
    pub fn now(&self) -> Duration {
        self.exec().now().since_start()
    }

    /// The settings this run was created with (faults changed since are reflected).
    pub fn config(&self) -> SimConfig {
        self.world.lock().config.clone()
    }

    /// Runs the cluster for `duration` of virtual time.
    pub fn advance(&mut self, duration: Duration) {
        let target = self.exec().now() + duration;
        while let Some(at) = self.next_wakeup().filter(|at| *at <= target) {
            self.run_instant(at);
        }
        self.exec().run_until(target);
        self.observe();
    }

    /// Runs to the next instant at which something observable happens (a message sent or
    /// delivered, a role change…) and returns `true`; `false` if nothing is scheduled to happen
    /// within a virtual minute.
    pub fn step(&mut self) -> bool {
        let before = self.events_recorded;
        let limit = self.exec().now() + Duration::from_secs(60);
        while let Some(at) = self.next_wakeup().filter(|at| *at <= limit) {
            self.run_instant(at);
            if self.events_recorded > before {
                return true;
            }
        }
        false
    }

    /// Runs until `done` holds (checked after every instant at which something happens) or
    /// `limit` of virtual time has passed. Returns whether `done` held.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Simulation) -> bool,
    ) -> bool {
        let target = self.exec().now() + limit;
        loop {
            if done(self) {
                return true;
            }
            match self.next_wakeup().filter(|at| *at <= target) {
                Some(at) => self.run_instant(at),
                None => {
                    self.exec().run_until(target);
                    self.observe();
                    return done(self);
                }
            }
        }
    }

    /// The earliest instant at which a timer of any task or an election timer is due.
    fn next_wakeup(&self) -> Option<VirtualInstant> {
        let election = self.world.lock().election_deadline.values().min().copied();
        match (self.exec().next_deadline(), election) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn run_instant(&mut self, at: VirtualInstant) {
        self.exec().run_until(at);
        self.fire_elections(at);
        self.exec().run_ready();
        self.observe();
    }

    /// Starts an election at every running voter whose timer has run out.
    fn fire_elections(&mut self, now: VirtualInstant) {
        let due: Vec<(NodeId, SimRaft)> = {
            let world = self.world.lock();
            world
                .election_deadline
                .iter()
                .filter(|(_, at)| **at <= now)
                .filter_map(|(id, _)| world.rafts.get(id).map(|raft| (*id, raft.clone())))
                .collect()
        };
        for (id, raft) in due {
            self.start_election(id, raft, now);
        }
    }

    fn start_election(&mut self, id: NodeId, raft: SimRaft, now: VirtualInstant) {
        let pre_vote = {
            let mut world = self.world.lock();
            world.record(now, EventKind::ElectionTimeout { node: id });
            world.reset_election_timer(id, now);
            world.config.pre_vote
        };
        let is_voter = raft
            .metrics()
            .borrow_watched()
            .membership_config
            .membership()
            .voter_ids()
            .any(|voter| voter == id);
        if !is_voter {
            return;
        }
        self.exec().enter_as(Some(id), || {
            self.exec().spawn(async move {
                // Fails only if the node is shutting down, and then there is nothing to elect.
                let _ = raft.trigger().elect(pre_vote).await;
            })
        });
    }

    /// Turns what changed at running nodes since the last look into events, and keeps election
    /// timers in step with roles: leaders have none, a node that stops leading gets a fresh one.
    fn observe(&mut self) {
        let leaving = std::mem::take(&mut self.world.lock().leaving);
        for id in leaving {
            self.removed.insert(id);
            self.stop(id);
        }
        let now = self.exec().now();
        let rafts: Vec<(NodeId, SimRaft)> = self
            .world
            .lock()
            .rafts
            .iter()
            .map(|(id, raft)| (*id, raft.clone()))
            .collect();
        for (id, raft) in rafts {
            let metrics = raft.metrics().borrow_watched().clone();
            let role = role_of(metrics.state);
            let seen = Seen {
                role,
                term: metrics.current_term,
                commit: metrics.local_committed.as_ref().map_or(0, |id| id.index),
            };
            let before = self.seen.insert(id, seen);
            let mut world = self.world.lock();
            if before.is_none_or(|before| before.role != seen.role || before.term != seen.term) {
                world.record(
                    now,
                    EventKind::RoleChanged {
                        node: id,
                        role: seen.role,
                        term: seen.term,
                    },
                );
            }
            if before.is_some_and(|before| seen.commit > before.commit)
                || (before.is_none() && seen.commit > 0)
            {
                world.record(
                    now,
                    EventKind::Committed {
                        node: id,
                        index: seen.commit,
                    },
                );
            }
            match role {
                Role::Leader => {
                    world.election_deadline.remove(&id);
                }
                _ if !world.election_deadline.contains_key(&id) => {
                    world.reset_election_timer(id, now)
                }
                _ => {}
            }
        }
        let fresh = std::mem::take(&mut self.world.lock().events);
        self.events_recorded += fresh.len() as u64;
        self.events.extend(fresh);
    }

    // ----- observation ----------------------------------------------------------------------

    /// Takes the events that happened since the last call, oldest first.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Ids of every node, running or not.
    pub fn node_ids(&self) -> Vec<NodeId> {
        self.nodes.keys().copied().collect()
    }

    /// Whether node `id` is running.
    pub fn is_running(&self, id: NodeId) -> bool {
        self.world.lock().rafts.contains_key(&id)
    }

    /// A snapshot of every node.
    pub fn nodes(&self) -> Vec<NodeSnapshot> {
        self.nodes.keys().filter_map(|&id| self.node(id)).collect()
    }

    /// A snapshot of node `id`.
    pub fn node(&self, id: NodeId) -> Option<NodeSnapshot> {
        let node = self.nodes.get(&id)?;
        let now = self.exec().now();
        let (raft, deadline) = {
            let world = self.world.lock();
            (
                world.rafts.get(&id).cloned(),
                world.election_deadline.get(&id).copied(),
            )
        };
        let (load, placements) = node.state_machine.read(|state| {
            let placements: Vec<(u64, u32)> = state
                .services()
                .values()
                .filter_map(|service| service.placement.get(&id).map(|count| (service.id, *count)))
                .collect();
            (state.node_load(id).unwrap_or(0), placements)
        });
        let mut snapshot = NodeSnapshot {
            id,
            name: node.member.name.clone(),
            role: Role::Down,
            term: 0,
            voted_for: None,
            leader: None,
            voter: false,
            last_log_index: node.log.last_index(),
            commit_index: 0,
            applied_index: node.state_machine.last_applied_index(),
            snapshot_index: node.state_machine.snapshot_index(),
            election_timeout_in: None,
            capacity: node.member.capacity,
            load,
            placements,
            peers: Vec::new(),
        };
        let Some(raft) = raft else {
            // Down: its term and vote are what its disk holds, as it will restart with them.
            if let Some(vote) = node.log.vote() {
                snapshot.term = vote.leader_id.term;
                snapshot.voted_for = (vote.leader_id.term > 0).then_some(vote.leader_id.voted_for);
            }
            return Some(snapshot);
        };
        let metrics = raft.metrics().borrow_watched().clone();
        snapshot.role = role_of(metrics.state);
        snapshot.term = metrics.current_term;
        snapshot.voted_for =
            (metrics.vote.leader_id.term > 0).then_some(metrics.vote.leader_id.voted_for);
        snapshot.leader = metrics.current_leader;
        snapshot.voter = metrics
            .membership_config
            .membership()
            .voter_ids()
            .any(|voter| voter == id);
        snapshot.commit_index = metrics
            .local_committed
            .as_ref()
            .map_or(0, |log_id| log_id.index);
        snapshot.election_timeout_in = deadline.filter(|_| snapshot.voter).map(|at| at - now);
        if let Some(replication) = &metrics.replication {
            snapshot.peers = replication
                .iter()
                .filter(|(peer, _)| **peer != id)
                .map(|(peer, matched)| {
                    let match_index = matched.as_ref().map_or(0, |log_id| log_id.index);
                    PeerProgress {
                        id: *peer,
                        match_index,
                        next_index: match_index + 1,
                    }
                })
                .collect();
        }
        Some(snapshot)
    }

    /// The leader of the highest term among running nodes that believe they lead. An old leader
    /// cut off from the others may still believe it leads, in a lower term: it is not the answer.
    pub fn leader(&self) -> Option<NodeId> {
        let world = self.world.lock();
        world
            .rafts
            .iter()
            .filter_map(|(id, raft)| {
                let metrics = raft.metrics().borrow_watched().clone();
                (metrics.state == ServerState::Leader).then_some((metrics.current_term, *id))
            })
            .max()
            .map(|(_, id)| id)
    }

    /// Node `id`'s log as it is on its disk (entries after its latest snapshot).
    pub fn log(&self, id: NodeId) -> Option<Vec<LogEntryView>> {
        self.nodes.get(&id).map(|node| node.log.entries(..))
    }

    /// Node `id`'s view of the orchestrator (as of what it has applied).
    pub fn cluster_state(&self, id: NodeId) -> Option<ClusterState> {
        self.nodes
            .get(&id)
            .map(|node| node.state_machine.read(Clone::clone))
    }

    /// How many snapshots node `id` has built itself.
    pub fn snapshots_built(&self, id: NodeId) -> Option<u64> {
        self.nodes
            .get(&id)
            .map(|node| node.state_machine.snapshots_built())
    }

    /// Messages on the wire right now.
    pub fn messages_in_flight(&self) -> Vec<Message> {
        self.world.lock().in_flight.values().cloned().collect()
    }

    /// Cut directed links, as `(from, to)` pairs.
    pub fn cut_links(&self) -> Vec<(NodeId, NodeId)> {
        self.world.lock().cut.iter().copied().collect()
    }

    /// The answer a client got to request `id`, once it has one.
    pub fn reply(&self, id: RequestId) -> Option<Result<Applied, String>> {
        self.world.lock().replies.get(&id).cloned()
    }

    // ----- faults ---------------------------------------------------------------------------

    fn check_node(&self, id: NodeId) -> Result<(), SimError> {
        if self.nodes.contains_key(&id) {
            Ok(())
        } else {
            Err(SimError::UnknownNode(id))
        }
    }

    fn record(&mut self, kind: EventKind) {
        let now = self.exec().now();
        self.world.lock().record(now, kind);
        self.observe();
    }

    /// Cuts the directed link `from → to`: what `from` sends to `to` is lost (requests and
    /// answers alike), while `to → from` still works.
    pub fn cut(&mut self, from: NodeId, to: NodeId) -> Result<(), SimError> {
        self.check_node(from)?;
        self.check_node(to)?;
        if from != to && self.world.lock().cut.insert((from, to)) {
            self.record(EventKind::LinkCut { from, to });
        }
        Ok(())
    }

    /// Heals the directed link `from → to`.
    pub fn heal(&mut self, from: NodeId, to: NodeId) -> Result<(), SimError> {
        self.check_node(from)?;
        self.check_node(to)?;
        if self.world.lock().cut.remove(&(from, to)) {
            self.record(EventKind::LinkHealed { from, to });
        }
        Ok(())
    }

    /// Cuts every link to and from `id`.
    pub fn isolate(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        for other in self.node_ids().into_iter().filter(|other| *other != id) {
            self.cut(id, other)?;
            self.cut(other, id)?;
        }
        Ok(())
    }

    /// Splits the cluster: links between nodes of different groups are cut both ways; links
    /// inside a group are healed. Nodes in no group form one more group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<(), SimError> {
        let group_of = |id: NodeId| {
            groups
                .iter()
                .position(|group| group.contains(&id))
                .unwrap_or(groups.len())
        };
        for id in groups.iter().flatten() {
            self.check_node(*id)?;
        }
        let ids = self.node_ids();
        for &a in &ids {
            for &b in &ids {
                if a != b {
                    if group_of(a) == group_of(b) {
                        self.heal(a, b)?
                    } else {
                        self.cut(a, b)?
                    }
                }
            }
        }
        Ok(())
    }

    /// Heals every cut link.
    pub fn heal_all(&mut self) {
        let cut = self.cut_links();
        for (from, to) in cut {
            // Both ends exist: the link was cut between known nodes.
            let _ = self.heal(from, to);
        }
    }

    /// Sets the probability that any one message is lost.
    pub fn set_drop_rate(&mut self, rate: f64) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SimError::InvalidConfig(format!(
                "drop rate must be between 0 and 1, got {rate}"
            )));
        }
        self.world.lock().config.drop_rate = rate;
        Ok(())
    }

    /// Sets the range one-way latencies are drawn from.
    pub fn set_latency(&mut self, min: Duration, max: Duration) -> Result<(), SimError> {
        if max < min {
            return Err(SimError::InvalidConfig("latency range is reversed".into()));
        }
        self.world.lock().config.latency = (min, max);
        Ok(())
    }

    /// Loses message `id` (it vanishes when it would have arrived). Returns `false` if it is not
    /// on the wire.
    pub fn drop_message(&mut self, id: MessageId) -> bool {
        self.world.lock().drop_message(id)
    }

    /// Kills node `id`'s process: its tasks stop mid-flight; its log, vote and snapshot stay.
    pub fn crash(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        if !self.stop(id) {
            return Err(SimError::NodeDown(id));
        }
        self.record(EventKind::Crashed { node: id });
        Ok(())
    }

    /// Ends node `id`'s process (its tasks stop mid-flight, its disk stays). Returns `false` if it
    /// was not running.
    fn stop(&mut self, id: NodeId) -> bool {
        let raft = {
            let mut world = self.world.lock();
            world.election_deadline.remove(&id);
            world.rafts.remove(&id)
        };
        if raft.is_none() {
            return false;
        }
        drop(raft);
        self.exec().kill_owner(id);
        self.seen.remove(&id);
        true
    }

    /// Starts a crashed node again from its disk: it restores its latest snapshot, replays its
    /// log and catches up with the leader. A removed node cannot be restarted.
    pub fn restart(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        if self.removed.contains(&id) {
            return Err(SimError::Removed(id));
        }
        if self.is_running(id) {
            return Err(SimError::NodeRunning(id));
        }
        let node = self.nodes.get_mut(&id).ok_or(SimError::UnknownNode(id))?;
        node.state_machine = node.state_machine.after_crash();
        self.boot(id);
        self.record(EventKind::Restarted { node: id });
        Ok(())
    }

    /// Makes node `id`'s election timer run out now.
    pub fn time_out(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let raft = self
            .world
            .lock()
            .rafts
            .get(&id)
            .cloned()
            .ok_or(SimError::NodeDown(id))?;
        let now = self.exec().now();
        self.start_election(id, raft, now);
        self.exec().run_ready();
        self.observe();
        Ok(())
    }

    /// Sets node `id`'s election timer to run out after `after` (until it is next reset). With
    /// it, a user can align timers to provoke a split vote, or spread them apart.
    pub fn set_election_timer(&mut self, id: NodeId, after: Duration) -> Result<(), SimError> {
        self.check_node(id)?;
        let now = self.exec().now();
        let mut world = self.world.lock();
        if !world.rafts.contains_key(&id) {
            return Err(SimError::NodeDown(id));
        }
        if world.election_deadline.contains_key(&id) {
            world.election_deadline.insert(id, now + after);
        }
        Ok(())
    }

    // ----- clients and membership -----------------------------------------------------------

    /// A client sends `command` to node `id`, which commits it if it leads or forwards it to the
    /// leader it knows. The answer shows up as a [`EventKind::ClientReply`] and in
    /// [`Simulation::reply`].
    pub fn submit(&mut self, id: NodeId, command: Command) -> Result<RequestId, SimError> {
        self.check_node(id)?;
        if !self.is_running(id) {
            return Err(SimError::NodeDown(id));
        }
        let now = self.exec().now();
        let (request, timeout) = {
            let mut world = self.world.lock();
            let request = world.next_request;
            world.next_request += 1;
            world.record(
                now,
                EventKind::ClientRequest {
                    request,
                    node: id,
                    command: command.to_string(),
                },
            );
            (request, world.config.client_timeout)
        };
        let world = self.world.clone();
        self.exec().enter_as(Some(id), || {
            self.exec()
                .spawn(client::serve(world, id, request, command, timeout))
        });
        self.exec().run_ready();
        self.observe();
        Ok(request)
    }

    /// The leader of the highest term and its Raft handle: membership changes go through it.
    fn leader_raft(&self) -> Result<(NodeId, SimRaft), SimError> {
        let leader = self.leader().ok_or(SimError::NoLeader)?;
        let raft = self
            .world
            .lock()
            .rafts
            .get(&leader)
            .cloned()
            .ok_or(SimError::NoLeader)?;
        Ok((leader, raft))
    }

    /// Starts a new node with `capacity` and asks the leader to add it to the membership (as a
    /// learner first, then as a voter once it has caught up). Returns its id.
    pub fn add_node(&mut self, capacity: u32) -> Result<NodeId, SimError> {
        let (leader, raft) = self.leader_raft()?;
        let id = self.nodes.keys().next_back().map_or(1, |last| last + 1);
        self.create_node(id, capacity);
        self.boot(id);
        let member = self.nodes[&id].member.clone();
        self.exec().enter_as(Some(leader), || {
            self.exec().spawn(async move {
                if raft.add_learner(id, member, true).await.is_ok() {
                    let voters: Vec<NodeId> = raft
                        .metrics()
                        .borrow_watched()
                        .membership_config
                        .membership()
                        .voter_ids()
                        .chain([id])
                        .collect();
                    let _ = raft.change_membership(voters, false).await;
                }
            })
        });
        self.record(EventKind::NodeAdded { node: id });
        Ok(id)
    }

    /// Asks the leader to remove node `id` from the membership (not even a learner stays);
    /// once the change is committed the node stops for good. Applying the change removes the node
    /// from the orchestrator's node list, so its replicas are re-placed on the others.
    pub fn remove_node(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let (leader, raft) = self.leader_raft()?;
        let world = self.world.clone();
        let exec = self.exec().clone();
        exec.enter_as(Some(leader), || {
            exec.spawn(async move {
                let membership = raft
                    .metrics()
                    .borrow_watched()
                    .membership_config
                    .membership()
                    .clone();
                let change: ChangeMembers<NodeId, Member> =
                    if membership.voter_ids().any(|voter| voter == id) {
                        let voters: BTreeSet<NodeId> = membership
                            .voter_ids()
                            .filter(|voter| *voter != id)
                            .collect();
                        ChangeMembers::ReplaceAllVoters(voters)
                    } else {
                        ChangeMembers::RemoveNodes(BTreeSet::from([id]))
                    };
                // retain = false: a removed voter does not stay on as a learner.
                if raft.change_membership(change, false).await.is_ok() {
                    let now = crate::rt::executor_here().now();
                    let mut world = world.lock();
                    world.record(now, EventKind::NodeRemoved { node: id });
                    // The driver stops it as soon as this instant's tasks are done.
                    world.leaving.push(id);
                }
            })
        });
        self.exec().run_ready();
        self.observe();
        Ok(())
    }
}

/// How simulated node `id` describes itself in the membership.
fn member(id: NodeId, capacity: u32) -> Member {
    Member {
        name: format!("n{id}"),
        addr: format!("sim:{id}"),
        capacity,
    }
}

fn role_of(state: ServerState) -> Role {
    match state {
        ServerState::Leader => Role::Leader,
        ServerState::Candidate => Role::Candidate,
        ServerState::Follower => Role::Follower,
        ServerState::Learner => Role::Learner,
        ServerState::Shutdown => Role::Down,
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
