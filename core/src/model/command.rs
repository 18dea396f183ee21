//! What goes through the Raft log, and what applying it answers.
//!
//! A [`Command`] says what a client (or the leader's failure detector) wants; the placement
//! it causes is *not* in the command but computed by `ClusterState::apply` on every node, so
//! the log stays small and no node has to trust another's arithmetic. The log index is not
//! in the command either: Raft assigns it, and the glue pairs it with the [`Outcome`].
//!
//! Both enums use serde's default (externally tagged) representation, which every serde
//! format supports, so the log and snapshot encoding can be chosen freely by the storage.

use serde::{Deserialize, Serialize};

use super::node::{NodeId, NodeSpec, NodeStatus, NodeView};
use super::service::{ServiceId, ServiceSpec, ServiceView};

/// A change to the cluster, replicated through the Raft log and applied in log order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    /// Create services (one `POST /service`), in the given order; each gets the next id.
    CreateServices {
        /// What to create; validated again by `apply`.
        services: Vec<ServiceSpec>,
    },
    /// Change how many replicas a service should run; 0 keeps the service with none running.
    ScaleService {
        /// Which service.
        id: ServiceId,
        /// New requested count.
        replicas: u32,
    },
    /// Stop all replicas of a service and forget it.
    DeleteService {
        /// Which service.
        id: ServiceId,
    },
    /// A node joins; its id is its Raft id. Pending replicas may land on it at once.
    AddNode {
        /// The new node.
        node: NodeSpec,
    },
    /// A node leaves for good; its replicas are re-placed on the others.
    RemoveNode {
        /// Which node.
        id: NodeId,
    },
    /// A node stopped answering: it gets no work and its replicas are re-placed.
    MarkNodeDown {
        /// Which node.
        id: NodeId,
    },
    /// A node answers again: it may take pending replicas.
    MarkNodeUp {
        /// Which node.
        id: NodeId,
    },
    /// Records what a join or a leave answered, under the client request that asked for it, and
    /// changes nothing else. Joins and leaves are Raft membership entries, which carry no request
    /// id; the leader follows each with this write, so a retry of the request is answered from
    /// the state (as every other write is) instead of failing because the change is already made.
    /// The leader's own bookkeeping: never accepted from a client or another node.
    RecordMembershipAnswer {
        /// The membership entry's outcome ([`Outcome::NodeAdded`] or [`Outcome::NodeRemoved`]).
        outcome: Outcome,
    },
}

/// What applying a [`Command`] did. Every Raft member computes the same outcome for the same
/// entry; the leader sends its copy back to the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The services were created; each shows where its replicas went and how many wait.
    ServicesCreated {
        /// In request order.
        services: Vec<ServiceView>,
    },
    /// The service's requested count changed; shows its placement afterwards.
    ServiceScaled {
        /// The service after scaling.
        service: ServiceView,
    },
    /// The service is gone and its replicas stopped.
    ServiceDeleted {
        /// Which service.
        id: ServiceId,
    },
    /// The node joined; its `load` shows how many pending replicas it took at once.
    NodeAdded {
        /// The node after placing pending replicas on it.
        node: NodeView,
        /// Replicas still pending in the whole cluster afterwards.
        pending: u64,
    },
    /// The node is gone.
    NodeRemoved {
        /// Which node.
        id: NodeId,
        /// Of the replicas it ran, how many found a place elsewhere; the rest are pending.
        replaced: u64,
        /// Replicas pending in the whole cluster afterwards.
        pending: u64,
    },
    /// The node's status was set (marking a node with the status it already has is a
    /// no-op that still answers this, so a repeated proposal is harmless).
    NodeMarked {
        /// Which node.
        id: NodeId,
        /// Its status now.
        status: NodeStatus,
        /// Replicas whose node changed: when marked down, those re-placed elsewhere (the
        /// rest are pending); when marked up, pending replicas that started on it.
        moved: u64,
        /// Replicas pending in the whole cluster afterwards.
        pending: u64,
    },
    /// The command does not make sense against the current state (unknown service or node,
    /// duplicate node, limits exceeded). Nothing changed; every member rejects it alike.
    Rejected {
        /// Human-readable, for the client.
        reason: String,
    },
    /// The write's request id was already used by a different request (a client reusing an
    /// idempotency key for something else). Nothing changed.
    RequestIdReused {
        /// Human-readable, for the client: names the id and what it was used for.
        reason: String,
    },
}

/// What one client write answered: the log index of the entry that applied it and its outcome.
/// A copy of the same request gets the very same answer, index included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The Raft log index of the entry that was applied.
    pub log_index: u64,
    /// What applying it did.
    pub outcome: Outcome,
}

/// One line per command, for event logs and log views (`create 2 services (8 replicas)`).
impl std::fmt::Display for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::CreateServices { services } => {
                let replicas: u64 = services.iter().map(|spec| u64::from(spec.replicas)).sum();
                match services.as_slice() {
                    [one] => write!(f, "create service \"{}\" x{}", one.label, one.replicas),
                    _ => write!(
                        f,
                        "create {} services ({replicas} replicas)",
                        services.len()
                    ),
                }
            }
            Command::ScaleService { id, replicas } => write!(f, "scale service {id} to {replicas}"),
            Command::DeleteService { id } => write!(f, "delete service {id}"),
            Command::AddNode { node } => write!(
                f,
                "add node {} ({}, capacity {})",
                node.id, node.name, node.capacity
            ),
            Command::RemoveNode { id } => write!(f, "remove node {id}"),
            Command::MarkNodeDown { id } => write!(f, "mark node {id} down"),
            Command::MarkNodeUp { id } => write!(f, "mark node {id} up"),
            Command::RecordMembershipAnswer { outcome } => match outcome {
                Outcome::NodeAdded { node, .. } => write!(f, "record the join of node {}", node.id),
                Outcome::NodeRemoved { id, .. } => write!(f, "record the leave of node {id}"),
                _ => write!(f, "record a membership answer"),
            },
        }
    }
}
