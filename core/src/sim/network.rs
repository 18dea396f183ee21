//! The simulated wire: openraft's network traits implemented by putting messages on the
//! [`World`](super::world::World)'s wire, where latency, loss and cut links apply.
//!
//! Every call is a message there and, if it arrives, an answer back; both are observable events,
//! and both can be lost. A lost request or answer looks to the sender as it would on a real
//! network: no reply before the RPC's deadline.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use openraft::OptionalSend;
use openraft::RaftNetworkFactory;
use openraft::alias::SnapshotOf;
use openraft::alias::VoteOf;
use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Timeout;
use openraft::network::RPCOption;
use openraft::network::RPCTypes;
use openraft::network::v2::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;
use openraft_rt::AsyncRuntime;
use openraft_rt::WatchReceiver;

use super::event::MessageId;
use super::event::MessageKind;
use super::event::NodeId;
use super::types::SimRaft;
use super::types::SimTypes;
use super::types::SnapshotData;
use super::world::WorldHandle;
use crate::raft::Member;
use crate::raft::send_unless_closed;
use crate::rt::Sleep;
use crate::rt::VirtualInstant;
use crate::rt::VirtualRuntime;

/// How a message looks on the wire: its kind, the term it states and its fields in words.
pub(crate) struct Label {
    pub(crate) kind: MessageKind,
    pub(crate) term: u64,
    pub(crate) detail: String,
}

/// The current term of a node, as its metrics state it.
pub(crate) fn term_of(raft: &SimRaft) -> u64 {
    raft.metrics().borrow_watched().current_term
}

/// Sends `request` over the wire along `(from, to)`, has `handle` process it at the receiver
/// and carries the answer back. Returns `None` if no answer reached `from` within `ttl`.
///
/// `answer` labels the answer and says whether accepting the request restarts the receiver's
/// election timer (it heard from a legitimate leader, or granted a vote).
pub(crate) async fn call<Req, Resp, Fut>(
    world: &WorldHandle,
    (from, to): (NodeId, NodeId),
    label: Label,
    request: Req,
    handle: impl FnOnce(SimRaft, Req) -> Fut + Clone + Send + 'static,
    answer: fn(&SimRaft, &Resp) -> (Label, bool),
    ttl: Duration,
) -> Option<Resp>
where
    Req: Clone + Send + 'static,
    Resp: Send + 'static,
    Fut: Future<Output = Option<Resp>> + Send + 'static,
{
    let exec = crate::rt::executor_here();
    let copies: Vec<(MessageId, VirtualInstant)> = {
        let mut world = world.lock();
        let now = exec.now();
        let first = world.send(now, from, to, label.kind, label.term, label.detail);
        let copy = world.duplicate(now, first.0);
        std::iter::once(first).chain(copy).collect()
    };
    let (reply, replied) = tokio::sync::oneshot::channel();
    // Whichever copy's answer arrives first is the answer; the others are moot.
    let reply = Arc::new(Mutex::new(Some(reply)));
    for (id, arrival) in copies {
        // The message belongs to the wire, not to its sender: crashing the sender does not
        // recall it.
        exec.spawn_owned(
            None,
            deliver(
                world.clone(),
                (from, to),
                (id, arrival),
                request.clone(),
                handle.clone(),
                answer,
                reply.clone(),
            ),
        );
    }
    drop(reply);
    // A lost request or answer drops `reply` at once; the sender must not learn that any sooner
    // than a real one would, so a dropped channel is silence until the deadline.
    let answered = async move {
        match replied.await {
            Ok(response) => response,
            Err(_) => std::future::pending().await,
        }
    };
    VirtualRuntime::timeout(ttl, answered).await.ok()
}

/// Where the first answer to arrive goes.
type ReplySlot<Resp> = Arc<Mutex<Option<tokio::sync::oneshot::Sender<Resp>>>>;

