//! What a server counts and measures for Prometheus (`GET /metrics`, the OpenMetrics text
//! format), kept with
//! prometheus-client, the Prometheus project's Rust client: every family is declared once here,
//! registered in one [`Registry`] per server (the demo runs several servers in one process, and
//! each `/metrics` describes its own), and encoded by the library, never by hand.
//!
//! [`HttpMetrics`] are every server's (requests and their latency by route and status);
//! [`NodeMetrics`] add what a node knows: Raft (term, role, leader changes, log indexes,
//! replication lag per peer, apply and fsync latency) and the orchestrator (services, placed and
//! pending replicas, nodes up and down). Values that are a reading of the state (gauges) are set
//! when scraped; events (requests, leader changes, latencies) are counted as they happen.

mod http;
mod node;

use std::sync::Arc;
use std::sync::Mutex;

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

pub use http::HttpMetrics;
pub use http::record_request;
pub use node::NodeMetrics;
pub use node::NodeReading;
pub use node::RaftReading;

/// The content type of what prometheus-client encodes, the OpenMetrics text format (which
/// Prometheus scrapes natively): what `GET /metrics` answers with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The families of one server, ready to encode. Cheap to clone (shared).
#[derive(Clone)]
pub struct ServerRegistry {
    registry: Arc<Mutex<Registry>>,
}

impl ServerRegistry {
    /// A registry whose families all start with `flotilla_`.
    pub fn new() -> Self {
        ServerRegistry {
            registry: Arc::new(Mutex::new(Registry::with_prefix("flotilla"))),
        }
    }

    /// Registers families into it.
    pub fn register(&self, add: impl FnOnce(&mut Registry)) {
        add(&mut self.lock());
    }

    /// Every family in the Prometheus text format (ending with `# EOF`).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.lock());
        text
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What a server without a node of its own (the demo's entry point) counts and measures: its
/// HTTP requests. Cheap to clone.
#[derive(Clone)]
pub struct ServerTelemetry {
    /// Everything, for `/metrics`.
    pub registry: ServerRegistry,
    /// Requests the server answered.
    pub http: HttpMetrics,
}

impl ServerTelemetry {
    /// A fresh registry with the HTTP families.
    pub fn new() -> Self {
        let registry = ServerRegistry::new();
        ServerTelemetry {
            http: HttpMetrics::new(&registry),
            registry,
        }
    }
}

impl Default for ServerTelemetry {
    fn default() -> Self {
        Self::new()
    }
}

/// What one node counts and measures: its registry with HTTP and node families. Cheap to clone.
#[derive(Clone)]
pub struct NodeTelemetry {
    /// Everything, for `/metrics`.
    pub registry: ServerRegistry,
    /// Requests the node's server answered.
    pub http: HttpMetrics,
    /// The node's Raft and state.
    pub node: NodeMetrics,
}

impl NodeTelemetry {
    /// A fresh registry with a node's families.
    pub fn new() -> Self {
        let registry = ServerRegistry::new();
        NodeTelemetry {
            http: HttpMetrics::new(&registry),
            node: NodeMetrics::new(&registry),
            registry,
        }
    }
}

impl Default for NodeTelemetry {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for ServerRegistry {
    fn default() -> Self {
        Self::new()
    }
}
