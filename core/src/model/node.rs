//! Nodes: the machines that run replicas, as the replicated state knows them.
//!
//! A node's identity is shared with Raft: the same `NodeId` names the Raft member and the
//! worker, so "node 3 stopped answering Raft" and "node 3's replicas must move" are one fact.

use serde::{Deserialize, Serialize};

/// Identifies a node; it is also the node's Raft id, so one number names both roles.
pub type NodeId = u64;

/// Largest capacity a node may declare. No machine runs a million containers, and the cap
/// bounds the work of any one command: adding a node, or taking one down, moves at most
/// this many replicas.
pub const MAX_NODE_CAPACITY: u32 = 1_000_000;

/// Whether a node can be given work.
///
/// Every rule that depends on the status asks one of the methods below instead of matching
/// on the variants, so later availability states (pause, drain) only have to answer them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeStatus {
    /// Answering: receives new replicas and keeps the ones it has.
    Up,
    /// Not answering: gets no work, and its replicas are re-placed on the other nodes.
    /// The node stays in the cluster (with load 0) so it can come back with `MarkNodeUp`.
    Down,
}

impl NodeStatus {
    /// Whether new replicas may be placed on a node in this status.
    pub fn accepts_replicas(self) -> bool {
        match self {
            NodeStatus::Up => true,
            NodeStatus::Down => false,
        }
    }

    /// Whether replicas already on a node in this status stay there; when not, entering the
    /// status moves them elsewhere.
    pub fn keeps_replicas(self) -> bool {
        match self {
            NodeStatus::Up => true,
            NodeStatus::Down => false,
        }
    }
}

/// What a client supplies to add a node: everything but the status, which always starts
/// `Up` (a node is added because it is answering).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeSpec {
    /// Raft and worker id; unique in the cluster.
    pub id: NodeId,
    /// The seed API's alphanumeric node id (e.g. `"custom0"`, `"n1"`); unique, so clients
    /// can keep addressing nodes the way the seed did.
    pub name: String,
    /// `"host:port"` the node serves on; unique, because the seed's DELETE /nodes names a
    /// node by host and port.
    pub addr: String,
    /// How many replicas the node can hold, at most [`MAX_NODE_CAPACITY`]; 0 is allowed
    /// (a node that only takes part in Raft).
    pub capacity: u32,
}

/// A node as stored in the cluster state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// See [`NodeSpec::id`].
    pub id: NodeId,
    /// See [`NodeSpec::name`].
    pub name: String,
    /// See [`NodeSpec::addr`].
    pub addr: String,
    /// See [`NodeSpec::capacity`].
    pub capacity: u32,
    /// Whether it currently gets work.
    pub status: NodeStatus,
}

impl NodeInfo {
    /// A freshly added node: nodes join because they answer, so they start `Up`.
    pub fn up(spec: &NodeSpec) -> Self {
        NodeInfo {
            id: spec.id,
            name: spec.name.clone(),
            addr: spec.addr.clone(),
            capacity: spec.capacity,
            status: NodeStatus::Up,
        }
    }
}

/// A node together with its current load: what stats and command outcomes show. The load
/// is derived from the services' placements, so it is not part of [`NodeInfo`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeView {
    /// See [`NodeSpec::id`].
    pub id: NodeId,
    /// See [`NodeSpec::name`].
    pub name: String,
    /// See [`NodeSpec::addr`].
    pub addr: String,
    /// See [`NodeSpec::capacity`].
    pub capacity: u32,
    /// Replicas currently placed on the node; never above `capacity`, 0 when `Down`.
    pub load: u32,
    /// See [`NodeInfo::status`].
    pub status: NodeStatus,
}

impl NodeView {
    /// Combines a stored node with its load.
    pub fn new(info: &NodeInfo, load: u32) -> Self {
        NodeView {
            id: info.id,
            name: info.name.clone(),
            addr: info.addr.clone(),
            capacity: info.capacity,
            load,
            status: info.status,
        }
    }
}