/// One copy of a request on the wire: it arrives (or is lost), `handle` processes it at the
/// receiver, and the answer travels back to fill `reply` if nothing did first.
async fn deliver<Req, Resp, Fut>(
    world: WorldHandle,
    (from, to): (NodeId, NodeId),
    (id, arrival): (MessageId, VirtualInstant),
    request: Req,
    handle: impl FnOnce(SimRaft, Req) -> Fut,
    answer: fn(&SimRaft, &Resp) -> (Label, bool),
    reply: ReplySlot<Resp>,
) where
    Fut: Future<Output = Option<Resp>>,
{
    Sleep::until(arrival).await;
    let receiver = {
        let exec = crate::rt::executor_here();
        world.lock().arrive(exec.now(), id)
    };
    let Some(receiver) = receiver else { return };
    let Some(response) = handle(receiver.clone(), request).await else {
        return;
    };
    let (label, heard_from_leader) = answer(&receiver, &response);
    let now = crate::rt::executor_here().now();
    let (back, arrival) = {
        let mut world = world.lock();
        if heard_from_leader {
            world.reset_election_timer(to, now);
        }
        world.send(now, to, from, label.kind, label.term, label.detail)
    };
    Sleep::until(arrival).await;
    let arrived = world
        .lock()
        .arrive(crate::rt::executor_here().now(), back)
        .is_some();
    if !arrived {
        return;
    }
    let sender = reply
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take();
    if let Some(sender) = sender {
        // The asker may have given up (timed out or crashed); then the answer is moot.
        let _ = sender.send(response);
    }
}

/// Hands each Raft node connections to its peers over the simulated wire.
pub(crate) struct SimNetworkFactory {
    pub(crate) world: WorldHandle,
    pub(crate) from: NodeId,
}

impl RaftNetworkFactory<SimTypes> for SimNetworkFactory {
    type Network = SimConnection;

    async fn new_client(&mut self, target: NodeId, _node: &Member) -> SimConnection {
        SimConnection {
            world: self.world.clone(),
            from: self.from,
            to: target,
        }
    }
}

/// One node's connection to one peer.
pub(crate) struct SimConnection {
    world: WorldHandle,
    from: NodeId,
    to: NodeId,
}

impl SimConnection {
    fn timeout(&self, action: RPCTypes, ttl: Duration) -> Timeout<SimTypes> {
        Timeout {
            action,
            id: self.from,
            target: self.to,
            timeout: ttl,
        }
    }

    async fn vote_like(
        &mut self,
        request: VoteRequest<SimTypes>,
        option: RPCOption,
        pre_vote: bool,
    ) -> Result<VoteResponse<SimTypes>, RPCError<SimTypes>> {
        let kind = if pre_vote {
            MessageKind::PreVoteRequest
        } else {
            MessageKind::VoteRequest
        };
        let last = request
            .last_log_id
            .as_ref()
            .map_or("none".to_string(), |id| {
                format!("{}/{}", id.index, id.leader_id.term)
            });
        let label = Label {
            kind,
            term: request.vote.leader_id.term,
            detail: format!("last-log={last}"),
        };
        let ttl = option.hard_ttl();
        let answer = if pre_vote {
            answer_pre_vote
        } else {
            answer_vote
        };
        let response = call(
            &self.world,
            (self.from, self.to),
            label,
            request,
            move |raft, request| async move {
                if pre_vote {
                    raft.pre_vote(request).await.ok()
                } else {
                    raft.vote(request).await.ok()
                }
            },
            answer,
            ttl,
        )
        .await;
        response.ok_or_else(|| RPCError::Timeout(self.timeout(RPCTypes::Vote, ttl)))
    }
}

fn describe_vote(raft: &SimRaft, response: &VoteResponse<SimTypes>) -> Label {
    let granted = if response.vote_granted {
        "granted"
    } else {
        "refused"
    };
    Label {
        kind: MessageKind::VoteResponse,
        term: term_of(raft),
        detail: granted.to_string(),
    }
}

fn answer_vote(raft: &SimRaft, response: &VoteResponse<SimTypes>) -> (Label, bool) {
    (describe_vote(raft, response), response.vote_granted)
}

