//! [`Member`]: what the Raft membership records about each node.

use serde::Deserialize;
use serde::Serialize;

/// A node as the Raft membership knows it. The membership is the orchestrator's node list: when
/// a membership entry is applied, nodes that joined are added with this capacity and nodes that
/// left are removed (their replicas re-placed), so adding a node is one Raft operation, not two
/// that could disagree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Human name, unique in the cluster (the seed API's alphanumeric node `id`, e.g. `custom0`).
    pub name: String,
    /// Where its Raft and API endpoints listen, `host:port`.
    pub addr: String,
    /// How many replicas it can run.
    pub capacity: u32,
}
