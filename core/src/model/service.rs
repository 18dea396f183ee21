//! Services: a labelled container run as a number of replicas spread over nodes.
//!
//! A service always accounts for every replica it was asked for: each one is either placed
//! on a node or pending (waiting for capacity). Nothing is silently dropped, so a client can
//! see exactly how much of its request is running.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::node::NodeId;

/// Identifies a service; assigned by the state machine in log order (1, 2, 3, …), so every
/// node derives the same id for the same create.
pub type ServiceId = u64;

/// What a client asks for: one container, so many times.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Human description of the container (the seed's `label` / `description`).
    pub label: String,
    /// How many replicas to run.
    pub replicas: u32,
    /// The seed's client-chosen container id, carried through untouched. Flotilla does not
    /// require it to be unique: the seed's own example sends 0 every time.
    pub uniq_id: Option<u64>,
}

/// A service as stored in the cluster state.
///
/// Invariant (kept by `ClusterState`, checked when a snapshot is loaded):
/// `sum(placement) + pending == replicas`, and `placement` has no zero entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Assigned at creation, never reused.
    pub id: ServiceId,
    /// See [`ServiceSpec::label`].
    pub label: String,
    /// See [`ServiceSpec::uniq_id`].
    pub uniq_id: Option<u64>,
    /// Replicas requested (by the create or the latest scale).
    pub replicas: u32,
    /// Replicas running on each node. A map ordered by node id, so iteration (and thus every
    /// decision derived from it) is the same on every node.
    pub placement: BTreeMap<NodeId, u32>,
    /// Replicas that fit on no node yet; placed as soon as capacity appears.
    pub pending: u32,
    /// Raft log index of the create: the seed's `log_index`, reported to clients.
    pub created_index: u64,
}

impl Service {
    /// Replicas actually placed on nodes.
    pub fn running(&self) -> u32 {
        self.replicas - self.pending
    }
}

/// A service as reported to clients (command outcomes, stats). A separate type from
/// [`Service`] so the stored form can change without changing what clients read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// See [`Service::id`].
    pub id: ServiceId,
    /// See [`Service::label`].
    pub label: String,
    /// See [`Service::uniq_id`].
    pub uniq_id: Option<u64>,
    /// Replicas requested.
    pub replicas: u32,
    /// Replicas placed on nodes (`replicas - pending`), so clients need not add up `placement`.
    pub running: u32,
    /// Replicas waiting for capacity.
    pub pending: u32,
    /// Replicas per node.
    pub placement: BTreeMap<NodeId, u32>,
    /// Raft log index of the create.
    pub created_index: u64,
}

impl From<&Service> for ServiceView {
    fn from(s: &Service) -> Self {
        ServiceView {
            id: s.id,
            label: s.label.clone(),
            uniq_id: s.uniq_id,
            replicas: s.replicas,
            running: s.running(),
            pending: s.pending,
            placement: s.placement.clone(),
            created_index: s.created_index,
        }
    }
}
