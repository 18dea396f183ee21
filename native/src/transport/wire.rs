//! What travels between nodes: the internal endpoints, their headers and the binary encoding.
//!
//! Bodies are postcard (compact serde, no field names): Raft messages are frequent and large,
//! and only Flotilla nodes read them. Public API bodies stay JSON.

use bytes::Bytes;
use flotilla_core::model::RequestId;
use flotilla_core::model::Write;
use flotilla_core::raft::Applied;
use flotilla_core::raft::Member;
use serde::Deserialize;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Content type of binary bodies.
pub const CONTENT_TYPE: &str = "application/x-flotilla-postcard";

/// Body of the 503 a node answers when its link back to the sender is cut: it processed the
/// request, but the answer does not arrive.
pub const ANSWER_LOST: &str = "answer lost: the link back to the sender is cut";

/// Path of the append-entries (and heartbeat) endpoint.
pub const APPEND: &str = "/raft/append";
/// Path of the vote endpoint.
pub const VOTE: &str = "/raft/vote";
/// Path of the pre-vote endpoint.
pub const PRE_VOTE: &str = "/raft/pre-vote";
/// Path of the full-snapshot endpoint.
pub const SNAPSHOT: &str = "/raft/snapshot";
/// Path where a node hands a proposal to the node it believes is the leader.
pub const PROPOSE: &str = "/raft/propose";
/// Path where a node answers who it is ([`Identity`]): checked before it joins.
pub const PING: &str = "/raft/ping";
/// Path where the leader tells a node it has been removed and should shut down.
pub const LEAVE: &str = "/raft/leave";

/// Something only the leader can do, forwarded to it by whichever node received the request.
/// A write carries the id of the client request it answers, unchanged however often it is
/// forwarded or retried, so the state machine applies it once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Proposal {
    /// Append an orchestrator command, with its request id, to the log.
    Command(Write),
    /// Add a node to the membership (as a learner first, then a voter).
    Join {
        /// The new node's Raft id.
        id: u64,
        /// Its name, address and capacity.
        member: Member,
        /// The client request this answers.
        request: RequestId,
    },
    /// Remove a node (voter or learner) from the membership.
    Leave {
        /// The leaving node's Raft id.
        id: u64,
        /// The client request this answers.
        request: RequestId,
    },
    /// Confirm leadership with a quorum and name the log index a read must see applied to
    /// reflect every write acknowledged before it (Raft's read index).
    ReadIndex,
}

/// What the leader (or a node that turned out not to be it) answers to a [`Proposal`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ProposalReply {
    /// Committed and applied: the entry's index and what applying it did.
    Applied(Applied),
    /// This node is not the leader; here is the leader it knows, if any (`(id, addr)`).
    NotLeader(Option<(u64, String)>),
    /// The read index asked for: every write acknowledged so far is at or below it.
    ReadIndex(u64),
    /// The request is wrong for the current state (unknown node, duplicate): a client error.
    Refused(String),
    /// The proposal may or may not commit (leader lost, timeout): the client may retry.
    Unavailable(String),
}

/// Who a node is, as it answers [`PING`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Raft id.
    pub id: u64,
    /// Cluster name.
    pub cluster: String,
    /// Human name.
    pub name: String,
    /// Whether it already belongs to a cluster (it founded or joined one: its membership is not
    /// empty). Such a node cannot be added to another: its log would conflict.
    pub belongs: bool,
}

/// Encodes a message body.
pub fn encode<T: Serialize>(value: &T) -> Result<Bytes, String> {
    postcard::to_stdvec(value)
        .map(Bytes::from)
        .map_err(|err| format!("cannot encode message: {err}"))
}

/// Decodes a message body.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|err| format!("cannot decode message: {err}"))
}
