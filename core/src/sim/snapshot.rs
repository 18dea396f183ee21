//! [`NodeSnapshot`]: everything observable about one node at one instant.

use std::time::Duration;

use serde::Serialize;

use super::event::NodeId;
use super::event::Role;
use crate::model::ServiceId;

/// One node at one instant, as the page draws it and as invariant checks read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeSnapshot {
    /// Raft node id.
    pub id: NodeId,
    /// Human name (`n1`, …).
    pub name: String,
    /// Role; [`Role::Down`] while crashed.
    pub role: Role,
    /// Current term (from its disk while it is down).
    pub term: u64,
    /// Whom it voted for in `term`, if anyone.
    pub voted_for: Option<NodeId>,
    /// The leader it believes in, if any.
    pub leader: Option<NodeId>,
    /// Whether it votes (learners and nodes not yet in the membership do not).
    pub voter: bool,
    /// Index of its last log entry.
    pub last_log_index: u64,
    /// Highest index it knows to be committed.
    pub commit_index: u64,
    /// Highest index its state machine has applied.
    pub applied_index: u64,
    /// Highest index covered by its latest snapshot (its log starts after it).
    pub snapshot_index: u64,
    /// Time left before it starts an election, for followers and candidates that are running.
    pub election_timeout_in: Option<Duration>,
    /// Replicas it can hold.
    pub capacity: u32,
    /// Replicas placed on it, as its own state machine has it.
    pub load: u32,
    /// Replicas per service placed on it.
    pub placements: Vec<(ServiceId, u32)>,
    /// As leader: how far each follower's log is known to match its own.
    pub peers: Vec<PeerProgress>,
}

/// A leader's view of one follower's replication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerProgress {
    /// The follower.
    pub id: NodeId,
    /// Highest index known to match the leader's log (0 if none yet).
    pub match_index: u64,
    /// Next index the leader sends. openraft tracks it internally and exposes only the match,
    /// so this is `match_index + 1`, which is what it converges to while replication is healthy.
    pub next_index: u64,
}
