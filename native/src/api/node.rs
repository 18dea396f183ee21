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
use axum::extract::FromRef;
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
use flotilla_core::model::Command;
use flotilla_core::model::Outcome;
use flotilla_core::model::RequestId;
use flotilla_core::model::Write;
use flotilla_core::model::parse_scale_request;
use flotilla_core::model::parse_service_request;
use flotilla_core::model::reused_id_message;
use flotilla_core::raft::Applied;
use flotilla_core::raft::Member;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::routes;

use super::body::JsonBody;
use super::error::ApiError;
use super::idempotency::IdempotencyKey;
use super::limits::ServerLimits;
use super::openapi::ApiRoutes;
use super::openapi::node_document;
use super::requests::parse_connections;
use super::requests::parse_node_address;
use super::requests::parse_node_request;
use super::requests::parse_service_id;
use super::schemas;
use super::streams::KEEP_ALIVE;
use super::streams::StreamLimit;
use crate::addr::same_addr;
use crate::auth::CHALLENGE_HEADER;
use crate::auth::SIGNATURE_HEADER;
use crate::metrics;
use crate::node::NodeCtx;
use crate::node::events::summaries;
use crate::node::propose::known_leader;
use crate::node::propose::read_barrier;
use crate::node::propose::submit;
use crate::node::status;
use crate::node::telemetry;
use crate::transport::wire;
use crate::transport::wire::Proposal;

/// The node's public routes, with `/openapi.json` and `/docs` describing them.
pub fn router(ctx: Arc<NodeCtx>, limits: &ServerLimits) -> Router {
    routes()
        .with_state(NodeApi {
            ctx: ctx.clone(),
            streams: StreamLimit::new(limits.max_event_streams),
        })
        .into_router()
        .layer(axum::middleware::map_response_with_state(
            ctx,
            name_the_leader,
        ))
}

/// The node's public routes and their document, before they get their state.
fn routes() -> ApiRoutes<NodeApi> {
    ApiRoutes::new(node_document())
        .routes(routes!(stats))
        .routes(routes!(events))
        .routes(routes!(metrics))
        .routes(routes!(state))
        .routes(routes!(connections, set_connections))
        .routes(routes!(connections_slash, set_connections_slash))
        .routes(routes!(create_service))
        .routes(routes!(services, create_services))
        .routes(routes!(service, delete_service))
        .routes(routes!(scale_service))
        .routes(routes!(nodes, add_node, remove_node))
}

/// What the handlers share: the node, and the count of open event streams.
#[derive(Clone)]
struct NodeApi {
    ctx: Arc<NodeCtx>,
    streams: StreamLimit,
}

impl FromRef<NodeApi> for Arc<NodeCtx> {
    fn from_ref(api: &NodeApi) -> Self {
        api.ctx.clone()
    }
}

impl FromRef<NodeApi> for StreamLimit {
    fn from_ref(api: &NodeApi) -> Self {
        api.streams.clone()
    }
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
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LogQuery {
    /// First log index to include (default: the last entries).
    from: Option<u64>,
    /// How many log entries to include, at most 1000.
    limit: Option<u64>,
}

/// `GET /stats`. A reader that sends a challenge header gets the answer signed with the
/// cluster's secret, so it can tell a member's stats from anyone else's.
#[utoipa::path(
    get,
    path = "/stats",
    tag = "status",
    summary = "This node's stats and a page of its log",
    description = "Role, term, vote, leader, commit and applied indexes, load, members, links \
        and a page of the log (`from`, `limit`). With an `X-Flotilla-Challenge` header the \
        answer is signed with the cluster secret.",
    params(LogQuery),
    responses((status = 200, description = "The node's stats", body = schemas::Report)),
)]
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

/// `GET /metrics`: what the node counts and measures, in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "status",
    summary = "This node's metrics for Prometheus",
    description = "The Prometheus text format (families prefixed `flotilla_`): Raft (term, \
        role, leader changes, log, commit and applied indexes, replication lag per peer, apply \
        delay, fsync latency), the state (services, placed and pending replicas, nodes up and \
        down) and HTTP requests by method, route and status with their latency.",
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String)),
)]
async fn metrics(State(ctx): State<Arc<NodeCtx>>) -> Response {
    let telemetry = &ctx.telemetry;
    telemetry.node.set_raft(&telemetry::raft_reading(&ctx));
    telemetry.node.set_state(&telemetry::state_reading(&ctx));
    prometheus_text(telemetry.registry.encode())
}