/// A pre-vote changes nothing at the voter, so it does not restart its timer.
fn answer_pre_vote(raft: &SimRaft, response: &VoteResponse<SimTypes>) -> (Label, bool) {
    (describe_vote(raft, response), false)
}

fn answer_append(raft: &SimRaft, response: &AppendEntriesResponse<SimTypes>) -> (Label, bool) {
    let (detail, accepted_leader) = match response {
        AppendEntriesResponse::Success => ("ok".to_string(), true),
        AppendEntriesResponse::PartialSuccess(upto) => (
            format!("ok up to {}", upto.as_ref().map_or(0, |id| id.index)),
            true,
        ),
        AppendEntriesResponse::Conflict => {
            ("conflict: log does not match at prev".to_string(), true)
        }
        AppendEntriesResponse::HigherVote(vote) => (
            format!("refused: higher term {}", vote.leader_id.term),
            false,
        ),
    };
    (
        Label {
            kind: MessageKind::AppendResponse,
            term: term_of(raft),
            detail,
        },
        accepted_leader,
    )
}

fn answer_snapshot(raft: &SimRaft, _response: &SnapshotResponse<SimTypes>) -> (Label, bool) {
    (
        Label {
            kind: MessageKind::SnapshotResponse,
            term: term_of(raft),
            detail: String::new(),
        },
        true,
    )
}

impl RaftNetworkV2<SimTypes> for SimConnection {
    type SnapshotData = SnapshotData;

    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<SimTypes>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<SimTypes>, RPCError<SimTypes>> {
        let kind = if request.entries.is_empty() {
            MessageKind::Heartbeat
        } else {
            MessageKind::Append
        };
        let prev = request
            .prev_log_id
            .as_ref()
            .map_or("0/0".to_string(), |id| {
                format!("{}/{}", id.index, id.leader_id.term)
            });
        let commit = request.leader_commit.as_ref().map_or(0, |id| id.index);
        let detail = format!(
            "prev={prev} entries={} commit={commit}",
            request.entries.len()
        );
        let label = Label {
            kind,
            term: request.vote.leader_id.term,
            detail,
        };
        let ttl = option.hard_ttl();
        let response = call(
            &self.world,
            (self.from, self.to),
            label,
            request,
            |raft, request| async move { raft.append_entries(request).await.ok() },
            answer_append,
            ttl,
        )
        .await;
        response.ok_or_else(|| RPCError::Timeout(self.timeout(RPCTypes::AppendEntries, ttl)))
    }

    async fn vote(
        &mut self,
        request: VoteRequest<SimTypes>,
        option: RPCOption,
    ) -> Result<VoteResponse<SimTypes>, RPCError<SimTypes>> {
        self.vote_like(request, option, false).await
    }

    /// Forwarded to the peer's own pre-vote handling: openraft's default would grant blindly.
    async fn pre_vote(
        &mut self,
        request: VoteRequest<SimTypes>,
        option: RPCOption,
    ) -> Result<VoteResponse<SimTypes>, RPCError<SimTypes>> {
        self.vote_like(request, option, true).await
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<SimTypes>,
        snapshot: SnapshotOf<SimTypes, SnapshotData>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<SimTypes>, StreamingError<SimTypes>> {
        let upto = snapshot.meta.last_log_id.as_ref().map_or(0, |id| id.index);
        let label = Label {
            kind: MessageKind::Snapshot,
            term: vote.leader_id.term,
            detail: format!(
                "up to index {upto}, {} bytes",
                snapshot.snapshot.get_ref().len()
            ),
        };
        let ttl = option.hard_ttl().max(Duration::from_secs(1));
        let timeout = self.timeout(RPCTypes::InstallSnapshot, ttl);
        let send = async {
            let response = call(
                &self.world,
                (self.from, self.to),
                label,
                (vote, snapshot),
                |raft, (vote, snapshot)| async move {
                    raft.install_full_snapshot(vote, snapshot).await.ok()
                },
                answer_snapshot,
                ttl,
            )
            .await;
            response.ok_or(StreamingError::Timeout(timeout))
        };
        send_unless_closed(send, cancel).await
    }
}
