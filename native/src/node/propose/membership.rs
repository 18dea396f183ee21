//! Joins and leaves, as the leader carries them out: Raft membership changes, made one at a time
//! (a join as a learner first, promoted once it caught up), each followed by a write that records
//! its answer under the client's request id.
//!
//! Membership entries cannot carry a request id, so without that record a retried join would find
//! its node already there (409) and a retried leave would find its node gone (404), though the
//! first attempt succeeded and only its answer was lost. With it, a retry is answered from the
//! replicated state like every other write: the first attempt's answer, whichever leader gives it.

use std::collections::BTreeSet;
use std::time::Duration;

use flotilla_core::model::Command;
use flotilla_core::model::Outcome;
use flotilla_core::model::RequestId;
use flotilla_core::model::Write;
use flotilla_core::model::reused_id_message;
use flotilla_core::raft::Applied;
use flotilla_core::raft::Member;
use openraft::ChangeMembers;
use openraft::ReadPolicy;
use openraft::errors::ChangeMembershipError;
use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;
use openraft::raft::ClientWriteResponse;
use openraft_rt::WatchReceiver;

use super::RETRY_PAUSE;
use super::known_leader;
use super::leads;
use super::write_failed;
use crate::addr::same_addr;
use crate::node::ctx::NodeCtx;
use crate::transport::wire;
use crate::transport::wire::ProposalReply;
use crate::types::NativeTypes;

/// Adds node `id` as a learner, waits for it to catch up, then makes it a voter, and records the
/// answer under `request`. A retry of a join that went through gets the first answer; a join of
/// a node that is already a voter with exactly this name, address and capacity (its first
/// attempt's answer was never recorded: that leader fell in between) succeeds without a change.
///
/// A join that does not finish within three quarters of `timeout` (the joiner stopped answering,
/// so it never catches up) or fails takes the learner it left out again in the rest of the time:
/// a learner gets no replicas (only voters are orchestrator nodes), but it would stay in the
/// membership, receiving the log, until someone removed it.
pub async fn join(
    ctx: &NodeCtx,
    id: u64,
    member: &Member,
    request: &RequestId,
    timeout: Duration,
) -> ProposalReply {
    if !leads(ctx) {
        return ProposalReply::NotLeader(known_leader(ctx).map(|l| (l.id, l.addr)));
    }
    // Concurrent joins are checked against, and added to, what the previous one left.
    let _one_at_a_time = ctx.membership_changes.lock().await;
    if let Some(reply) = answered_before(
        ctx,
        request,
        |outcome| matches!(outcome, Outcome::NodeAdded { node, .. } if node.id == id),
    )
    .await
    {
        return reply;
    }
    for (other, existing) in ctx.members() {
        if other == id && is_same_member(&existing, member) && voters(ctx).contains(&id) {
            return record(ctx, request, joined(ctx, id)).await;
        }
        if other == id {
            return ProposalReply::Refused(format!("node id {id} is already in the cluster"));
        }
        if existing.name == member.name {
            return ProposalReply::Refused(format!(
                "a node named {:?} is already in the cluster",
                member.name
            ));
        }
        if same_addr(&existing.addr, &member.addr) {
            return ProposalReply::Refused(format!(
                "node {other} already serves at {}",
                member.addr
            ));
        }
    }
    if let Some(refusal) = check_joiner(ctx, id, member).await {
        return refusal;
    }
    let budget = timeout.mul_f64(0.75);
    let reply = match tokio::time::timeout(budget, add_and_promote(ctx, id, member)).await {
        Ok(reply) => reply,
        Err(_) => ProposalReply::Unavailable(format!(
            "node {id} was not added within {:.1}s: it did not catch up with the log (is it up, \
             and can the leader reach {}?); a learner it left was taken out again, but if its \
             promotion had begun it may still complete: check the membership before retrying",
            budget.as_secs_f64(),
            member.addr
        )),
    };
    match reply {
        ProposalReply::Applied(applied) => {
            let outcome = match applied.outcome {
                Some(outcome @ Outcome::NodeAdded { .. }) => outcome,
                _ => joined(ctx, id),
            };
            record(ctx, request, outcome).await
        }
        other => {
            remove_learner(ctx, id).await;
            other
        }
    }
}