/// A `/metrics` answer: `text` in the Prometheus text format.
pub fn prometheus_text(text: String) -> Response {
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text).into_response()
}

/// `GET /events`: the node's summary (`/stats` without the log) as server-sent events named
/// `node`, the current one first, then each change (429 past `--max-event-streams` open).
#[utoipa::path(
    get,
    path = "/events",
    tag = "status",
    summary = "This node's summary as a stream of server-sent events",
    description = "Events named `node`, each data a JSON summary (`/stats` without the log): \
        the current one first, then one on every change, until the node stops. 429 past \
        `--max-event-streams` open streams.",
    responses((status = 200, description = "The event stream", content_type = "text/event-stream", body = String)),
)]
async fn events(
    State(ctx): State<Arc<NodeCtx>>,
    State(streams): State<StreamLimit>,
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

/// `GET /state`: the cluster state as this node has applied it.
#[utoipa::path(
    get,
    path = "/state",
    tag = "status",
    summary = "The cluster state as this node has applied it",
    description = "Term, commit index, nodes with capacity and load, services with placements.",
    responses((status = 200, description = "The cluster state", body = schemas::Report)),
)]
async fn state(State(ctx): State<Arc<NodeCtx>>) -> Response {
    Json(status::cluster_state(&ctx)).into_response()
}

/// `GET /connections`: this node's links to its peers.
#[utoipa::path(
    get,
    path = "/connections",
    tag = "links",
    summary = "This node's links to its peers",
    responses((status = 200, description = "`{\"host:port\": 1 | 0}` per peer", body = schemas::Connections)),
)]
async fn connections(State(ctx): State<Arc<NodeCtx>>) -> Response {
    Json(status::connections(&ctx)).into_response()
}

/// `GET /connections/`: the same as `GET /connections` (the seed's spelling).
#[utoipa::path(
    get,
    path = "/connections/",
    tag = "links",
    summary = "This node's links to its peers (the seed's spelling)",
    responses((status = 200, description = "`{\"host:port\": 1 | 0}` per peer", body = schemas::Connections)),
)]
async fn connections_slash(ctx: State<Arc<NodeCtx>>) -> Response {
    connections(ctx).await
}

/// `POST /connections/`: the same as `POST /connections` (the seed's spelling).
#[utoipa::path(
    post,
    path = "/connections/",
    tag = "links",
    summary = "Cuts or heals links from this node (the seed's spelling)",
    request_body = schemas::Connections,
    responses(
        (status = 200, description = "The link table after the change", body = schemas::Connections),
        (status = 404, description = "A key is not a peer of this node; nothing changed", body = super::error::ErrorBody),
    ),
)]
async fn set_connections_slash(
    ctx: State<Arc<NodeCtx>>,
    body: JsonBody,
) -> Result<Response, ApiError> {
    set_connections(ctx, body).await
}

/// `POST /connections`: cuts (0) or heals (1) this node's links to the peers named; a link
/// table is this node's own test switch, set directly and never logged.
#[utoipa::path(
    post,
    path = "/connections",
    tag = "links",
    summary = "Cuts or heals links from this node",
    description = "A cut link loses this node's requests to the peer and its answers to it. \
        The table is this node's own, set directly and not logged.",
    request_body = schemas::Connections,
    responses(
        (status = 200, description = "The link table after the change", body = schemas::Connections),
        (status = 404, description = "A key is not a peer of this node; nothing changed", body = super::error::ErrorBody),
    ),
)]
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

/// `POST /service`: creates services (the seed's path).
#[utoipa::path(
    post,
    path = "/service",
    tag = "services",
    summary = "Creates services (the seed's path)",
    params(IdempotencyKey),
    request_body = schemas::ServiceRequest,
    responses((status = 201, description = "Created and placed", body = schemas::ServicesCreated)),
)]
async fn create_service(
    ctx: State<Arc<NodeCtx>>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    create_services(ctx, key, body).await
}

/// `POST /services`: creates services, in either of the seed's two shapes.
#[utoipa::path(
    post,
    path = "/services",
    tag = "services",
    summary = "Creates services",
    description = "One service (`container` and `replicas`) or several (`containers`). \
        Replicas are placed on the least loaded nodes; what does not fit is pending.",
    params(IdempotencyKey),
    request_body = schemas::ServiceRequest,
    responses((status = 201, description = "Created and placed", body = schemas::ServicesCreated)),
)]
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

