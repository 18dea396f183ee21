//! What happens in a simulated cluster, as a stream of [`Event`]s.
//!
//! Every event carries its virtual time and prints as one line ([`std::fmt::Display`]); two runs
//! of the same seed print the same lines, byte for byte, which is how determinism is tested.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::raft::status::Role;

/// A node id (also the Raft node id).
pub type NodeId = u64;

/// Identifies a message for the whole run.
pub type MessageId = u64;

/// Identifies a client request for the whole run.
pub type RequestId = u64;

/// The kinds of message nodes exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// A candidate asks for a vote.
    VoteRequest,
    /// Would you vote for me? (asked before a real election when pre-vote is on)
    PreVoteRequest,
    /// The answer to a (pre-)vote request.
    VoteResponse,
    /// A leader sends log entries.
    Append,
    /// An append with no entries: the leader says it is alive (and where the commit index is).
    Heartbeat,
    /// The answer to an append or a heartbeat.
    AppendResponse,
    /// A leader sends a whole snapshot to a follower too far behind for the log.
    Snapshot,
    /// The answer to a snapshot.
    SnapshotResponse,
    /// A node that is not the leader passes a client's request on to the leader.
    Forward,
    /// The leader's answer to a forwarded request.
    ForwardResponse,
}

impl MessageKind {
    /// Whether this is an answer travelling back to the node that asked.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            MessageKind::VoteResponse
                | MessageKind::AppendResponse
                | MessageKind::SnapshotResponse
                | MessageKind::ForwardResponse
        )
    }
}

impl fmt::Display for MessageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageKind::VoteRequest => "vote-request",
            MessageKind::PreVoteRequest => "pre-vote-request",
            MessageKind::VoteResponse => "vote-response",
            MessageKind::Append => "append",
            MessageKind::Heartbeat => "heartbeat",
            MessageKind::AppendResponse => "append-response",
            MessageKind::Snapshot => "snapshot",
            MessageKind::SnapshotResponse => "snapshot-response",
            MessageKind::Forward => "forward",
            MessageKind::ForwardResponse => "forward-response",
        })
    }
}

/// A message on the wire, as observers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Unique for the run.
    pub id: MessageId,
    /// Sender.
    pub from: NodeId,
    /// Receiver.
    pub to: NodeId,
    /// What it is.
    pub kind: MessageKind,
    /// The sender's term as the message states it.
    pub term: u64,
    /// When it left, since the start of the run.
    pub sent_at: Duration,
    /// When it arrives (or would have, if it is lost).
    pub deliver_at: Duration,
    /// The fields worth showing, in words (`prev=3/2 entries=1 commit=3`, `granted`).
    pub detail: String,
}

/// Why a message never arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The directed link from sender to receiver was cut.
    LinkCut,
    /// Lost at random ([`SimConfig::drop_rate`](super::SimConfig::drop_rate)).
    Lost,
    /// Someone dropped it by hand.
    Dropped,
    /// The receiver was down when it arrived.
    NodeDown,
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DropReason::LinkCut => "link cut",
            DropReason::Lost => "lost",
            DropReason::Dropped => "dropped by hand",
            DropReason::NodeDown => "receiver down",
        })
    }
}

/// One thing that happened, at a virtual time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// When, since the start of the run.
    pub at: Duration,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A message left its sender.
    Sent {
        /// The message.
        message: Message,
    },
    /// A message reached its receiver.
    Delivered {
        /// The message.
        message: MessageId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Its kind.
        kind: MessageKind,
    },
    /// A message was lost.
    Dropped {
        /// The message.
        message: MessageId,
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// Its kind.
        kind: MessageKind,
        /// Why.
        reason: DropReason,
    },
    /// A node's election timer ran out: it starts an election.
    ElectionTimeout {
        /// The node.
        node: NodeId,
    },
    /// A node's role or term changed.
    RoleChanged {
        /// The node.
        node: NodeId,
        /// Its new role.
        role: Role,
        /// Its term.
        term: u64,
    },
    /// A node's commit index moved forward.
    Committed {
        /// The node.
        node: NodeId,
        /// Its new commit index.
        index: u64,
    },
    /// A client sent a request to a node.
    ClientRequest {
        /// The request.
        request: RequestId,
        /// The node it was sent to.
        node: NodeId,
        /// What it asks, in words.
        command: String,
    },
    /// A client got its answer (or gave up).
    ClientReply {
        /// The request.
        request: RequestId,
        /// The node that answered.
        node: NodeId,
        /// `Ok` with the log index of the committed command, or why it failed.
        result: Result<u64, String>,
    },
    /// The directed link `from → to` was cut.
    LinkCut {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// The directed link `from → to` works again.
    LinkHealed {
        /// Sender side.
        from: NodeId,
        /// Receiver side.
        to: NodeId,
    },
    /// A node's process died; its disk (log, vote, snapshot) survives.
    Crashed {
        /// The node.
        node: NodeId,
    },
    /// A crashed node started again from its disk.
    Restarted {
        /// The node.
        node: NodeId,
    },
    /// A node started and asked to join the cluster.
    NodeAdded {
        /// The node.
        node: NodeId,
    },
    /// A node left the cluster's membership and stopped.
    NodeRemoved {
        /// The node.
        node: NodeId,
    },
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>12.6}s ", self.at.as_secs_f64())?;
        match &self.kind {
            EventKind::Sent { message: m } => {
                write!(
                    f,
                    "n{}->n{} sent {} #{} term {}",
                    m.from, m.to, m.kind, m.id, m.term
                )?;
                if !m.detail.is_empty() {
                    write!(f, " {}", m.detail)?;
                }
                Ok(())
            }
            EventKind::Delivered {
                message,
                from,
                to,
                kind,
            } => write!(f, "n{from}->n{to} delivered {kind} #{message}"),
            EventKind::Dropped {
                message,
                from,
                to,
                kind,
                reason,
            } => write!(f, "n{from}->n{to} dropped {kind} #{message} ({reason})"),
            EventKind::ElectionTimeout { node } => write!(f, "n{node} election timeout"),
            EventKind::RoleChanged { node, role, term } => {
                write!(f, "n{node} became {role} in term {term}")
            }
            EventKind::Committed { node, index } => write!(f, "n{node} committed up to {index}"),
            EventKind::ClientRequest {
                request,
                node,
                command,
            } => write!(f, "client request #{request} to n{node}: {command}"),
            EventKind::ClientReply {
                request,
                node,
                result: Ok(index),
            } => write!(
                f,
                "client request #{request} committed at index {index} (answered by n{node})"
            ),
            EventKind::ClientReply {
                request,
                node,
                result: Err(why),
            } => write!(f, "client request #{request} failed at n{node}: {why}"),
            EventKind::LinkCut { from, to } => write!(f, "link n{from}->n{to} cut"),
            EventKind::LinkHealed { from, to } => write!(f, "link n{from}->n{to} healed"),
            EventKind::Crashed { node } => write!(f, "n{node} crashed"),
            EventKind::Restarted { node } => write!(f, "n{node} restarted"),
            EventKind::NodeAdded { node } => write!(f, "n{node} added"),
            EventKind::NodeRemoved { node } => write!(f, "n{node} removed"),
        }
    }
}
