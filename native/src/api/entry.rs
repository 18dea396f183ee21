//! The demo's entry point (`:8000`): the seed's `/clusters/…` API. It is a thin router, not a
//! second brain: reads ask the nodes and report the leader of the highest term; writes go to
//! a node, which forwards them to its leader; it only spawns and stops in-process nodes.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::Path;
use axum::extract::Query;
use axum::extract::State;
use axum::extract::rejection::QueryRejection;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::routing::post;
use flotilla_core::raft::Member;
use serde::Deserialize;
use serde_json::Value;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_http::services::ServeDir;

use super::body::JsonBody;
use super::limit::CLUSTER_EVENT_STREAMS;
use super::limit::StreamLimit;
use super::requests::parse_node_address;
use super::requests::parse_node_request;
use crate::error::ApiError;
use crate::links::canonical;
use crate::node::StartMode;
use crate::node::status::MAX_LOG_PAGE;
use crate::registry::Registry;
use crate::registry::SpawnRequest;

/// Most nodes `POST /clusters` starts at once.
pub const MAX_NEW_CLUSTER_NODES: u64 = 15;

/// How long the entry point waits for a node to answer a read.
const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// The entry point's state.
pub struct Entry {
    /// The clusters.
    pub registry: Registry,
    /// Where the browser page's static files are (served at `/`).
    pub web_dir: PathBuf,
    /// Host name nodes are advertised under (`localhost` in the demo).
    pub advertise_host: String,
    http: reqwest::Client,
    /// Turns `true` when the demo stops, ending the event streams it serves.
    closing: watch::Sender<bool>,
    /// The cluster event streams open now, and how many may be.
    pub event_streams: StreamLimit,
}

impl Entry {
    /// An entry point over `registry`, serving the page from `web_dir`.
    pub fn new(registry: Registry, web_dir: PathBuf, advertise_host: String) -> Self {
        Entry {
            registry,
            web_dir,
            advertise_host,
            http: reqwest::Client::new(),
            closing: watch::channel(false).0,
            event_streams: StreamLimit::new(CLUSTER_EVENT_STREAMS),
        }
    }

    /// Ends the long-lived responses (event streams), so a graceful shutdown can finish.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver that turns `true` once [`Entry::close`] is called.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Sends a JSON request to a node's public API; `Err` if the node did not answer at all.
    async fn call(
        &self,
        addr: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self
            .http
            .request(method, format!("http://{addr}{path}"))
            .timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|err| err.to_string())?;
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let value = response
            .json::<Value>()
            .await
            .map_err(|err| format!("{addr} answered with something that is not JSON: {err}"))?;
        Ok((status, value))
    }

    /// Sends a request to the cluster's nodes in turn (the preferred one first) until one
    /// answers, and returns its answer as is.
    async fn relay(
        &self,
        cluster: &str,
        preferred: Option<String>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let mut addrs = self.registry.addrs(cluster).await?;
        if let Some(preferred) = preferred {
            addrs.retain(|addr| *addr != preferred);
            addrs.insert(0, preferred);
        }
        let timeout = self.registry.settings.request_timeout + Duration::from_secs(5);
        let mut problems = Vec::new();
        for addr in addrs {
            match self.call(&addr, method.clone(), path, body, timeout).await {
                Ok((status, value)) => return Ok((status, Json(value)).into_response()),
                Err(problem) => problems.push(format!("{addr}: {problem}")),
            }
        }
        Err(ApiError::unavailable(format!(
            "no node of cluster {cluster:?} answered: {}",
            problems.join("; ")
        )))
    }

    /// Every node's `/stats` (or why it did not answer), in address order.
    async fn all_stats(
        &self,
        cluster: &str,
        log_limit: u64,
    ) -> Result<Vec<(String, Result<Value, String>)>, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        let mut asks = JoinSet::new();
        for addr in addrs {
            let entry_http = self.http.clone();
            asks.spawn(async move {
                let url = format!("http://{addr}/stats?limit={log_limit}");
                let answer = async {
                    let response = entry_http
                        .get(url)
                        .timeout(READ_TIMEOUT)
                        .send()
                        .await
                        .map_err(|err| format!("unreachable: {err}"))?;
                    response
                        .json::<Value>()
                        .await
                        .map_err(|err| format!("bad answer: {err}"))
                }
                .await;
                (addr, answer)
            });
        }
        let mut stats: Vec<(String, Result<Value, String>)> = asks.join_all().await;
        stats.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(stats)
    }

    /// The node that claims leadership in the highest term, among those that answered.
    fn leader_of(stats: &[(String, Result<Value, String>)]) -> Option<(String, u64, u64)> {
        stats
            .iter()
            .filter_map(|(addr, stats)| stats.as_ref().ok().map(|stats| (addr, stats)))
            .filter(|(_, stats)| stats["role"] == "leader")
            .filter_map(|(addr, stats)| {
                Some((addr.clone(), stats["term"].as_u64()?, stats["id"].as_u64()?))
            })
            .max_by_key(|(_, term, _)| *term)
    }
}

