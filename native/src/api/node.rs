//! The public API every node serves: its stats and links, the cluster state as it sees it, and
//! writes (services, nodes) that it forwards to the leader — any node is an entry point.
//!
//! Every write that goes through the Raft log — creating, scaling and deleting services, adding
//! and removing nodes — takes its request id from the `Idempotency-Key` header (or draws one)
//! and carries it to the leader ([`IdempotencyKey`]). `/connections` is not among them: a link
//! table is this node's own test switch, set directly and never logged.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::http::HeaderMap;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::Event;
use axum::response::sse::KeepAlive;
use axum::response::sse::Sse;
use axum::routing::get;
use axum::routing::post;
use flotilla_core::model::Command;
use flotilla_core::model::Outcome;
use flotilla_core::model::RequestId;
use flotilla_core::model::Write;
use flotilla_core::model::parse_scale_request;
use flotilla_core::model::parse_service_request;
use flotilla_core::raft::Applied;
use flotilla_core::raft::Member;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;

use super::body::JsonBody;
use super::error::ApiError;
use super::idempotency::IdempotencyKey;
use super::limits::ServerLimits;
use super::requests::parse_connections;
use super::requests::parse_node_address;
use super::requests::parse_node_request;
use super::requests::parse_service_id;
use super::streams::KEEP_ALIVE;
use super::streams::StreamLimit;
use crate::addr::same_addr;
use crate::auth::CHALLENGE_HEADER;
use crate::auth::SIGNATURE_HEADER;
use crate::node::NodeCtx;
use crate::node::events::summaries;
use crate::node::propose::known_leader;
use crate::node::propose::read_barrier;
use crate::node::propose::submit;
use crate::node::status;
use crate::transport::wire;
use crate::transport::wire::Proposal;

/// The node's public routes.
pub fn router(ctx: Arc<NodeCtx>, limits: &ServerLimits) -> Router {
    let streams = StreamLimit::new(limits.max_event_streams);
    Router::new()
        .route("/stats", get(stats))
        .route(
            "/events",
            get(move |state: State<Arc<NodeCtx>>| events(state, streams.clone())),
        )
        .route("/state", get(state))
        .route("/connections", get(connections).post(set_connections))
        .route("/connections/", get(connections).post(set_connections))
        .route("/service", post(create_services))
        .route("/services", get(services).post(create_services))
        .route("/services/{id}", get(service).delete(delete_service))
        .route("/services/{id}/scale", post(scale_service))
        .route("/nodes", get(nodes).post(add_node).delete(remove_node))
        .layer(axum::middleware::map_response_with_state(
            ctx.clone(),
            name_the_leader,
        ))
        .with_state(ctx)
}

/// Header in which every answer of the public API names the leader this node knows
/// (`host:port`), so a client that reached a follower learns where to send its next write.
pub const LEADER_HEADER: &str = "x-flotilla-leader";

/// Adds [`LEADER_HEADER`] to an answer, when this node knows a leader.
async fn name_the_leader(State(ctx): State<Arc<NodeCtx>>, mut response: Response) -> Response {
    if let Some(leader) = known_leader(&ctx)
        && let Ok(value) = HeaderValue::from_str(&leader.addr)
    {
        response.headers_mut().insert(LEADER_HEADER, value);
    }
    response
}

/// Query of `GET /stats`: which page of the log to include.
#[derive(Debug, Deserialize)]
struct LogQuery {
    from: Option<u64>,
    limit: Option<u64>,
}

/// `GET /stats`. A reader that sends a challenge header gets the answer signed with the
/// cluster's secret, so it can tell a member's stats from anyone else's.
async fn stats(
    State(ctx): State<Arc<NodeCtx>>,
    headers: HeaderMap,
    query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_request(err.body_text()))?;
    let stats = status::node_stats(&ctx, query.from, query.limit);
    let challenge = headers
        .get(CHALLENGE_HEADER)
        .and_then(|value| value.to_str().ok());
    let Some(challenge) = challenge else {
        return Ok(Json(stats).into_response());
    };
    let body = serde_json::to_vec(&stats)
        .map_err(|err| ApiError::internal(format!("cannot encode the stats: {err}")))?;
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response();
    if let Some(signature) = ctx.peers.auth().sign_reply(challenge, &body)
        && let Ok(value) = HeaderValue::from_str(&signature)
    {
        response.headers_mut().insert(SIGNATURE_HEADER, value);
    }
    Ok(response)
}

