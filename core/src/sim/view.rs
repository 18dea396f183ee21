//! What observers read of a simulation: events, each node's [`NodeReport`], the leader, logs,
//! orchestrator states, messages on the wire and cut links.

use openraft_rt::WatchReceiver;

use super::Event;
use super::Message;
use super::NodeId;
use super::NodeReport;
use super::RequestId;
use super::Role;
use super::Simulation;
use crate::model::ClusterState;
use crate::raft::Applied;
use crate::raft::LogEntryView;
use crate::raft::status::HostFacts;
use crate::raft::status::leader_among;

impl Simulation {
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

    /// Every node's report, in id order.
    pub fn nodes(&self) -> Vec<NodeReport> {
        self.nodes
            .keys()
            .filter_map(|&id| self.report(id, true))
            .collect()
    }

    /// Every node's report without `members` and `connections`: what a frame draws. The cut
    /// links ([`Simulation::cut_links`]) say the same once for the whole cluster, while the
    /// per-node maps are n² entries, most of the cost of a frame at 51 nodes.
    pub fn nodes_without_links(&self) -> Vec<NodeReport> {
        self.nodes
            .keys()
            .filter_map(|&id| self.report(id, false))
            .collect()
    }

    /// Node `id`'s report: from its Raft metrics while it runs, from its disk while it is down
    /// (built by core's one builder, as a native node builds its own).
    pub fn node(&self, id: NodeId) -> Option<NodeReport> {
        self.report(id, true)
    }

    /// Node `id`'s report, with or without its membership and links.
    fn report(&self, id: NodeId, links: bool) -> Option<NodeReport> {
        let node = self.nodes.get(&id)?;
        let now = self.exec().now();
        let (raft, deadline, connections) = {
            let world = self.world.lock();
            let connections = self
                .nodes
                .iter()
                .filter(|(other, _)| links && **other != id)
                .map(|(other, peer)| {
                    let up = !world.cut.contains(&(id, *other));
                    (peer.member.addr.clone(), u8::from(up))
                })
                .collect();
            (
                world.rafts.get(&id).cloned(),
                world.election_deadline.get(&id).copied(),
                connections,
            )
        };
        let host = HostFacts {
            name: node.member.name.clone(),
            addr: node.member.addr.clone(),
            cluster: self.raft_config.cluster_name.clone(),
            capacity: node.member.capacity,
            last_log_index: node.log.last_index(),
            applied_index: node.state_machine.last_applied_index(),
            snapshot_index: node.state_machine.snapshot_index(),
            connections,
            list_members: links,
            election_timeout_in: deadline.map(|at| at - now),
        };
        let report = match raft {
            Some(raft) => {
                let metrics = raft.metrics().borrow_watched().clone();
                node.state_machine
                    .read(|state| NodeReport::from_metrics(&metrics, state, host))
            }
            // Down: its term and vote are what its disk holds, as it will restart with them.
            None => node
                .state_machine
                .read(|state| NodeReport::stopped(id, node.log.vote().as_ref(), state, host)),
        };
        Some(report)
    }

    /// The leader of the highest term among running nodes that believe they lead (core's
    /// [`leader_among`] rule). An old leader cut off from the others may still believe it
    /// leads, in a lower term: it is not the answer.
    pub fn leader(&self) -> Option<NodeId> {
        let world = self.world.lock();
        leader_among(world.rafts.iter().map(|(id, raft)| {
            let metrics = raft.metrics();
            let metrics = metrics.borrow_watched();
            (*id, Role::from(metrics.state), metrics.current_term)
        }))
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
}