/// The entry point's routes, with the browser page as the fallback for other paths.
pub fn router(entry: Arc<Entry>) -> Router {
    // A path that is neither an endpoint nor a file of the page gets the API's JSON 404.
    let page = ServeDir::new(&entry.web_dir)
        .append_index_html_on_directories(true)
        .not_found_service(axum::routing::any(super::not_found));
    let api = Router::new()
        .route("/clusters", get(list_clusters).post(create_cluster))
        .route("/clusters/{id}", get(cluster_nodes))
        .route("/clusters/{id}/stats", get(cluster_state))
        .route("/clusters/{id}/state", get(cluster_state))
        .route("/clusters/{id}/events", get(super::live::cluster_events))
        .route("/clusters/{id}/service", post(create_services))
        .route(
            "/clusters/{id}/services",
            get(list_services).post(create_services),
        )
        .route(
            "/clusters/{id}/services/{service}",
            get(get_service).delete(delete_service),
        )
        .route(
            "/clusters/{id}/services/{service}/scale",
            post(scale_service),
        )
        .route(
            "/clusters/{id}/nodes",
            get(cluster_nodes).post(add_node).delete(remove_node),
        )
        .with_state(entry);
    let app = super::with_common_layers(api);
    // Unknown API paths answer JSON 404s; everything else may be a file of the page.
    Router::new().merge(app).fallback_service(page)
}

async fn list_clusters(State(entry): State<Arc<Entry>>) -> Response {
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
#[derive(Debug, Deserialize)]
struct LogTail {
    limit: Option<u64>,
}

/// `GET /clusters/:id`: every node's stats with its last `?limit=` log entries (default 5, at
/// most `MAX_LOG_PAGE`).
async fn cluster_nodes(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    query: Result<Query<LogTail>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|err| ApiError::bad_request(err.body_text()))?;
    let limit = query.limit.unwrap_or(5).clamp(1, MAX_LOG_PAGE);
    let stats = entry.all_stats(&id, limit).await?;
    let leader = Entry::leader_of(&stats);
    let nodes: Vec<Value> = stats
        .into_iter()
        .map(|(addr, stats)| match stats {
            Ok(stats) => stats,
            Err(problem) => json!({ "addr": addr, "role": "unreachable", "error": problem }),
        })
        .collect();
    let leader = leader.map(|(addr, term, id)| json!({ "id": id, "addr": addr, "term": term }));
    Ok(Json(json!({ "cluster": id, "leader": leader, "nodes": nodes })).into_response())
}