/// Removes node `id` from the membership (a voter, or a learner a failed join left) and records
/// the answer under `request`; tells the node it is out, so it stops. A retry of a leave that
/// went through gets the first answer.
pub async fn leave(ctx: &NodeCtx, id: u64, request: &RequestId) -> ProposalReply {
    if !leads(ctx) {
        return ProposalReply::NotLeader(known_leader(ctx).map(|l| (l.id, l.addr)));
    }
    let _one_at_a_time = ctx.membership_changes.lock().await;
    if let Some(reply) = answered_before(
        ctx,
        request,
        |outcome| matches!(outcome, Outcome::NodeRemoved { id: removed, .. } if *removed == id),
    )
    .await
    {
        return reply;
    }
    let Some(addr) = ctx.member_addr(id) else {
        return ProposalReply::Refused(format!("node {id} is not in the cluster"));
    };
    let mut others = voters(ctx);
    if others.remove(&id) && others.is_empty() {
        return ProposalReply::Refused(format!(
            "node {id} is the cluster's last voter; a cluster cannot remove its last node"
        ));
    }
    // A voter leaves the voters and, with `retain = false`, the membership; a learner (a node
    // whose join never finished) is no voter, so it is removed from the nodes directly. Asked
    // again on every attempt: a promotion in progress may turn the one into the other.
    let remove = || {
        let ids = BTreeSet::from([id]);
        let change = if voters(ctx).contains(&id) {
            ChangeMembers::RemoveVoters(ids)
        } else {
            ChangeMembers::RemoveNodes(ids)
        };
        ctx.raft.change_membership(change, false)
    };
    let removed = match change_membership(remove).await {
        Ok(response) => response.data,
        Err(err) => return write_failed(ctx, err),
    };
    // Tell the node it is out, so it stops; if it cannot be reached it will find out when it
    // can (it is no longer in the membership it replicates).
    if id == ctx.id {
        ctx.request_stop();
    } else {
        let _ = ctx
            .peers
            .call::<(), ()>(&addr, wire::LEAVE, &(), Duration::from_secs(2))
            .await;
    }
    let outcome = match removed.outcome {
        Some(outcome @ Outcome::NodeRemoved { .. }) => outcome,
        // A learner was no orchestrator node: it ran nothing.
        _ => Outcome::NodeRemoved {
            id,
            replaced: 0,
            pending: ctx.state_machine.core().read(|state| state.total_pending()),
        },
    };
    record(ctx, request, outcome).await
}

/// The answer the cluster recorded for `request`, if it did: the first answer again when it was
/// this change (`is_this_change`), a refusal when the id was used for another request. Reads the
/// state as of a confirmed read index, so a record a previous leader committed is seen.
async fn answered_before(
    ctx: &NodeCtx,
    request: &RequestId,
    is_this_change: impl Fn(&Outcome) -> bool,
) -> Option<ProposalReply> {
    if let Err(err) = ctx.raft.ensure_linearizable(ReadPolicy::ReadIndex).await {
        return Some(ProposalReply::Unavailable(format!(
            "cannot confirm leadership: {err}"
        )));
    }
    let answer = ctx
        .state_machine
        .core()
        .read(|state| state.recent_writes().answer(request).cloned())?;
    if is_this_change(&answer.outcome) {
        return Some(ProposalReply::Applied(Applied {
            log_index: answer.log_index,
            outcome: Some(answer.outcome),
        }));
    }
    Some(ProposalReply::Refused(reused_id_message(
        request,
        answer.log_index,
    )))
}

/// Commits the record of a join's or leave's `outcome` under `request` and answers it.
async fn record(ctx: &NodeCtx, request: &RequestId, outcome: Outcome) -> ProposalReply {
    let write = Write::new(request.clone(), Command::RecordMembershipAnswer { outcome });
    match ctx.raft.client_write(write).await {
        Ok(response) => ProposalReply::Applied(response.data),
        Err(err) => write_failed(ctx, err),
    }
}

