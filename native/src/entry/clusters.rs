//! Cluster management on the entry point: starting a new cluster of in-process nodes
//! (`POST /clusters`), adding a node — spawned here or already running — (`POST
//! /clusters/:id/nodes`), removing one (`DELETE /clusters/:id/nodes`) and cutting or healing
//! a node's links (`POST /clusters/:id/nodes/:addr/connections`, so the page changes links
//! through the server that served it, never straight across origins).

use std::sync::Arc;

use axum::Json;
use axum::extract::Path;
use axum::extract::State;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use flotilla_core::raft::Member;
use serde_json::json;

use super::forward::NodeRequest;
use super::forward::READ_TIMEOUT;
use super::parse::parse_cluster_request;
use super::state::Entry;
use crate::addr::is_this_machine;
use crate::addr::same_addr;
use crate::api::ApiError;
use crate::api::body::JsonBody;
use crate::api::idempotency::IdempotencyKey;
use crate::api::requests::parse_node_address;
use crate::api::requests::parse_node_request;
use crate::api::schemas;
use crate::node::StartMode;
use crate::registry::SpawnRequest;

/// `POST /clusters`: starts a new, unconnected cluster of in-process nodes.
/// Body: `{"id": "1", "nodes": 3, "port": 8101, "capacity": 100}`; all optional but `port`.
#[utoipa::path(
    post,
    path = "/clusters",
    tag = "clusters",
    summary = "Starts a new cluster of nodes on this machine",
    description = "A new, unconnected cluster of `nodes` in-process nodes on the consecutive \
        ports from `port`. 409 when a port is taken or the entry point runs `--max-clusters`.",
    request_body = schemas::ClusterRequest,
    responses((status = 201, description = "`{\"id\": \"1\", \"nodes\": [\"localhost:8101\", …]}`", body = schemas::Report)),
)]
pub async fn create_cluster(
    State(entry): State<Arc<Entry>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = parse_cluster_request(&body)?;
    let most = entry.guard.limits().max_clusters;
    if entry.registry.list().await.len() >= most {
        return Err(ApiError::conflict(format!(
            "this entry point runs {most} clusters, the most it may (--max-clusters)"
        )));
    }
    let id = match request.id {
        Some(id) => id,
        None => {
            let mut next = 0u64;
            while entry.registry.contains(&next.to_string()).await {
                next += 1;
            }
            next.to_string()
        }
    };
    entry
        .registry
        .check_spawn_ports(request.first_port, request.nodes as u16)?;
    let ports: Vec<u16> = (0..request.nodes)
        .map(|n| request.first_port + n as u16)
        .collect();
    let requests = SpawnRequest::founders(&entry.advertise_host, &ports, request.capacity);
    entry.registry.create_cluster(&id, &requests).await?;
    let nodes: Vec<&String> = requests.iter().map(|r| &r.member.addr).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "nodes": nodes })),
    )
        .into_response())
}

/// `POST /clusters/:id/nodes`: `spawn: true` starts the node here, then joins it; `spawn:
/// false` joins a node already running (started with `flotilla node`).
#[utoipa::path(
    post,
    path = "/clusters/{id}/nodes",
    tag = "nodes",
    summary = "Adds a node: spawned here, or one already running",
    description = "`spawn: true` starts the node in this process (on this machine) and joins \
        it; `spawn: false` joins a node already running (`flotilla node`).",
    params(("id" = String, Path, description = "The cluster's id"), IdempotencyKey),
    request_body = schemas::NodeJoinRequest,
    responses((status = 201, description = "Joined", body = schemas::NodeJoined)),
)]
pub async fn add_node(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = parse_node_request(&body)?;
    let addr = request.addr();
    let known = entry.registry.addrs(&id).await?;
    let is_known = known.iter().any(|known| same_addr(known, &addr));
    if is_known || !request.spawn {
        // A node already known (a retry whose answer was lost, or a second request for it) is
        // not spawned again: the leader answers its join from the state — the first answer to
        // this request id, success if it is that very node, or a refusal.
        let mut join = body.clone();
        join["spawn"] = json!(false);
        let call = NodeRequest::write(Method::POST, "/nodes", Some(&join), &key);
        let response = entry.relay_to_leader(&id, &call).await?;
        if response.status().is_success() && !is_known {
            entry.registry.add_addr(&id, &addr).await;
        }
        return Ok(response);
    }
    if !is_this_machine(&request.host, &entry.advertise_host) {
        return Err(ApiError::unprocessable(format!(
            "cannot spawn a node on {:?}: this entry point starts nodes on this machine only \
             (host \"localhost\"); start remote nodes with `flotilla node` and send \"spawn\": false",
            request.host
        )));
    }
    entry.registry.check_spawn_ports(request.port, 1)?;
    // Its Raft id: one above every id the cluster's nodes report and every id used before.
    let state = entry.all_stats(&id, 1).await?;
    let reported = state
        .iter()
        .filter_map(|(_, stats)| stats.as_ref().ok())
        .map(|stats| stats.report.id)
        .max()
        .unwrap_or(0);
    let mut raft_id = entry.registry.fresh_id(&id, reported + 1).await;
    if let Some(numeric) = request
        .name
        .as_deref()
        .and_then(|name| name.parse::<u64>().ok())
        && numeric > 0
    {
        raft_id = numeric;
    }
    let name = request
        .name
        .clone()
        .unwrap_or_else(|| format!("n{raft_id}"));
    let spawn = SpawnRequest {
        id: raft_id,
        member: Member {
            name,
            addr: addr.clone(),
            capacity: request.capacity,
        },
        start: StartMode::Join,
    };
    entry.registry.spawn_node(&id, &spawn).await?;
    let mut join = body.clone();
    join["spawn"] = json!(false);
    let call = NodeRequest::write(Method::POST, "/nodes", Some(&join), &key);
    let response = entry.relay_to_leader(&id, &call).await;
    match response {
        Ok(response) if response.status().is_success() => {
            entry.registry.add_addr(&id, &addr).await;
            Ok(response)
        }
        other => {
            // Joining failed: the spawned node is not part of anything, so stop it.
            entry.registry.forget_node(&id, &addr).await;
            other
        }
    }
}