/// `GET /services`: every service as this node has applied it.
#[utoipa::path(
    get,
    path = "/services",
    tag = "services",
    summary = "Every service",
    responses((status = 200, description = "Every service", body = schemas::ServiceList)),
)]
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
#[utoipa::path(
    get,
    path = "/services/{id}",
    tag = "services",
    summary = "One service, as of every write acknowledged before the request",
    params(("id" = u64, Path, description = "The service's id")),
    responses(
        (status = 200, description = "The service", body = schemas::Service),
        (status = 404, description = "No such service", body = super::error::ErrorBody),
    ),
)]
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

/// `POST /services/:id/scale`: changes a service's replica count.
#[utoipa::path(
    post,
    path = "/services/{id}/scale",
    tag = "services",
    summary = "Changes a service's replica count",
    params(("id" = u64, Path, description = "The service's id"), IdempotencyKey),
    request_body = schemas::ScaleRequest,
    responses(
        (status = 200, description = "Scaled and placed", body = schemas::ServiceScaled),
        (status = 404, description = "No such service", body = super::error::ErrorBody),
    ),
)]
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

/// `DELETE /services/:id`: deletes a service and frees its replicas' capacity.
#[utoipa::path(
    delete,
    path = "/services/{id}",
    tag = "services",
    summary = "Deletes a service",
    params(("id" = u64, Path, description = "The service's id"), IdempotencyKey),
    responses(
        (status = 200, description = "Deleted", body = schemas::ServiceDeleted),
        (status = 404, description = "No such service", body = super::error::ErrorBody),
    ),
)]
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

/// `GET /nodes`: the cluster's nodes as this node has applied them.
#[utoipa::path(
    get,
    path = "/nodes",
    tag = "nodes",
    summary = "The cluster's nodes",
    responses((status = 200, description = "Every node", body = schemas::NodeList)),
)]
async fn nodes(State(ctx): State<Arc<NodeCtx>>) -> Response {
    let nodes: Vec<_> = ctx
        .state_machine
        .core()
        .read(|state| state.node_views().collect());
    Json(json!({ "nodes": nodes })).into_response()
}

/// Joins a node that is already running (started with `flotilla node`, or spawned by the demo's
/// entry point): asks it who it is, then has the leader add it.
#[utoipa::path(
    post,
    path = "/nodes",
    tag = "nodes",
    summary = "Joins a running node to the cluster",
    description = "The node must already run (`flotilla node`); `spawn: true` is the demo's \
        entry point's alone (422 here).",
    params(IdempotencyKey),
    request_body = schemas::NodeJoinRequest,
    responses((status = 201, description = "Joined", body = schemas::NodeJoined)),
)]
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
#[utoipa::path(
    delete,
    path = "/nodes",
    tag = "nodes",
    summary = "Removes a node from the cluster",
    description = "The node leaves the membership and shuts down; its replicas are re-placed.",
    params(IdempotencyKey),
    request_body = schemas::NodeAddress,
    responses(
        (status = 200, description = "Removed", body = schemas::NodeRemoved),
        (status = 404, description = "No node of this cluster serves there", body = super::error::ErrorBody),
    ),
)]
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
    let Some(id) = id else {
        return answered_leave(&ctx, &request, &addr).await;
    };
    let applied = submit(&ctx, Proposal::Leave { id, request }).await?;
    Ok(leave_answer(applied.log_index, id, &addr))
}

/// A leave of a node no longer in the cluster: the first answer again if this request (its
/// request id) already removed it — a retry after a lost answer — and 404 otherwise. Reads the
/// state as of the leader's read index, so a removal acknowledged anywhere is seen.
async fn answered_leave(
    ctx: &NodeCtx,
    request: &RequestId,
    addr: &str,
) -> Result<Response, ApiError> {
    read_barrier(ctx).await?;
    let answer = ctx
        .state_machine
        .core()
        .read(|state| state.recent_writes().answer(request).cloned());
    match answer {
        Some(answer) => match answer.outcome {
            Outcome::NodeRemoved { id, .. } => Ok(leave_answer(answer.log_index, id, addr)),
            _ => Err(ApiError::unprocessable(reused_id_message(
                request,
                answer.log_index,
            ))),
        },
        None => Err(ApiError::not_found(format!(
            "no node of this cluster serves at {addr}"
        ))),
    }
}

/// What a leave answers: the log index that recorded it and the node that left.
fn leave_answer(log_index: u64, id: u64, addr: &str) -> Response {
    let body = json!({ "log_index": log_index, "removed": { "id": id, "addr": addr } });
    Json(body).into_response()
}
