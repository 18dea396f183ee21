//! The receiving end of Raft over HTTP: `/raft/*` handlers that decode a binary body, hand it
//! to this node's Raft and encode the answer — unless the link back to the sender is cut, in
//! which case the request is processed but the answer is lost, as on a real network. The
//! sending end is the `transport` module.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::post;
use openraft::alias::SnapshotMetaOf;
use openraft::alias::SnapshotOf;
use openraft::alias::VoteOf;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::VoteRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;

use openraft_rt::WatchReceiver;

use tokio::sync::Semaphore;

use super::limits::ServerLimits;
use super::limits::too_many_uploads;
use crate::auth::NONCE_HEADER;
use crate::auth::SIGNATURE_HEADER;
use crate::node::NodeCtx;
use crate::node::propose;
use crate::transport::wire;
use crate::transport::wire::Proposal;
use crate::types::NativeTypes;

/// The `/raft/*` routes of a node.
pub fn router(ctx: Arc<NodeCtx>, limits: &ServerLimits) -> Router {
    let uploads = Arc::new(Semaphore::new(limits.max_snapshot_uploads));
    let most_uploads = limits.max_snapshot_uploads;
    Router::new()
        .route(wire::APPEND, post(append))
        .route(wire::VOTE, post(vote))
        .route(wire::PRE_VOTE, post(pre_vote))
        .route(
            wire::SNAPSHOT,
            post(
                move |ctx: State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes| async move {
                    // Each upload holds its body and the state it decodes to: a few at a time.
                    let Ok(_slot) = uploads.clone().try_acquire_owned() else {
                        return too_many_uploads(most_uploads).into_response();
                    };
                    snapshot(ctx, headers, body).await
                },
            ),
        )
        .route(wire::PROPOSE, post(propose))
        .route(wire::PING, post(ping))
        .route(wire::LEAVE, post(leave))
        .layer(DefaultBodyLimit::max(limits.max_raft_body_bytes))
        .with_state(ctx)
}

/// Why a Raft message was refused before reaching Raft: a status and a reason.
type Refusal = (StatusCode, String);

/// Highest term a message may carry: far beyond any real cluster's (a term a second for 10^11
/// years), and low enough that openraft's `term + 1` can never overflow. A larger one can only
/// come from a bug or an attacker, and would poison this node's persisted vote.
pub const MAX_TERM: u64 = u64::MAX / 2;

/// Who sent a message: checks its signature (the cluster's secret, this node's cluster, a
/// fresh and unseen message) and returns the sender's id.
fn sender(ctx: &NodeCtx, path: &str, headers: &HeaderMap, body: &[u8]) -> Result<u64, Refusal> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    ctx.peers
        .auth()
        .verify("POST", path, header, body)
        .map_err(|err| {
            let status = if err.is_unauthenticated() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            tracing::warn!(%err, path, "refused a Raft message");
            (status, err.to_string())
        })
}

/// Refuses a message whose term is beyond [`MAX_TERM`].
fn check_term(term: u64) -> Result<(), Refusal> {
    if term > MAX_TERM {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("term {term} is beyond the highest this node accepts ({MAX_TERM})"),
        ));
    }
    Ok(())
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    wire::decode(body).map_err(|err| (StatusCode::BAD_REQUEST, err))
}

/// Answers `from` with `value`, unless this node's link to `from` is cut.
/// With a secret, the answer is signed for the request's nonce, so the sender knows a member
/// wrote it for this very request (an impostor cannot pass for a node the cluster adds).
fn reply<T: Serialize>(ctx: &NodeCtx, from: u64, nonce: Option<&str>, value: &T) -> Response {
    let link_up = ctx
        .member_addr(from)
        .is_none_or(|addr| ctx.links.is_up(&addr));
    if !link_up {
        return (StatusCode::SERVICE_UNAVAILABLE, wire::ANSWER_LOST).into_response();
    }
    match wire::encode(value) {
        Ok(bytes) => {
            let signature = nonce.and_then(|nonce| ctx.peers.auth().sign_reply(nonce, &bytes));
            let mut response =
                ([(header::CONTENT_TYPE, wire::CONTENT_TYPE)], bytes).into_response();
            if let Some(value) = signature.and_then(|s| HeaderValue::from_str(&s).ok()) {
                response.headers_mut().insert(SIGNATURE_HEADER, value);
            }
            response
        }
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err).into_response(),
    }
}