/// `GET /events`: the node's summary (`/stats` without the log) as server-sent events named
/// `node`, the current one first, then each change (429 past `--max-event-streams` open).
async fn events(
    State(ctx): State<Arc<NodeCtx>>,
    streams: StreamLimit,
) -> Result<Response, ApiError> {
    let slot = streams.open()?;
    let stream = summaries(ctx).map(move |summary| {
        let _held_while_streaming = &slot;
        Event::default().event("node").json_data(summary)
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

async fn state(State(ctx): State<Arc<NodeCtx>>) -> Response {
    Json(status::cluster_state(&ctx)).into_response()
}

async fn connections(State(ctx): State<Arc<NodeCtx>>) -> Response {
    Json(status::connections(&ctx)).into_response()
}

async fn set_connections(
    State(ctx): State<Arc<NodeCtx>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let changes = parse_connections(&body)?;
    let peers = status::connections(&ctx);
    // Check every key first: a request naming an unknown peer changes nothing.
    let mut resolved = Vec::with_capacity(changes.len());
    for (addr, up) in changes {
        let Some(peer) = peers.keys().find(|peer| same_addr(peer, &addr)) else {
            let known: Vec<&String> = peers.keys().collect();
            return Err(ApiError::not_found(format!(
                "{addr:?} is not a peer of this node; its peers are {known:?}"
            )));
        };
        resolved.push((peer.clone(), up));
    }
    for (peer, up) in &resolved {
        ctx.links.set(peer, *up);
        tracing::info!(from = %ctx.addr, to = %peer, up, "link changed");
    }
    Ok(Json(status::connections(&ctx)).into_response())
}

/// The JSON a committed outcome is answered with, and its status.
fn outcome_response(applied: Applied) -> Result<Response, ApiError> {
    let log_index = applied.log_index;
    let body = match applied.outcome {
        Some(Outcome::ServicesCreated { services }) => {
            json!({ "log_index": log_index, "services": services })
        }
        Some(Outcome::ServiceScaled { service }) => {
            json!({ "log_index": log_index, "service": service })
        }
        Some(Outcome::ServiceDeleted { id }) => json!({ "log_index": log_index, "deleted": id }),
        Some(Outcome::Rejected { reason }) => return Err(ApiError::conflict(reason)),
        Some(Outcome::RequestIdReused { reason }) => return Err(ApiError::unprocessable(reason)),
        Some(other) => json!({ "log_index": log_index, "outcome": other }),
        None => json!({ "log_index": log_index }),
    };
    Ok(Json(body).into_response())
}

async fn create_services(
    State(ctx): State<Arc<NodeCtx>>,
    IdempotencyKey(request): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let services = parse_service_request(&body)?;
    let write = Write::new(request, Command::CreateServices { services });
    let applied = submit(&ctx, Proposal::Command(write)).await?;
    outcome_response(applied).map(|response| (StatusCode::CREATED, response).into_response())
}

async fn services(State(ctx): State<Arc<NodeCtx>>) -> Response {
    let services: Vec<_> = ctx
        .state_machine
        .core()
        .read(|state| state.service_views().collect());
    Json(json!({ "services": services })).into_response()
}

/// Refuses a request about a service that does not exist. A read barrier first: this node's
/// state then reflects every write acknowledged before the request, wherever it was made, so a
/// service just created through another node is found here. A retry of a request already
/// applied passes whatever became of the service (its first answer is what it gets back).
async fn known_service(ctx: &NodeCtx, id: u64, request: &RequestId) -> Result<(), ApiError> {
    read_barrier(ctx).await?;
    if ctx.state_machine.core().read(|state| {
        state.service(id).is_some() || state.recent_writes().answer(request).is_some()
    }) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no service with id {id}")))
    }
}

/// `GET /services/:id`, as of every write acknowledged before it (after a read barrier).
async fn service(
    State(ctx): State<Arc<NodeCtx>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_service_id(&id)?;
    read_barrier(&ctx).await?;
    let view = ctx.state_machine.core().read(|state| {
        state
            .service(id)
            .map(flotilla_core::model::ServiceView::from)
    });
    view.map(|view| Json(view).into_response())
        .ok_or_else(|| ApiError::not_found(format!("no service with id {id}")))
}

async fn scale_service(
    State(ctx): State<Arc<NodeCtx>>,
    Path(id): Path<String>,
    IdempotencyKey(request): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let id = parse_service_id(&id)?;
    let replicas = parse_scale_request(&body)?;
    known_service(&ctx, id, &request).await?;
    let write = Write::new(request, Command::ScaleService { id, replicas });
    let applied = submit(&ctx, Proposal::Command(write)).await?;
    outcome_response(applied)
}

async fn delete_service(
    State(ctx): State<Arc<NodeCtx>>,
    Path(id): Path<String>,
    IdempotencyKey(request): IdempotencyKey,
) -> Result<Response, ApiError> {
    let id = parse_service_id(&id)?;
    known_service(&ctx, id, &request).await?;
    let write = Write::new(request, Command::DeleteService { id });
    let applied = submit(&ctx, Proposal::Command(write)).await?;
    outcome_response(applied)
}

async fn nodes(State(ctx): State<Arc<NodeCtx>>) -> Response {
    let nodes: Vec<_> = ctx
        .state_machine
        .core()
        .read(|state| state.node_views().collect());
    Json(json!({ "nodes": nodes })).into_response()
}

/// Joins a node that is already running (started with `flotilla node`, or spawned by the demo's
/// entry point): asks it who it is, then has the leader add it.
async fn add_node(
    State(ctx): State<Arc<NodeCtx>>,
    IdempotencyKey(request_id): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = parse_node_request(&body)?;
    if request.spawn {
        return Err(ApiError::unprocessable(
            "a node cannot spawn another: send \"spawn\": true to the demo's entry point \
             (POST /clusters/{id}/nodes), or start the node with `flotilla node` and send \
             \"spawn\": false",
        ));
    }
    let addr = request.addr();
    let identity = ctx
        .peers
        .call::<(), wire::Identity>(&addr, wire::PING, &(), Duration::from_secs(2))
        .await
        .map_err(|err| ApiError::unprocessable(format!("cannot add the node at {addr}: {err}")))?;
    let member = Member {
        name: request.name.unwrap_or(identity.name),
        addr,
        capacity: request.capacity,
    };
    let applied = submit(
        &ctx,
        Proposal::Join {
            id: identity.id,
            member,
            request: request_id,
        },
    )
    .await?;
    let node = ctx
        .state_machine
        .core()
        .read(|state| state.node_view(identity.id));
    let body = json!({ "log_index": applied.log_index, "node": node });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Removes the node at `{"host", "port"}` from the membership; it shuts down and its replicas
/// are re-placed.
async fn remove_node(
    State(ctx): State<Arc<NodeCtx>>,
    IdempotencyKey(request): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let addr = parse_node_address(&body)?;
    let id = ctx
        .members()
        .into_iter()
        .find(|(_, member)| same_addr(&member.addr, &addr))
        .map(|(id, _)| id);
    let id =
        id.ok_or_else(|| ApiError::not_found(format!("no node of this cluster serves at {addr}")))?;
    let applied = submit(&ctx, Proposal::Leave { id, request }).await?;
    let body = json!({ "log_index": applied.log_index, "removed": { "id": id, "addr": addr } });
    Ok(Json(body).into_response())
}
