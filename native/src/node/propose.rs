//! Getting a change committed: [`submit`] runs on whichever node a client reached and forwards
//! to the leader until one commits it; [`execute`] runs on the node that believes it leads.
//!
//! While no leader is known, requests wait in arrival order (the node's leader queue) up to the
//! request timeout, then fail ([`ProposeError::NoLeader`]). A leader that lost its quorum cannot
//! commit, so its writes time out too: nothing is acknowledged that a majority has not stored.

use std::time::Duration;

use flotilla_core::model::Command;
use flotilla_core::model::Limit;
use flotilla_core::model::LimitError;
use flotilla_core::model::Write;
use flotilla_core::model::check_services;
use flotilla_core::model::validate_replicas;
use flotilla_core::raft::Applied;
use openraft::ReadPolicy;
use openraft::errors::ClientWriteError;
use openraft::errors::LinearizableReadError;
use openraft::errors::RaftError;
use openraft_rt::WatchReceiver;
use tokio::time::Instant;

use super::ctx::NodeCtx;
use crate::transport::CallError;
use crate::transport::wire;
use crate::transport::wire::Proposal;
use crate::transport::wire::ProposalReply;
use crate::types::NativeTypes;

/// How long to pause before asking again when the leader moved or could not be reached.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// Why a proposal was not committed. Each says whether retrying may help; the API answers them
/// with a status each (409 for [`Rejected`](ProposeError::Rejected), 502 for
/// [`LeaderRefused`](ProposeError::LeaderRefused), 503 for the rest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// The leader refused the change as wrong for the current state (unknown node, duplicate).
    #[error("{0}")]
    Rejected(String),
    /// The leader could not commit it now (it lost its quorum or its Raft stopped); it may still
    /// be applied later.
    #[error("{0}")]
    Unavailable(String),
    /// The leader received it but its answer was lost: it may have been applied.
    #[error("{0}; the request may have been applied: check the state before retrying")]
    AnswerLost(CallError),
    /// The leader answered the forwarded request with an error of its own.
    #[error("the leader could not take the request: {0}")]
    LeaderRefused(CallError),
    /// No leader committed it within the request timeout; `problem` is the last obstacle.
    #[error("not committed within {:.1}s: {problem}", .waited.as_secs_f64())]
    Timeout {
        /// The request timeout.
        waited: Duration,
        /// What stood in the way last (no leader, an unreachable leader, …).
        problem: String,
    },
    /// No leader was elected within the request timeout.
    #[error(
        "no leader within {:.1}s: a majority of the cluster's nodes must be up and connected to \
         elect one",
        .waited.as_secs_f64()
    )]
    NoLeader {
        /// The request timeout.
        waited: Duration,
    },
    /// This node stopped while the request waited.
    #[error("this node is shutting down")]
    ShuttingDown,
    /// The write would pass one of this node's limits (`--max-…`): nothing was proposed.
    #[error("{0}")]
    OverLimit(LimitError),
}

/// The leader this node knows: its id and address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownLeader {
    /// Raft id.
    pub id: u64,
    /// `host:port`.
    pub addr: String,
}

/// The leader this node currently knows, if any.
pub fn known_leader(ctx: &NodeCtx) -> Option<KnownLeader> {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    let id = metrics.current_leader?;
    let addr = metrics
        .membership_config
        .membership()
        .get_node(&id)?
        .addr
        .clone();
    Some(KnownLeader { id, addr })
}

/// Has `proposal` committed by the leader, wherever it is, and returns what applying it did.
pub async fn submit(ctx: &NodeCtx, proposal: Proposal) -> Result<Applied, ProposeError> {
    admit(ctx, &proposal).map_err(ProposeError::OverLimit)?;
    match to_leader(ctx, proposal).await? {
        Done::Applied(applied) => Ok(applied),
        Done::ReadIndex(_) => Err(unexpected_answer()),
    }
}

/// Waits until this node's state machine reflects every write acknowledged before the call (a
/// linearizable read from here on): asks the leader for its read index — the leader confirms
/// with a quorum that it still leads — and waits for this node to apply up to it.
pub async fn read_barrier(ctx: &NodeCtx) -> Result<(), ProposeError> {
    let Done::ReadIndex(index) = to_leader(ctx, Proposal::ReadIndex).await? else {
        return Err(unexpected_answer());
    };
    ctx.raft
        .wait(Some(ctx.request_timeout))
        .applied_index_at_least(Some(index), "read barrier")
        .await
        .map(|_| ())
        .map_err(|err| {
            ProposeError::Unavailable(format!(
                "this node has not caught up with the leader (index {index}): {err}"
            ))
        })
}