/// Decodes the request, runs `handle` and replies: the shape shared by every Raft endpoint.
async fn serve<Req, Resp, Fut>(
    ctx: Arc<NodeCtx>,
    path: &str,
    headers: HeaderMap,
    body: Bytes,
    handle: impl FnOnce(Arc<NodeCtx>, u64, Req) -> Fut,
) -> Response
where
    Req: DeserializeOwned + Checked,
    Resp: Serialize,
    Fut: Future<Output = Result<Resp, Refusal>>,
{
    let from = match sender(&ctx, path, &headers, &body) {
        Ok(from) => from,
        Err(refusal) => return refusal.into_response(),
    };
    if from == ctx.id {
        return malformed(format!(
            "the message claims to come from this node ({from})"
        ))
        .into_response();
    }
    let request = match decode::<Req>(&body).and_then(|request| {
        request.check(ctx.id)?;
        Ok(request)
    }) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    match handle(ctx.clone(), from, request).await {
        Ok(answer) => {
            let nonce = headers
                .get(NONCE_HEADER)
                .and_then(|value| value.to_str().ok());
            reply(&ctx, from, nonce, &answer)
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// What a decoded message must satisfy before openraft sees it.
trait Checked {
    /// `Err` with a 400 when the message carries what openraft would choke on, received by
    /// node `me`.
    fn check(&self, me: u64) -> Result<(), Refusal> {
        let _ = me;
        Ok(())
    }
}

/// Refuses a vote that names this node: no node sends itself a message, and openraft, taking
/// it for its own, would act as a follower of itself (it asserts it never does).
fn check_not_mine(vote: &VoteOf<NativeTypes>, me: u64) -> Result<(), Refusal> {
    if vote.leader_id.voted_for == me {
        return Err(malformed(format!(
            "the message carries this node's own vote (node {me}, term {})",
            vote.leader_id.term
        )));
    }
    Ok(())
}

impl Checked for AppendEntriesRequest<NativeTypes> {
    fn check(&self, me: u64) -> Result<(), Refusal> {
        check_term(self.vote.leader_id.term)?;
        check_not_mine(&self.vote, me)?;
        for log_id in self.prev_log_id.iter().chain(self.leader_commit.iter()) {
            check_term(log_id.leader_id.term)?;
        }
        // Entries follow `prev_log_id` one index after another, none of a term above the
        // sender's: what a leader sends, and what openraft takes for granted.
        let mut expected = self
            .prev_log_id
            .as_ref()
            .map_or(0, |log_id| log_id.index + 1);
        let mut last_term = self
            .prev_log_id
            .as_ref()
            .map_or(0, |log_id| log_id.leader_id.term);
        for entry in &self.entries {
            let (term, index) = (entry.log_id.leader_id.term, entry.log_id.index);
            check_term(term)?;
            if index != expected || term < last_term || term > self.vote.leader_id.term {
                return Err(malformed(format!(
                    "entry {index} (term {term}) does not follow the previous one (index \
                     {expected} expected, terms between {last_term} and the sender's {})",
                    self.vote.leader_id.term
                )));
            }
            expected = index.saturating_add(1);
            last_term = term;
        }
        Ok(())
    }
}

/// A 400 for a message whose parts do not fit together.
fn malformed(reason: String) -> Refusal {
    (StatusCode::BAD_REQUEST, reason)
}

impl Checked for VoteRequest<NativeTypes> {
    fn check(&self, me: u64) -> Result<(), Refusal> {
        check_term(self.vote.leader_id.term)?;
        check_not_mine(&self.vote, me)?;
        match &self.last_log_id {
            Some(log_id) => check_term(log_id.leader_id.term),
            None => Ok(()),
        }
    }
}

impl Checked for SnapshotMessage {
    fn check(&self, me: u64) -> Result<(), Refusal> {
        let (vote, meta, _) = self;
        check_term(vote.leader_id.term)?;
        check_not_mine(vote, me)?;
        if let Some(log_id) = &meta.last_log_id {
            check_term(log_id.leader_id.term)?;
        }
        // The membership a snapshot carries is part of what it covers.
        if meta.last_membership.log_id().as_ref() > meta.last_log_id.as_ref() {
            return Err(malformed(
                "the snapshot's membership is newer than the snapshot itself".to_string(),
            ));
        }
        Ok(())
    }
}

impl Checked for Proposal {}
impl Checked for () {}

async fn append(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        wire::APPEND,
        headers,
        body,
        |ctx, _, request: AppendEntriesRequest<NativeTypes>| async move {
            Ok(ctx
                .raft
                .append_entries(request)
                .await
                .map_err(|err| err.to_string()))
        },
    )
    .await
}

async fn vote(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        wire::VOTE,
        headers,
        body,
        |ctx, _, request: VoteRequest<NativeTypes>| async move {
            Ok(ctx.raft.vote(request).await.map_err(|err| err.to_string()))
        },
    )
    .await
}

async fn pre_vote(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        wire::PRE_VOTE,
        headers,
        body,
        |ctx, _, request: VoteRequest<NativeTypes>| async move {
            Ok(ctx
                .raft
                .pre_vote(request)
                .await
                .map_err(|err| err.to_string()))
        },
    )
    .await
}

