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

use crate::node::NodeCtx;
use crate::node::propose;
use crate::transport::wire;
use crate::transport::wire::Proposal;
use crate::types::NativeTypes;

/// Largest Raft message accepted (snapshots of big clusters included).
const MAX_RAFT_BODY: usize = 256 * 1024 * 1024;

/// The `/raft/*` routes of a node.
pub fn router(ctx: Arc<NodeCtx>) -> Router {
    Router::new()
        .route(wire::APPEND, post(append))
        .route(wire::VOTE, post(vote))
        .route(wire::PRE_VOTE, post(pre_vote))
        .route(wire::SNAPSHOT, post(snapshot))
        .route(wire::PROPOSE, post(propose))
        .route(wire::PING, post(ping))
        .route(wire::LEAVE, post(leave))
        .layer(DefaultBodyLimit::max(MAX_RAFT_BODY))
        .with_state(ctx)
}

/// Why a Raft message was refused before reaching Raft: a status and a reason.
type Refusal = (StatusCode, String);

/// Who sent a message: checks it comes from this node's cluster and returns the sender's id.
fn sender(ctx: &NodeCtx, headers: &HeaderMap) -> Result<u64, Refusal> {
    let header = |name| headers.get(name).and_then(|value| value.to_str().ok());
    match header(wire::CLUSTER_HEADER) {
        Some(cluster) if cluster == ctx.cluster => {}
        other => {
            let message = format!(
                "this node belongs to cluster {:?}, the message to cluster {:?}",
                ctx.cluster,
                other.unwrap_or("")
            );
            return Err((StatusCode::FORBIDDEN, message));
        }
    }
    header(wire::FROM_HEADER)
        .and_then(|from| from.parse().ok())
        .ok_or_else(|| (StatusCode::BAD_REQUEST, "missing sender header".to_string()))
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, Refusal> {
    wire::decode(body).map_err(|err| (StatusCode::BAD_REQUEST, err))
}

/// Answers `from` with `value`, unless this node's link to `from` is cut.
fn reply<T: Serialize>(ctx: &NodeCtx, from: u64, value: &T) -> Response {
    let link_up = ctx
        .member_addr(from)
        .is_none_or(|addr| ctx.links.is_up(&addr));
    if !link_up {
        return (StatusCode::SERVICE_UNAVAILABLE, wire::ANSWER_LOST).into_response();
    }
    match wire::encode(value) {
        Ok(bytes) => ([(header::CONTENT_TYPE, wire::CONTENT_TYPE)], bytes).into_response(),
        Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err).into_response(),
    }
}

/// Decodes the request, runs `handle` and replies: the shape shared by every Raft endpoint.
async fn serve<Req, Resp, Fut>(
    ctx: Arc<NodeCtx>,
    headers: HeaderMap,
    body: Bytes,
    handle: impl FnOnce(Arc<NodeCtx>, Req) -> Fut,
) -> Response
where
    Req: DeserializeOwned,
    Resp: Serialize,
    Fut: Future<Output = Resp>,
{
    let from = match sender(&ctx, &headers) {
        Ok(from) => from,
        Err(refusal) => return refusal.into_response(),
    };
    let request = match decode::<Req>(&body) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(),
    };
    let answer = handle(ctx.clone(), request).await;
    reply(&ctx, from, &answer)
}

async fn append(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        headers,
        body,
        |ctx, request: AppendEntriesRequest<NativeTypes>| async move {
            ctx.raft
                .append_entries(request)
                .await
                .map_err(|err| err.to_string())
        },
    )
    .await
}

async fn vote(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        headers,
        body,
        |ctx, request: VoteRequest<NativeTypes>| async move {
            ctx.raft.vote(request).await.map_err(|err| err.to_string())
        },
    )
    .await
}

async fn pre_vote(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        headers,
        body,
        |ctx, request: VoteRequest<NativeTypes>| async move {
            ctx.raft
                .pre_vote(request)
                .await
                .map_err(|err| err.to_string())
        },
    )
    .await
}

/// A snapshot as it travels: the leader's vote, the snapshot's metadata and its bytes.
type SnapshotMessage = (VoteOf<NativeTypes>, SnapshotMetaOf<NativeTypes>, Vec<u8>);

async fn snapshot(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(
        ctx,
        headers,
        body,
        |ctx, (vote, meta, data): SnapshotMessage| async move {
            let snapshot = SnapshotOf::<NativeTypes, Cursor<Vec<u8>>> {
                meta,
                snapshot: Cursor::new(data),
            };
            ctx.raft
                .install_full_snapshot(vote, snapshot)
                .await
                .map_err(|err| err.to_string())
        },
    )
    .await
}

async fn propose(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(ctx, headers, body, |ctx, proposal: Proposal| async move {
        propose::execute(&ctx, &proposal, ctx.request_timeout).await
    })
    .await
}

async fn ping(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    // A joining node is asked before it is a member, so its cluster header is not checked
    // against a membership; its cluster name still must match.
    serve(ctx, headers, body, |ctx, (): ()| async move {
        wire::Identity {
            id: ctx.id,
            cluster: ctx.cluster.clone(),
            name: ctx.name.clone(),
            belongs: !ctx.members().is_empty(),
        }
    })
    .await
}

async fn leave(State(ctx): State<Arc<NodeCtx>>, headers: HeaderMap, body: Bytes) -> Response {
    serve(ctx, headers, body, |ctx, (): ()| async move {
        tracing::info!(id = ctx.id, "removed from the cluster: shutting down");
        // Stop a moment later, so this answer still goes out.
        let stopping = ctx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            stopping.request_stop();
        });
    })
    .await
}
