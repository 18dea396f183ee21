//! [`NodeReport`]: one node at one instant — role, term, vote, leader, log indexes, load,
//! membership and links — as every host reports it, built by one builder from openraft's
//! metrics and the node's state machine; and [`leader_of`], the one rule for which node leads.
//!
//! The simulation's frames and a native node's `/stats` and `/events` carry this same type, so
//! the page draws simulated and native nodes from the same field names. It deserialises too: a
//! host may read other nodes' reports back (fields a host may omit default to empty).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use openraft::RaftMetrics;
use openraft::ServerState;
use serde::Deserialize;
use serde::Serialize;

use super::FlotillaConfig;
use super::Vote;
use crate::model::ClusterState;
use crate::model::NodeId;
use crate::model::ServiceId;

/// What a node is in Raft terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Follows a leader (or waits for one).
    Follower,
    /// Asking for votes.
    Candidate,
    /// Replicating its log to the others.
    Leader,
    /// Receives the log but does not vote.
    Learner,
    /// Not running (crashed, removed, or shutting down). Reads `"shutdown"` as well, openraft's
    /// word for a node that is stopping.
    #[serde(alias = "shutdown")]
    Down,
}

impl From<ServerState> for Role {
    fn from(state: ServerState) -> Self {
        match state {
            ServerState::Leader => Role::Leader,
            ServerState::Candidate => Role::Candidate,
            ServerState::Follower => Role::Follower,
            ServerState::Learner => Role::Learner,
            ServerState::Shutdown => Role::Down,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Learner => "learner",
            Role::Down => "down",
        })
    }
}

/// One node at one instant, as the page draws it, as invariant checks read it and as a native
/// node reports itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeReport {
    /// Raft node id.
    pub id: NodeId,
    /// Human name (`n1`, `custom0`, …).
    #[serde(default)]
    pub name: String,
    /// Where it listens, `host:port` (`sim:<id>` in the simulation).
    #[serde(default)]
    pub addr: String,
    /// The cluster it belongs to.
    #[serde(default)]
    pub cluster: String,
    /// Role; [`Role::Down`] while it is not running.
    pub role: Role,
    /// Current term (from its disk while it is down).
    pub term: u64,
    /// Whom it voted for in `term`, if anyone.
    #[serde(default)]
    pub voted_for: Option<NodeId>,
    /// The leader it believes in, if any.
    #[serde(default)]
    pub leader: Option<NodeId>,
    /// Whether it votes (learners and nodes not yet in the membership do not).
    #[serde(default)]
    pub voter: bool,
    /// Index of its last log entry.
    #[serde(default)]
    pub last_log_index: u64,
    /// Highest index it knows to be committed.
    #[serde(default)]
    pub commit_index: u64,
    /// Highest index its state machine has applied.
    #[serde(default)]
    pub applied_index: u64,
    /// Highest index covered by its latest snapshot (its log starts after it).
    #[serde(default)]
    pub snapshot_index: u64,
    /// Time left before it starts an election, for running followers and candidates of a host
    /// that runs the election timers itself (the simulation); `None` elsewhere.
    #[serde(default)]
    pub election_timeout_in: Option<Duration>,
    /// Replicas it can hold.
    #[serde(default)]
    pub capacity: u32,
    /// Replicas placed on it, as its own state machine has it.
    #[serde(default)]
    pub load: u32,
    /// Replicas per service placed on it, by service id.
    #[serde(default)]
    pub placements: Vec<(ServiceId, u32)>,
    /// As leader: how far each other member's log is known to match its own; empty otherwise.
    #[serde(default)]
    pub peers: Vec<PeerProgress>,
    /// Every member of the membership it knows (itself included): Raft id → address. Left out
    /// of the JSON when empty (a node that is down knows none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub members: BTreeMap<NodeId, String>,
    /// The links from this node: each peer's address → 1 if what it sends there gets through,
    /// 0 if the link is cut (the shape a native node's `POST /connections` takes). Left out of
    /// the JSON when empty.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connections: BTreeMap<String, u8>,
}

/// A leader's view of one follower's replication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerProgress {
    /// The follower.
    pub id: NodeId,
    /// Highest index known to match the leader's log (0 if none yet).
    pub match_index: u64,
    /// Next index the leader sends. openraft tracks it internally and exposes only the match,
    /// so this is `match_index + 1`, which is what it converges to while replication is healthy.
    pub next_index: u64,
}

/// What only the host knows about a node: its identity, what its stores hold, its links and
/// (if the host runs them) its election timer. [`NodeReport::from_metrics`] and
/// [`NodeReport::stopped`] add what openraft and the state machine say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    /// Human name.
    pub name: String,
    /// Where it listens, `host:port`.
    pub addr: String,
    /// The cluster it belongs to.
    pub cluster: String,
    /// Replicas it can hold.
    pub capacity: u32,
    /// Index of the last entry in its log store. The store can be ahead of openraft's metrics
    /// for a moment, never behind; the report shows the further of the two.
    pub last_log_index: u64,
    /// Highest index its state machine store has applied (the further of it and the metrics'
    /// is reported, as for the log).
    pub applied_index: u64,
    /// Highest index its latest snapshot covers.
    pub snapshot_index: u64,
    /// The links from this node, peer address → 1 up / 0 cut.
    pub connections: BTreeMap<String, u8>,
    /// Whether to list the membership in [`NodeReport::members`]. A host reporting one node
    /// lists it; one that reports every node many times a second may leave it out (n nodes'
    /// lists are n² entries) when it says the same another way.
    pub list_members: bool,
    /// Time left on its election timer, if the host runs the timers itself and it has one.
    pub election_timeout_in: Option<Duration>,
}

