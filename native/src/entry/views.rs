//! What the entry point reports about clusters, asking their nodes: the list of clusters
//! (`GET /clusters`), every node's stats (`GET /clusters/:id`) and the cluster state as the
//! leader of the highest term has it (`GET /clusters/:id/stats` and `/state`).

use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::response::IntoResponse;
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;
use utoipa::IntoParams;

use super::forward::NodeRequest;
use super::forward::READ_TIMEOUT;
use super::forward::leader_of;
use super::state::Entry;
use crate::addr::same_addr;
use crate::api::ApiError;
use crate::api::schemas;
use crate::node::status::MAX_LOG_PAGE;

/// `GET /clusters`: every cluster's id and known node addresses.
#[utoipa::path(
    get,
    path = "/clusters",
    tag = "clusters",
    summary = "Every cluster this entry point runs",
    description = "`{\"clusters\": [{\"id\": \"0\", \"nodes\": [\"localhost:8001\", …]}]}`",
    responses((status = 200, description = "Every cluster's id and node addresses", body = schemas::Report)),
)]
pub async fn list_clusters(State(entry): State<Arc<Entry>>) -> Response {
    let clusters: Vec<Value> = entry
        .registry
        .list()
        .await
        .into_iter()
        .map(|(id, nodes)| json!({ "id": id, "nodes": nodes }))
        .collect();
    Json(json!({ "clusters": clusters })).into_response()
}

/// Query of `GET /clusters/:id`: how many of each node's last log entries to include.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogTail {
    /// How many of each node's last log entries to include (default 5).
    limit: Option<u64>,
}

/// `GET /clusters/:id`: the same as `GET /clusters/:id/nodes`.
#[utoipa::path(
    get,
    path = "/clusters/{id}",
    tag = "clusters",
    summary = "Every node's stats and the leader (as `/clusters/{id}/nodes`)",
    params(("id" = String, Path, description = "The cluster's id"), LogTail),
    responses((status = 200, description = "`{cluster, leader, nodes}`", body = schemas::Report)),
)]
pub async fn cluster(
    entry: State<Arc<Entry>>,
    id: Path<String>,
    query: Result<Query<LogTail>, QueryRejection>,
) -> Result<Response, ApiError> {
    cluster_nodes(entry, id, query).await
}

/// `GET /clusters/:id/nodes`: every node's stats with its last `?limit=` log entries (default 5, at
/// most `MAX_LOG_PAGE`).
#[utoipa::path(
    get,
    path = "/clusters/{id}/nodes",
    tag = "clusters",
    summary = "Every node's stats and the leader",
    description = "Each node's stats with its last `limit` log entries, or `{addr, role: \
        \"unreachable\", error}` for a node that did not answer; the leader of the highest term.",
    params(("id" = String, Path, description = "The cluster's id"), LogTail),
    responses((status = 200, description = "`{cluster, leader, nodes}`", body = schemas::Report)),
)]
pub async fn cluster_nodes(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    query: Result<Query<LogTail>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_request(err.body_text()))?;
    let limit = query.limit.unwrap_or(5).clamp(1, MAX_LOG_PAGE);
    let stats = entry.all_stats(&id, limit).await?;
    let leader = leader_of(&stats);
    let nodes: Vec<Value> = stats
        .into_iter()
        .map(|(addr, stats)| match stats {
            Ok(stats) => json!(stats),
            Err(problem) => json!({ "addr": addr, "role": "unreachable", "error": problem }),
        })
        .collect();
    let leader =
        leader.map(|leader| json!({ "id": leader.id, "addr": leader.addr, "term": leader.term }));
    Ok(Json(json!({ "cluster": id, "leader": leader, "nodes": nodes })).into_response())
}

/// `GET /clusters/:id/stats` and `/state`: the leader of the highest term's view of the
/// cluster — term, commit index, nodes with capacity, load and role, services with placements.
#[utoipa::path(
    get,
    path = "/clusters/{id}/state",
    tag = "clusters",
    summary = "The cluster state, as the leader of the highest term has it",
    description = "Term, commit index, nodes with capacity, load and role, services with \
        placements, and the leader.",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The cluster state", body = schemas::Report)),
)]
pub async fn cluster_state(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stats = entry.all_stats(&id, 1).await?;
    let leader = leader_of(&stats);
    let answering: Vec<&String> = stats
        .iter()
        .filter(|(_, stats)| stats.is_ok())
        .map(|(addr, _)| addr)
        .collect();
    let source = leader
        .as_ref()
        .map(|leader| leader.addr.clone())
        .or_else(|| answering.first().map(|addr| (*addr).clone()))
        .ok_or_else(|| ApiError::unavailable(format!("no node of cluster {id:?} answered")))?;
    let (status, mut state) = entry
        .nodes
        .call(&source, &NodeRequest::read("/state"), READ_TIMEOUT)
        .await
        .map_err(|problem| ApiError::unavailable(format!("{source}: {problem}")))?;
    if !status.is_success() {
        return Ok((status, Json(state)).into_response());
    }
    // Roles come from each node itself; the state machine knows only capacity and load.
    if let Some(nodes) = state["nodes"].as_array_mut() {
        for node in nodes.iter_mut() {
            let addr = node["addr"].as_str().unwrap_or_default().to_string();
            let own = stats.iter().find(|(known, _)| same_addr(known, &addr));
            node["role"] = match own {
                Some((_, Ok(stats))) => json!(stats.report.role),
                Some((_, Err(_))) => json!("unreachable"),
                None => json!("unknown"),
            };
        }
        let addrs: Vec<String> = nodes
            .iter()
            .filter_map(|node| node["addr"].as_str().map(str::to_string))
            .collect();
        entry.registry.set_addrs(&id, addrs).await;
    }
    state["leader"] = match leader {
        Some(leader) => json!({ "id": leader.id, "addr": leader.addr, "term": leader.term }),
        None => Value::Null,
    };
    Ok(Json(state).into_response())
}

/// `GET /clusters/:id/stats`: the same as `GET /clusters/:id/state` (the seed's name).
#[utoipa::path(
    get,
    path = "/clusters/{id}/stats",
    tag = "clusters",
    summary = "The cluster state (as `/clusters/{id}/state`, the seed's name)",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The cluster state", body = schemas::Report)),
)]
pub async fn cluster_stats(
    entry: State<Arc<Entry>>,
    id: Path<String>,
) -> Result<Response, ApiError> {
    cluster_state(entry, id).await
}
