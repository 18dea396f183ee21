//! The JSON bodies the OpenAPI documents describe: what clients send (both seed shapes of
//! `POST /service`, scale, node and link bodies, new clusters) and the envelopes of the answers.
//!
//! These types exist for the documents only: handlers parse bodies as JSON values with the
//! parsers that name the field at fault (flotilla-core's `parse_service_request`, this crate's
//! `requests` and `entry::parse`), so a schema says what those parsers accept. The examples are
//! sent to a running demo by the tests, which keeps them accepted.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// `POST /service` (and `POST /services`): one service in the seed's first shape, or several in
/// its second. A body with both `container` and `containers` is refused (400).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ServiceRequest {
    /// `{"container": {...}, "replicas": N}`: one service.
    One(OneService),
    /// `{"containers": [...]}`: several services, created in order.
    Many(ManyServices),
}

/// One service: `{"container": {"uniq_id": 0, "label": "web"}, "replicas": 3}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"container": {"uniq_id": 0, "label": "web"}, "replicas": 3}))]
pub struct OneService {
    /// The container to run.
    pub container: Container,
    /// How many replicas, 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub replicas: u32,
}

/// Several services: `{"containers": [{"description": "container 0", "replicas": 10}, …]}`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"containers": [
    {"description": "container 0", "replicas": 2},
    {"label": "cache", "uniq_id": 7, "replicas": 1}
]}))]
pub struct ManyServices {
    /// 1 to 1000 containers, each with its replica count.
    #[schema(min_items = 1, max_items = 1000)]
    pub containers: Vec<ContainerWithReplicas>,
}

/// A container: its label (or the synonym `description`, exactly one of the two: 1 to 256
/// characters once trimmed) and an optional client-chosen `uniq_id`.
#[derive(Serialize, ToSchema)]
pub struct Container {
    /// The container's label.
    #[schema(nullable = false, max_length = 256)]
    pub label: Option<String>,
    /// The same as `label` (the seed's second shape calls it so); send one of the two.
    #[schema(nullable = false, max_length = 256)]
    pub description: Option<String>,
    /// A non-negative integer the client may use to recognise its service (or null: none).
    #[schema(minimum = 0)]
    pub uniq_id: Option<u64>,
}

/// A container of the several-services shape, with its own replica count.
#[derive(Serialize, ToSchema)]
pub struct ContainerWithReplicas {
    /// The container's label.
    #[schema(nullable = false, max_length = 256)]
    pub label: Option<String>,
    /// The same as `label`; send one of the two.
    #[schema(nullable = false, max_length = 256)]
    pub description: Option<String>,
    /// A non-negative integer the client may use to recognise its service (or null: none).
    #[schema(minimum = 0)]
    pub uniq_id: Option<u64>,
    /// How many replicas, 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub replicas: u32,
}

/// `POST …/services/{id}/scale`: the new replica count (0 keeps the service with nothing
/// running).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"replicas": 5}))]
pub struct ScaleRequest {
    /// 0 to 1,000,000.
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub replicas: u32,
}

/// A port, as a number or a numeric string (the seed sends `"8001"`).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum Port {
    /// 1 to 65535.
    Number(u16),
    /// Digits naming a port from 1 to 65535.
    Text(String),
}

/// A node's name: a string (1 to 64 characters) or a non-negative integer.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum NodeName {
    /// 1 to 64 characters.
    Text(String),
    /// A non-negative integer.
    Number(u64),
}

/// `POST /nodes`: a node to add. A node joins one already running (`spawn: false`, started with
/// `flotilla node`); only the demo's entry point may start it itself (`spawn: true`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "n4", "host": "localhost", "port": 8004, "capacity": 100, "spawn": false}))]
pub struct NodeJoinRequest {
    /// Its name; one is chosen when absent or null.
    pub id: Option<NodeName>,
    /// Host name or IPv4 address it listens on.
    #[schema(max_length = 253, pattern = "^[A-Za-z0-9._-]+$")]
    pub host: String,
    /// Its port.
    pub port: Port,
    /// Replicas it can run, 0 to the node limit (default 100).
    #[schema(nullable = false, minimum = 0)]
    pub capacity: Option<u32>,
    /// Start the node here (true, the entry point only) or join one already running (false,
    /// the default).
    #[schema(nullable = false)]
    pub spawn: Option<bool>,
}