/// What the leader did with a proposal that succeeded.
enum Done {
    /// Committed and applied.
    Applied(Applied),
    /// The read index it named.
    ReadIndex(u64),
}

fn unexpected_answer() -> ProposeError {
    ProposeError::Unavailable("the leader answered a different question".to_string())
}

/// Has `proposal` carried out by the leader, wherever it is: locally, or forwarded, retrying
/// while there is no leader or it cannot be reached, up to the request timeout.
async fn to_leader(ctx: &NodeCtx, proposal: Proposal) -> Result<Done, ProposeError> {
    let deadline = Instant::now() + ctx.request_timeout;
    let mut last_problem = String::from("no leader has been elected");
    loop {
        let leader = wait_for_leader(ctx, deadline, &last_problem).await?;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let reply = if leader.id == ctx.id {
            Ok(execute(ctx, &proposal, remaining).await)
        } else {
            ctx.peers
                .call::<Proposal, ProposalReply>(&leader.addr, wire::PROPOSE, &proposal, remaining)
                .await
        };
        match reply {
            Ok(ProposalReply::Applied(applied)) => return Ok(Done::Applied(applied)),
            Ok(ProposalReply::ReadIndex(index)) => return Ok(Done::ReadIndex(index)),
            Ok(ProposalReply::Refused(reason)) => return Err(ProposeError::Rejected(reason)),
            Ok(ProposalReply::Unavailable(reason)) => {
                return Err(ProposeError::Unavailable(reason));
            }
            Ok(ProposalReply::NotLeader(_)) => {
                last_problem = format!(
                    "node {} at {} was believed to lead but is not the leader",
                    leader.id, leader.addr
                );
            }
            Err(err @ CallError::AnswerLost(_)) => return Err(ProposeError::AnswerLost(err)),
            Err(err @ CallError::Refused { .. }) => return Err(ProposeError::LeaderRefused(err)),
            Err(err) => {
                last_problem = format!("the leader (node {}) cannot be reached: {err}", leader.id);
            }
        }
        if Instant::now() + RETRY_PAUSE >= deadline {
            return Err(timed_out(ctx, &last_problem));
        }
        pause_until_another_leader(ctx, &leader, Instant::now() + RETRY_PAUSE).await;
    }
}

/// Waits until this node knows a leader other than `tried` (or none), or until `until`: a write
/// that found the leader gone goes to the next one as soon as it is known.
async fn pause_until_another_leader(ctx: &NodeCtx, tried: &KnownLeader, until: Instant) {
    let mut metrics = ctx.raft.metrics();
    while known_leader(ctx).as_ref() == Some(tried) {
        match tokio::time::timeout_at(until, metrics.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return,
        }
    }
}

fn timed_out(ctx: &NodeCtx, problem: &str) -> ProposeError {
    ProposeError::Timeout {
        waited: ctx.request_timeout,
        problem: problem.to_string(),
    }
}

/// Waits (in arrival order with other waiting requests) until this node knows a leader.
async fn wait_for_leader(
    ctx: &NodeCtx,
    deadline: Instant,
    problem: &str,
) -> Result<KnownLeader, ProposeError> {
    if let Some(leader) = known_leader(ctx) {
        return Ok(leader);
    }
    let queued = tokio::time::timeout_at(deadline, ctx.leader_queue.lock()).await;
    let Ok(_turn) = queued else {
        return Err(timed_out(ctx, problem));
    };
    let mut metrics = ctx.raft.metrics();
    loop {
        if let Some(leader) = known_leader(ctx) {
            return Ok(leader);
        }
        match tokio::time::timeout_at(deadline, metrics.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(ProposeError::ShuttingDown),
            Err(_) => {
                return Err(ProposeError::NoLeader {
                    waited: ctx.request_timeout,
                });
            }
        }
    }
}