/// `GET /clusters/:id/stats` and `/state`: the leader of the highest term's view of the
/// cluster — term, commit index, nodes with capacity, load and role, services with placements.
async fn cluster_state(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let stats = entry.all_stats(&id, 1).await?;
    let leader = Entry::leader_of(&stats);
    let answering: Vec<&String> = stats
        .iter()
        .filter(|(_, stats)| stats.is_ok())
        .map(|(addr, _)| addr)
        .collect();
    let source = leader
        .as_ref()
        .map(|(addr, _, _)| addr.clone())
        .or_else(|| answering.first().map(|addr| (*addr).clone()))
        .ok_or_else(|| ApiError::unavailable(format!("no node of cluster {id:?} answered")))?;
    let (status, mut state) = entry
        .call(&source, Method::GET, "/state", None, READ_TIMEOUT)
        .await
        .map_err(|problem| ApiError::unavailable(format!("{source}: {problem}")))?;
    if !status.is_success() {
        return Ok((status, Json(state)).into_response());
    }
    // Roles come from each node itself; the state machine knows only capacity and load.
    if let Some(nodes) = state["nodes"].as_array_mut() {
        for node in nodes.iter_mut() {
            let addr = node["addr"].as_str().unwrap_or_default().to_string();
            let own = stats
                .iter()
                .find(|(known, _)| canonical(known) == canonical(&addr));
            node["role"] = match own {
                Some((_, Ok(stats))) => stats["role"].clone(),
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
        Some((addr, term, leader_id)) => json!({ "id": leader_id, "addr": addr, "term": term }),
        None => Value::Null,
    };
    Ok(Json(state).into_response())
}

/// Where writes should go first: the leader of the highest term, if one is known.
async fn leader_hint(entry: &Entry, cluster: &str) -> Option<String> {
    let stats = entry.all_stats(cluster, 1).await.ok()?;
    Entry::leader_of(&stats).map(|(addr, _, _)| addr)
}

async fn create_services(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // Validate here too, so a bad request is refused even when no node is up.
    flotilla_core::model::parse_service_request(&body)?;
    let hint = leader_hint(&entry, &id).await;
    entry
        .relay(&id, hint, Method::POST, "/service", Some(&body))
        .await
}

async fn list_services(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let hint = leader_hint(&entry, &id).await;
    entry.relay(&id, hint, Method::GET, "/services", None).await
}

async fn get_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let hint = leader_hint(&entry, &id).await;
    let path = format!("/services/{}", url_segment(&service)?);
    entry.relay(&id, hint, Method::GET, &path, None).await
}

async fn delete_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let hint = leader_hint(&entry, &id).await;
    let path = format!("/services/{}", url_segment(&service)?);
    entry.relay(&id, hint, Method::DELETE, &path, None).await
}

async fn scale_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let hint = leader_hint(&entry, &id).await;
    let path = format!("/services/{}/scale", url_segment(&service)?);
    entry
        .relay(&id, hint, Method::POST, &path, Some(&body))
        .await
}

/// A service id as a path segment: digits only (anything else cannot name a service).
fn url_segment(service: &str) -> Result<u64, ApiError> {
    service
        .parse()
        .map_err(|_| ApiError::bad_request(format!("service id must be a number, got {service:?}")))
}