/// `DELETE /nodes`: the node to remove, by address.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"host": "localhost", "port": "8004"}))]
pub struct NodeAddress {
    /// Host name or IPv4 address.
    #[schema(max_length = 253, pattern = "^[A-Za-z0-9._-]+$")]
    pub host: String,
    /// Its port.
    pub port: Port,
}

/// Whether a link is up: 1 or `true` heals it, 0 or `false` cuts it.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum LinkUp {
    /// 0 (cut) or 1 (up).
    Number(u8),
    /// false (cut) or true (up).
    Flag(bool),
}

/// `POST /connections`: links from this node to its peers, by peer address `host:port`. The
/// answer is the whole link table in the same form.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"localhost:8002": 0}))]
pub struct Connections(pub BTreeMap<String, LinkUp>);

/// `POST /clusters`: a new cluster of nodes started by the entry point on consecutive ports.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "1", "nodes": 3, "port": 8101, "capacity": 100}))]
pub struct ClusterRequest {
    /// 1 to 32 letters, digits, `-` or `_` (or a non-negative integer); the lowest free number
    /// when absent.
    #[schema(nullable = false)]
    pub id: Option<NodeName>,
    /// How many nodes, 1 to 15 (default 3).
    #[schema(nullable = false, minimum = 1, maximum = 15)]
    pub nodes: Option<u64>,
    /// The first node's port; the others take the ports after it.
    #[schema(minimum = 1, maximum = 65535)]
    pub port: u16,
    /// Each node's replica capacity (default 100).
    #[schema(nullable = false, minimum = 0)]
    pub capacity: Option<u32>,
}

/// A service as clients read it: `id`, `label`, `uniq_id`, `replicas` asked, `running`,
/// `pending`, `placement` (replicas per node id) and `created_index`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "label": "web", "uniq_id": 0, "replicas": 3, "running": 3,
    "pending": 0, "placement": {"1": 1, "2": 1, "3": 1}, "created_index": 4}))]
pub struct Service(pub BTreeMap<String, Value>);

/// A node as the cluster state has it: `id`, `name`, `addr`, `capacity`, `load` and `status`
/// (`up` or `down`).
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "name": "n1", "addr": "localhost:8001", "capacity": 100,
    "load": 3, "status": "up"}))]
pub struct Node(pub BTreeMap<String, Value>);

/// The answer to a create: the log index that recorded it and the services created.
#[derive(Serialize, ToSchema)]
pub struct ServicesCreated {
    /// The Raft log index of the write.
    pub log_index: u64,
    /// The new services, in the order of the request.
    pub services: Vec<Service>,
}

/// The answer to a scale.
#[derive(Serialize, ToSchema)]
pub struct ServiceScaled {
    /// The Raft log index of the write.
    pub log_index: u64,
    /// The service as scaled.
    pub service: Service,
}

/// The answer to a delete.
#[derive(Serialize, ToSchema)]
pub struct ServiceDeleted {
    /// The Raft log index of the write.
    pub log_index: u64,
    /// The id of the deleted service.
    pub deleted: u64,
}

/// Every service.
#[derive(Serialize, ToSchema)]
pub struct ServiceList {
    /// In id order.
    pub services: Vec<Service>,
}

/// Every node of the cluster state.
#[derive(Serialize, ToSchema)]
pub struct NodeList {
    /// In id order.
    pub nodes: Vec<Node>,
}

/// The answer to a join.
#[derive(Serialize, ToSchema)]
pub struct NodeJoined {
    /// The Raft log index of the write that recorded the answer.
    pub log_index: u64,
    /// The node as it joined.
    pub node: Node,
}

/// The node a leave removed.
#[derive(Serialize, ToSchema)]
pub struct RemovedNode {
    /// Its Raft id.
    pub id: u64,
    /// Its address, `host:port`.
    pub addr: String,
}

/// The answer to a leave.
#[derive(Serialize, ToSchema)]
pub struct NodeRemoved {
    /// The Raft log index of the write that recorded the answer.
    pub log_index: u64,
    /// The node that left.
    pub removed: RemovedNode,
}

/// A JSON object whose fields the operation's description names (a node's stats, the cluster
/// state, a report of every node).
#[derive(Serialize, ToSchema)]
pub struct Report(pub BTreeMap<String, Value>);
