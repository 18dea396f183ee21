//! The API's answers the client commands read, as types: the entry point's cluster report
//! (`GET /clusters/:id/stats`), its per-node stats (`GET /clusters/:id`) and the cluster list,
//! with core's own [`NodeView`] and [`ServiceView`] inside. Fields the commands do not show are
//! ignored, so the API may grow without breaking them.

use std::collections::BTreeMap;

use flotilla_core::model::NodeView;
use flotilla_core::model::ServiceView;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ClientError;

/// `GET /clusters/:id/stats`: the state as the leader of the highest term has it.
#[derive(Clone, Debug, Deserialize)]
pub struct ClusterReport {
    /// The reporting node's term (the leader's, when there is one).
    pub term: u64,
    /// The reporting node's commit index.
    pub commit_index: u64,
    /// Who leads, if any node says it does.
    pub leader: Option<LeaderRef>,
    /// Every node, with the role it reports.
    pub nodes: Vec<ReportedNode>,
    /// Every service with its placement.
    pub services: Vec<ServiceView>,
    /// Replicas waiting for capacity, over all services.
    pub pending: u64,
}

impl ClusterReport {
    /// The node with Raft id `id`, if the cluster has it.
    pub fn node(&self, id: u64) -> Option<&NodeView> {
        self.nodes
            .iter()
            .map(|reported| &reported.node)
            .find(|node| node.id == id)
    }
}

/// The leader, as the entry point names it.
#[derive(Clone, Debug, Deserialize)]
pub struct LeaderRef {
    /// Its Raft id.
    pub id: u64,
    /// Its `host:port`.
    pub addr: String,
    /// The term it leads in.
    pub term: u64,
}

/// A node of the cluster report: core's view plus the role the node itself reports
/// (`leader`, `follower`, …, or `unreachable`).
#[derive(Clone, Debug, Deserialize)]
pub struct ReportedNode {
    /// Id, name, address, capacity, load, up or down.
    #[serde(flatten)]
    pub node: NodeView,
    /// What it says it is, or what the entry point found (`unreachable`).
    #[serde(default)]
    pub role: Option<String>,
}

/// `GET /clusters/:id`: every node's own stats.
#[derive(Clone, Debug, Deserialize)]
pub struct NodeStatsList {
    /// One entry per known node address.
    pub nodes: Vec<NodeStatsRow>,
}

/// One node's stats as it reports them (or, for a node that did not answer, its address, the
/// role `unreachable` and the error).
#[derive(Clone, Debug, Deserialize)]
pub struct NodeStatsRow {
    /// Its Raft id (absent when it did not answer).
    #[serde(default)]
    pub id: Option<u64>,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// Its `host:port`.
    pub addr: String,
    /// `leader`, `follower`, `candidate`, `learner`, `down` or `unreachable`.
    pub role: String,
    /// Its current term.
    #[serde(default)]
    pub term: u64,
    /// Its commit index.
    #[serde(default)]
    pub commit_index: u64,
    /// How far it has applied the log.
    #[serde(default)]
    pub applied_index: u64,
    /// Its replica capacity.
    #[serde(default)]
    pub capacity: u32,
    /// Replicas placed on it.
    #[serde(default)]
    pub load: u32,
    /// Its outgoing links: 1 up, 0 cut.
    #[serde(default)]
    pub connections: BTreeMap<String, u8>,
    /// Why it did not answer.
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /clusters`.
#[derive(Clone, Debug, Deserialize)]
pub struct ClusterList {
    /// Every cluster the entry point runs.
    pub clusters: Vec<ClusterEntry>,
}

/// One cluster of `GET /clusters` (and the answer of `POST /clusters`).
#[derive(Clone, Debug, Deserialize)]
pub struct ClusterEntry {
    /// Its id.
    pub id: String,
    /// Its nodes' addresses.
    pub nodes: Vec<String>,
}

/// Reads `value` (the answer to `request`) as `T`; an answer of another shape is a server
/// failure naming what was missing.
pub fn read<T: DeserializeOwned>(value: &Value, request: &str) -> Result<T, ClientError> {
    T::deserialize(value).map_err(|err| ClientError::Server {
        request: request.to_string(),
        message: format!("unexpected answer ({err}): is --api the entry point of `flotilla demo`?"),
    })
}
