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
//! Layout: this file holds [`Simulation`] itself and how it starts its nodes. The methods are
//! spread by topic: `driver` moves time (advance, step, run until, election timers) and turns
//! what changed into events; `faults` cuts links, isolates and splits (plans from
//! [`crate::scenario`]), loses messages, crashes and restarts nodes; `membership` adds and
//! removes nodes; `client` serves client requests (forwarding to the leader); `view` is what
//! observers read (each node as a [`NodeReport`], the leader, logs, messages). Underneath,
//! [`config`](SimConfig) holds the knobs; `world` is what nodes share (the wire, election
//! timers, the event record); `network` implements openraft's network traits on that wire;
//! [`event`] is what happened. Time moves only when the driver calls [`Simulation::advance`],
//! [`Simulation::step`] or [`Simulation::run_until`].
//!
//! Election timers are the simulation's, not openraft's (its own elections are disabled and the
//! simulation triggers them): that is what lets observers see each node's timer run down, and
//! lets a user force a timeout or align timers to provoke a split vote.

pub mod campaign;
mod client;
mod config;
mod driver;
mod error;
pub mod event;
mod faults;
mod membership;
mod network;
mod types;
mod view;
mod workload;
mod world;

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;

pub use config::SimConfig;
pub use error::SimError;
pub use event::DropReason;
pub use event::Event;
pub use event::EventKind;
pub use event::Message;
pub use event::MessageId;
pub use event::MessageKind;
pub use event::NodeId;
pub use event::RequestId;
pub use types::SimRaft;
pub use types::SimTypes;
pub use workload::Workload;

pub use crate::raft::status::NodeReport;
pub use crate::raft::status::PeerProgress;
pub use crate::raft::status::Role;

use self::network::SimNetworkFactory;
use self::world::World;
use self::world::WorldHandle;
use crate::raft::MemLogStore;
use crate::raft::Member;
use crate::raft::StateMachineStore;
use crate::raft::timing::RaftOptions;
use crate::raft::watch_liveness;
use crate::rt::Executor;
use crate::rt::VirtualRuntime;

/// The cluster name every simulated node carries.
const CLUSTER_NAME: &str = "flotilla-sim";

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
    /// Log entries crashed nodes lost because their disk had not flushed them yet.
    entries_lost_in_crashes: u64,
}

impl Simulation {
    /// Starts a cluster of `config.nodes` nodes (ids 1..=n, all voters, all followers: the first
    /// whose election timer runs out campaigns).
    pub fn new(config: SimConfig) -> Result<Self, SimError> {
        config.validate().map_err(SimError::InvalidConfig)?;
        let raft_config = config
            .timing()
            .raft_config(RaftOptions {
                cluster_name: CLUSTER_NAME.to_string(),
                // The simulation runs the election timers itself (see the module docs).
                openraft_elections: false,
                // The simulation's own timers start elections with or without a pre-vote
                // (`SimConfig::pre_vote`); this tells openraft the same.
                pre_vote: config.pre_vote,
                snapshot_every: config.snapshot_every,
                logs_kept_after_snapshot: config.logs_kept_after_snapshot,
            })
            .map_err(|err| SimError::InvalidConfig(err.to_string()))?;
        let runtime = VirtualRuntime::with_seed(config.seed);
        let count = config.nodes as u64;
        let capacity = config.capacity;
        let config_flush_delay = config.disk_flush_delay;
        let mut sim = Simulation {
            runtime,
            world: WorldHandle::new(World::new(config)),
            raft_config: Arc::new(raft_config),
            nodes: BTreeMap::new(),
            seen: BTreeMap::new(),
            removed: BTreeSet::new(),
            events_recorded: 0,
            events: Vec::new(),
            entries_lost_in_crashes: 0,
        };
        let members: BTreeMap<NodeId, Member> =
            (1..=count).map(|id| (id, member(id, capacity))).collect();
        for id in 1..=count {
            let log = MemLogStore::bootstrapped(&members).map_err(SimError::InvalidConfig)?;
            log.set_flush_delay(config_flush_delay);
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

    /// A node with an empty disk, not started yet.
    fn create_node(&mut self, id: NodeId, capacity: u32) {
        let log = MemLogStore::default();
        log.set_flush_delay(self.world.lock().config.disk_flush_delay);
        self.nodes.insert(
            id,
            SimNode {
                member: member(id, capacity),
                log,
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
        let liveness = world.lock().config.timing().liveness();
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

    /// Refuses ids that name no node.
    fn check_node(&self, id: NodeId) -> Result<(), SimError> {
        if self.nodes.contains_key(&id) {
            Ok(())
        } else {
            Err(SimError::UnknownNode(id))
        }
    }

    /// Records an event the driver caused (a fault, a restart…) and observes its effects.
    fn record(&mut self, kind: EventKind) {
        let now = self.exec().now();
        self.world.lock().record(now, kind);
        self.observe();
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