impl NodeReport {
    /// A running node's report, from its openraft metrics, its state machine's state and what
    /// the host knows. The election timer is shown only for voters (a learner never campaigns).
    pub fn from_metrics<C: FlotillaConfig>(
        metrics: &RaftMetrics<C>,
        state: &ClusterState,
        host: HostFacts,
    ) -> NodeReport {
        let id = metrics.id;
        let membership = metrics.membership_config.membership();
        let voter = membership.voter_ids().any(|voter| voter == id);
        let peers = metrics
            .replication
            .as_ref()
            .map(|replication| {
                replication
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
                    .collect()
            })
            .unwrap_or_default();
        let members = if host.list_members {
            membership
                .nodes()
                .map(|(id, member)| (*id, member.addr.clone()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let election_timeout_in = host.election_timeout_in.filter(|_| voter);
        let last_log_index = metrics.last_log_index.unwrap_or(0).max(host.last_log_index);
        let applied_index = metrics
            .last_applied
            .as_ref()
            .map_or(0, |log_id| log_id.index)
            .max(host.applied_index);
        NodeReport {
            role: Role::from(metrics.state),
            term: metrics.current_term,
            voted_for: voted_for(&metrics.vote),
            leader: metrics.current_leader,
            voter,
            last_log_index,
            commit_index: metrics
                .local_committed
                .as_ref()
                .map_or(0, |log_id| log_id.index),
            applied_index,
            election_timeout_in,
            peers,
            members,
            ..NodeReport::base(id, state, host)
        }
    }

    /// A node that is not running: [`Role::Down`], with the term and vote its disk holds (as
    /// it will restart with them) and its store's indexes; it leads, follows and votes for no
    /// one now, and has no election timer.
    pub fn stopped(
        id: NodeId,
        vote: Option<&Vote>,
        state: &ClusterState,
        host: HostFacts,
    ) -> NodeReport {
        let last_log_index = host.last_log_index;
        let applied_index = host.applied_index;
        NodeReport {
            term: vote.map_or(0, |vote| vote.leader_id.term),
            voted_for: vote.and_then(voted_for),
            last_log_index,
            applied_index,
            ..NodeReport::base(id, state, host)
        }
    }

    /// What every report holds whatever the node's state: identity, load and placements (from
    /// its own state machine), snapshot and links; the rest empty, as for a node that is down.
    fn base(id: NodeId, state: &ClusterState, host: HostFacts) -> NodeReport {
        let placements = state
            .services()
            .values()
            .filter_map(|service| service.placement.get(&id).map(|count| (service.id, *count)))
            .collect();
        NodeReport {
            id,
            name: host.name,
            addr: host.addr,
            cluster: host.cluster,
            role: Role::Down,
            term: 0,
            voted_for: None,
            leader: None,
            voter: false,
            last_log_index: 0,
            commit_index: 0,
            applied_index: 0,
            snapshot_index: host.snapshot_index,
            election_timeout_in: None,
            capacity: host.capacity,
            load: state.node_load(id).unwrap_or(0),
            placements,
            peers: Vec::new(),
            members: BTreeMap::new(),
            connections: host.connections,
        }
    }
}

/// Whom a vote is for, if it has been cast in a term (term 0 is the initial, empty vote).
fn voted_for(vote: &Vote) -> Option<NodeId> {
    (vote.leader_id.term > 0).then_some(vote.leader_id.voted_for)
}

/// The leader of a cluster: of the nodes that say they lead, the one in the highest term. An
/// old leader cut off from the others may still believe it leads, in a lower term: it is not
/// the answer. (Raft allows one leader per term, so the highest term names one node; were two
/// ever to claim the same term, the higher id would be named.)
pub fn leader_of<'a>(nodes: impl IntoIterator<Item = &'a NodeReport>) -> Option<NodeId> {
    leader_among(
        nodes
            .into_iter()
            .map(|node| (node.id, node.role, node.term)),
    )
}

/// [`leader_of`] over `(id, role, term)` claims, for a host that has the three at hand without
/// building whole reports.
pub fn leader_among(claims: impl IntoIterator<Item = (NodeId, Role, u64)>) -> Option<NodeId> {
    claims
        .into_iter()
        .filter(|(_, role, _)| *role == Role::Leader)
        .map(|(id, _, term)| (term, id))
        .max()
        .map(|(_, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: NodeId, role: Role, term: u64) -> NodeReport {
        NodeReport {
            role,
            term,
            ..NodeReport::stopped(id, None, &ClusterState::default(), HostFacts::default())
        }
    }

    #[test]
    fn the_leader_is_the_one_that_leads_in_the_highest_term() {
        let nodes = [
            report(1, Role::Leader, 2),
            report(2, Role::Leader, 5),
            report(3, Role::Candidate, 7),
            report(4, Role::Follower, 5),
        ];
        assert_eq!(leader_of(&nodes), Some(2));
        assert_eq!(leader_of(&nodes[2..]), None);
    }

    #[test]
    fn a_report_reads_back_with_omitted_fields_defaulted() {
        let node = report(3, Role::Follower, 4);
        let json = serde_json::to_string(&node).unwrap();
        assert_eq!(serde_json::from_str::<NodeReport>(&json).unwrap(), node);
        let minimal: NodeReport =
            serde_json::from_str(r#"{"id":1,"role":"shutdown","term":3}"#).unwrap();
        assert_eq!((minimal.role, minimal.term), (Role::Down, 3));
        assert!(minimal.members.is_empty());
    }
}