/// `POST /clusters`: starts a new, unconnected cluster of in-process nodes.
/// Body: `{"id": "1", "nodes": 3, "port": 8101, "capacity": 100}`; all optional but `port`.
async fn create_cluster(
    State(entry): State<Arc<Entry>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let fields = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("expected a JSON object"))?;
    let id = match fields.get("id") {
        Some(Value::String(id)) if valid_cluster_id(id) => id.clone(),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        None => {
            let mut next = 0u64;
            while entry.registry.contains(&next.to_string()).await {
                next += 1;
            }
            next.to_string()
        }
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "\"id\" must be 1 to 32 letters, digits, '-' or '_', got {other}"
            )));
        }
    };
    let count = match fields.get("nodes") {
        None => 3,
        Some(value) => match value.as_u64() {
            Some(n @ 1..=MAX_NEW_CLUSTER_NODES) => n,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"nodes\" must be 1 to {MAX_NEW_CLUSTER_NODES}, got {value}"
                )));
            }
        },
    };
    let capacity = match fields.get("capacity") {
        None => super::requests::DEFAULT_CAPACITY,
        Some(value) => match value.as_u64() {
            Some(c) if c <= u64::from(flotilla_core::model::MAX_NODE_CAPACITY) => c as u32,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"capacity\" must be 0 to {}, got {value}",
                    flotilla_core::model::MAX_NODE_CAPACITY
                )));
            }
        },
    };
    let first_port = match fields.get("port") {
        Some(value) => match value.as_u64() {
            Some(p) if (1..=65535 - count).contains(&p) => p as u16,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"port\" must leave room for {count} consecutive ports below 65536, got {value}"
                )));
            }
        },
        None => {
            return Err(ApiError::bad_request(
                "missing field \"port\": the first of the consecutive ports the nodes listen on",
            ));
        }
    };
    let members: Vec<(u64, Member)> = (1..=count)
        .map(|n| {
            let port = first_port + (n - 1) as u16;
            let member = Member {
                name: format!("n{n}"),
                addr: format!("{}:{port}", entry.advertise_host),
                capacity,
            };
            (n, member)
        })
        .collect();
    let founders: std::collections::BTreeMap<u64, Member> = members.iter().cloned().collect();
    let requests: Vec<SpawnRequest> = members
        .into_iter()
        .map(|(id, member)| SpawnRequest {
            id,
            member,
            start: StartMode::Found(founders.clone()),
        })
        .collect();
    entry.registry.create_cluster(&id, &requests).await?;
    let nodes: Vec<&String> = requests.iter().map(|r| &r.member.addr).collect();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "nodes": nodes })),
    )
        .into_response())
}

fn valid_cluster_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `POST /clusters/:id/nodes`: `spawn: true` starts the node here, then joins it; `spawn:
/// false` joins a node already running (started with `flotilla node`).
async fn add_node(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let request = parse_node_request(&body)?;
    let addr = request.addr();
    let known = entry.registry.addrs(&id).await?;
    if known
        .iter()
        .any(|known| canonical(known) == canonical(&addr))
    {
        return Err(ApiError::conflict(format!(
            "{addr} is already a node of cluster {id:?}"
        )));
    }
    if !request.spawn {
        let hint = leader_hint(&entry, &id).await;
        let response = entry
            .relay(&id, hint, Method::POST, "/nodes", Some(&body))
            .await?;
        if response.status().is_success() {
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
    // Its Raft id: one above every id the cluster has used, as the nodes report them.
    let state = entry.all_stats(&id, 1).await?;
    let mut raft_id = 1 + state
        .iter()
        .filter_map(|(_, stats)| stats.as_ref().ok())
        .filter_map(|stats| stats["id"].as_u64())
        .max()
        .unwrap_or(0);
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
    let hint = leader_hint(&entry, &id).await;
    let response = entry
        .relay(&id, hint, Method::POST, "/nodes", Some(&join))
        .await;
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

fn is_this_machine(host: &str, advertise_host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "0.0.0.0") || host == advertise_host
}

/// `DELETE /clusters/:id/nodes` `{"host", "port"}`: the node leaves and shuts down.
async fn remove_node(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let addr = parse_node_address(&body)?;
    let known = entry.registry.addrs(&id).await?;
    let Some(member) = known
        .iter()
        .find(|known| canonical(known) == canonical(&addr))
        .cloned()
    else {
        return Err(ApiError::not_found(format!(
            "no node of cluster {id:?} serves at {addr}; its nodes are {known:?}"
        )));
    };
    // Ask another node, so the answer does not depend on the leaving one.
    let hint = known.iter().find(|known| **known != member).cloned();
    let response = entry
        .relay(&id, hint, Method::DELETE, "/nodes", Some(&body))
        .await?;
    if response.status().is_success() {
        entry.registry.forget_node(&id, &member).await;
    }
    Ok(response)
}