/// What a join of node `id` answers, from the state now: the node with its load, and how many
/// replicas are still pending.
fn joined(ctx: &NodeCtx, id: u64) -> Outcome {
    ctx.state_machine
        .core()
        .read(|state| match state.node_view(id) {
            Some(node) => Outcome::NodeAdded {
                node,
                pending: state.total_pending(),
            },
            None => Outcome::Rejected {
                reason: format!("node {id} is a member but not yet an orchestrator node"),
            },
        })
}

/// Whether two descriptions name the same node: same name, address and capacity.
fn is_same_member(existing: &Member, asked: &Member) -> bool {
    existing.name == asked.name
        && existing.capacity == asked.capacity
        && same_addr(&existing.addr, &asked.addr)
}

/// Asks the joiner who it is; a refusal if it is not node `id` of this cluster, is unreachable,
/// or already belongs to a cluster. The joiner must be up and be who it says it is before it
/// enters the membership: a voter that cannot be reached would weaken the quorum.
async fn check_joiner(ctx: &NodeCtx, id: u64, member: &Member) -> Option<ProposalReply> {
    let probe = ctx
        .peers
        .call::<(), wire::Identity>(&member.addr, wire::PING, &(), Duration::from_secs(2))
        .await;
    let refusal = match probe {
        Ok(them) if them.id == id && them.cluster == ctx.cluster && them.belongs => format!(
            "the node at {} already belongs to a cluster (it founded or joined one, and its \
             log would conflict with this one's): start it on an empty data directory with \
             `flotilla node --await-join` (or `--join`) to add it here",
            member.addr
        ),
        Ok(them) if them.id == id && them.cluster == ctx.cluster => return None,
        Ok(them) => format!(
            "the node at {} is node {} of cluster {:?}, not node {id} of cluster {:?}",
            member.addr, them.id, them.cluster, ctx.cluster
        ),
        Err(err) => format!("cannot add node {id}: {err}"),
    };
    Some(ProposalReply::Refused(refusal))
}

/// The current voters.
fn voters(ctx: &NodeCtx) -> BTreeSet<u64> {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    metrics.membership_config.membership().voter_ids().collect()
}

/// What a membership change returns.
type ChangeResult =
    Result<ClientWriteResponse<NativeTypes>, RaftError<NativeTypes, ClientWriteError<NativeTypes>>>;

/// Runs a membership change, waiting while an earlier one (a previous leader's, or one of
/// openraft's own) is still being committed; [`execute`](super::execute)'s timeout bounds the wait.
pub(super) async fn change_membership<F, Fut>(mut change: F) -> ChangeResult
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ChangeResult>,
{
    loop {
        match change().await {
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                ChangeMembershipError::InProgress(_),
            ))) => tokio::time::sleep(RETRY_PAUSE).await,
            other => return other,
        }
    }
}

/// Adds node `id` as a learner, then promotes it to voter once it has caught up.
async fn add_and_promote(ctx: &NodeCtx, id: u64, member: &Member) -> ProposalReply {
    let learner = change_membership(|| ctx.raft.add_learner(id, member.clone(), true)).await;
    if let Err(err) = learner {
        return write_failed(ctx, err);
    }
    let promote = || {
        ctx.raft
            .change_membership(ChangeMembers::AddVoterIds(BTreeSet::from([id])), false)
    };
    match change_membership(promote).await {
        Ok(response) => ProposalReply::Applied(response.data),
        Err(err) => write_failed(ctx, err),
    }
}

/// Takes node `id` out of the membership if it is a learner there, and only then: a voter (a
/// promotion that went through after all) stays. Waits for a membership change in progress to
/// finish first, since it may be that very promotion.
async fn remove_learner(ctx: &NodeCtx, id: u64) {
    loop {
        if !ctx.members().contains_key(&id) || voters(ctx).contains(&id) {
            return;
        }
        let removed = ctx
            .raft
            .change_membership(ChangeMembers::RemoveNodes(BTreeSet::from([id])), false)
            .await;
        match removed {
            Err(RaftError::APIError(ClientWriteError::ChangeMembershipError(
                ChangeMembershipError::InProgress(_),
            ))) => tokio::time::sleep(RETRY_PAUSE).await,
            Ok(_) => {
                tracing::info!(node = id, "removed the learner a failed join left");
                return;
            }
            Err(err) => {
                tracing::warn!(node = id, %err, "cannot remove the learner a failed join left");
                return;
            }
        }
    }
}