/// Carries out `proposal` on this node, which believes it is the leader; answers `NotLeader` if
/// it is not. Waits at most `timeout` for the commit.
pub async fn execute(ctx: &NodeCtx, proposal: &Proposal, timeout: Duration) -> ProposalReply {
    let work = async {
        match proposal {
            Proposal::Command(write) => {
                if let Err(refusal) = check_forwarded(ctx, write) {
                    return ProposalReply::Refused(refusal);
                }
                match ctx.raft.client_write(write.clone()).await {
                    Ok(response) => ProposalReply::Applied(response.data),
                    Err(err) => write_failed(ctx, err),
                }
            }
            Proposal::Join {
                id,
                member,
                request,
            } => membership::join(ctx, *id, member, request, timeout).await,
            Proposal::Leave { id, request } => membership::leave(ctx, *id, request).await,
            Proposal::ReadIndex => read_index(ctx).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(reply) => reply,
        Err(_) => ProposalReply::Unavailable(format!(
            "not committed within {:.1}s: this leader may have lost its quorum; the change may \
             still be applied later, so check the state before retrying",
            timeout.as_secs_f64()
        )),
    }
}

/// `Ok` if `proposal` stays within this node's limits, judged on its current state. A retry of
/// a write already applied is always admitted: it only gets the first answer back.
pub fn admit(ctx: &NodeCtx, proposal: &Proposal) -> Result<(), LimitError> {
    match proposal {
        Proposal::Command(write) => ctx.state_machine.core().read(|state| {
            let answered = write
                .id
                .as_ref()
                .is_some_and(|id| state.recent_writes().answer(id).is_some());
            if answered {
                Ok(())
            } else {
                ctx.limits.admit(state, &write.command)
            }
        }),
        Proposal::Join { id, .. } => {
            let members = ctx.members();
            let nodes = members.len() as u64 + u64::from(!members.contains_key(id));
            if nodes > ctx.limits.max_nodes {
                return Err(LimitError {
                    limit: Limit::Nodes,
                    allowed: ctx.limits.max_nodes,
                    asked: nodes,
                });
            }
            Ok(())
        }
        Proposal::Leave { .. } | Proposal::ReadIndex => Ok(()),
    }
}

/// What the leader checks of a write another node forwards, before proposing it: only what the
/// public API makes (the leader's own internal commands never travel), validated as the public
/// API validates it, within the leader's limits.
fn check_forwarded(ctx: &NodeCtx, write: &Write) -> Result<(), String> {
    match &write.command {
        Command::CreateServices { services } => {
            check_services(services).map_err(|err| err.to_string())?;
        }
        Command::ScaleService { replicas, .. } => {
            validate_replicas("replicas", &serde_json::json!(replicas), 0)
                .map_err(|err| err.to_string())?;
        }
        Command::DeleteService { .. } => {}
        internal => {
            return Err(format!(
                "{internal} is the leader's own bookkeeping and is not accepted from other nodes"
            ));
        }
    }
    admit(ctx, &Proposal::Command(write.clone())).map_err(|err| err.to_string())
}

/// As leader: confirms leadership with a quorum, waits until this node has applied everything
/// committed when it did, and names that index.
async fn read_index(ctx: &NodeCtx) -> ProposalReply {
    match ctx.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
        Ok(read) => ProposalReply::ReadIndex(read.index()),
        Err(RaftError::APIError(LinearizableReadError::ForwardToLeader(forward))) => {
            let hint = forward
                .leader_id
                .and_then(|id| ctx.member_addr(id).map(|addr| (id, addr)));
            ProposalReply::NotLeader(hint)
        }
        Err(err) => ProposalReply::Unavailable(format!("cannot confirm leadership: {err}")),
    }
}

fn write_failed(
    ctx: &NodeCtx,
    err: RaftError<NativeTypes, ClientWriteError<NativeTypes>>,
) -> ProposalReply {
    match err {
        RaftError::APIError(ClientWriteError::ForwardToLeader(forward)) => {
            let hint = forward
                .leader_id
                .and_then(|id| ctx.member_addr(id).map(|addr| (id, addr)));
            ProposalReply::NotLeader(hint)
        }
        RaftError::APIError(ClientWriteError::LogEntryDiscarded(_)) => ProposalReply::Unavailable(
            "the leader changed before the request committed; it may or may not be applied: \
             check the state before retrying"
                .to_string(),
        ),
        RaftError::APIError(ClientWriteError::ChangeMembershipError(err)) => {
            ProposalReply::Refused(format!("membership change refused: {err}"))
        }
        RaftError::APIError(other) => ProposalReply::Refused(other.to_string()),
        RaftError::Fatal(fatal) => {
            ProposalReply::Unavailable(format!("this node's Raft has stopped: {fatal}"))
        }
    }
}

/// Whether this node is the leader right now, as its Raft state says.
fn leads(ctx: &NodeCtx) -> bool {
    ctx.raft.metrics().borrow_watched().state == openraft::ServerState::Leader
}

mod membership;
#[cfg(test)]
mod tests;