/// A snapshot as it travels: the leader's vote, the snapshot's metadata and its bytes.
type SnapshotMessage = (VoteOf<NativeTypes>, SnapshotMetaOf<NativeTypes>, Vec<u8>);

async fn snapshot(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        wire::SNAPSHOT,
        headers,
        body,
        |ctx, _, (vote, meta, data): SnapshotMessage| async move {
            let snapshot = SnapshotOf::<NativeTypes, Cursor<Vec<u8>>> {
                meta,
                snapshot: Cursor::new(data),
            };
            Ok(ctx
                .raft
                .install_full_snapshot(vote, snapshot)
                .await
                .map_err(|err| err.to_string()))
        },
    )
    .await
}

async fn propose(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        wire::PROPOSE,
        headers,
        body,
        |ctx, _, proposal: Proposal| async move {
            Ok(propose::execute(&ctx, &proposal, ctx.request_timeout).await)
        },
    )
    .await
}

async fn ping(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    // A joining node is asked before it is a member: the message must still be signed with
    // this cluster's secret, so a node only ever joins the cluster whose secret it holds.
    serve(
        ctx,
        wire::PING,
        headers,
        body,
        |ctx, _, (): ()| async move {
            Ok(wire::Identity {
                id: ctx.id,
                cluster: ctx.cluster.clone(),
                name: ctx.name.clone(),
                // Storage says it surely: the metrics' membership may lag a founding just made.
                belongs: !ctx.members().is_empty()
                    || ctx.log.last_index() > 0
                    || ctx.log.vote().is_some(),
            })
        },
    )
    .await
}

async fn leave(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(ctx, wire::LEAVE, headers, body, |ctx, from, (): ()| async move {
        // Only the leader removes members: a member that is not (or no longer) the leader this
        // node follows cannot make it stop.
        let leader = ctx.raft.metrics().borrow_watched().current_leader;
        if leader != Some(from) {
            return Err((
                StatusCode::FORBIDDEN,
                format!("only this node's leader may remove it; {from} is not its leader ({leader:?})"),
            ));
        }
        tracing::info!(id = ctx.id, "removed from the cluster: shutting down");
        // Stop a moment later, so this answer still goes out.
        let stopping = ctx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stopping.request_stop();
        });
        Ok(())
    })
    .await
}