/// `DELETE /clusters/:id/nodes` `{"host", "port"}`: the node leaves and shuts down.
#[utoipa::path(
    delete,
    path = "/clusters/{id}/nodes",
    tag = "nodes",
    summary = "Removes a node",
    description = "The node leaves the membership and shuts down; its replicas are re-placed.",
    params(("id" = String, Path, description = "The cluster's id"), IdempotencyKey),
    request_body = schemas::NodeAddress,
    responses(
        (status = 200, description = "Removed", body = schemas::NodeRemoved),
        (status = 404, description = "No such cluster, or no node of it serves there", body = crate::api::error::ErrorBody),
    ),
)]
pub async fn remove_node(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let addr = parse_node_address(&body)?;
    let known = entry.registry.addrs(&id).await?;
    let member = known.iter().find(|known| same_addr(known, &addr)).cloned();
    // Ask another node, so the answer does not depend on the leaving one. A node no longer
    // known is asked about too: if this request (its id) removed it, the answer was lost and
    // the cluster answers it again; otherwise the cluster's 404 says so.
    let hint = known
        .iter()
        .find(|known| member.as_ref() != Some(*known))
        .cloned();
    let call = NodeRequest::write(Method::DELETE, "/nodes", Some(&body), &key);
    let response = entry.relay(&id, hint, &call).await?;
    if response.status().is_success()
        && let Some(member) = member
    {
        entry.registry.forget_node(&id, &member).await;
    }
    Ok(response)
}

/// `POST /clusters/:id/nodes/:addr/connections` `{"host:port": 0 | 1, …}`: relays to the node at
/// `addr`'s own `/connections`, and answers what it answers.
#[utoipa::path(
    post,
    path = "/clusters/{id}/nodes/{addr}/connections",
    tag = "links",
    summary = "Cuts or heals a node's links",
    description = "Relayed to the node's own `POST /connections`; its answer is passed back.",
    params(("id" = String, Path, description = "The cluster's id"), ("addr" = String, Path, description = "The node's address, `host:port`")),
    request_body = schemas::Connections,
    responses(
        (status = 200, description = "The node's link table after the change", body = schemas::Connections),
        (status = 404, description = "No such cluster, node or peer; nothing changed", body = crate::api::error::ErrorBody),
    ),
)]
pub async fn set_node_connections(
    State(entry): State<Arc<Entry>>,
    Path((id, addr)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let known = entry.registry.addrs(&id).await?;
    let Some(member) = known.iter().find(|known| same_addr(known, &addr)).cloned() else {
        return Err(ApiError::not_found(format!(
            "no node of cluster {id:?} serves at {addr}; its nodes are {known:?}"
        )));
    };
    // Only the node named: a relay's fallback to another node would change the wrong links.
    let (status, answer) = entry
        .nodes
        .call(
            &member,
            // Links are the node's own, not in the log: no request id to carry.
            &NodeRequest {
                method: Method::POST,
                path: "/connections",
                body: Some(&body),
                key: None,
            },
            READ_TIMEOUT,
        )
        .await
        .map_err(|problem| ApiError::bad_gateway(format!("{member} did not answer: {problem}")))?;
    Ok((status, Json(answer)).into_response())
}
