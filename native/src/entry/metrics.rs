//! `GET /metrics` of the entry point: its own HTTP requests, by method, route and status, and
//! their latency, in the Prometheus text format. Each node serves its own (Raft, state) on its
//! port; Prometheus scrapes them one by one.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;

use super::state::Entry;
use crate::api::node::prometheus_text;

/// `GET /metrics`: the entry point's metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "status",
    summary = "The entry point's metrics for Prometheus",
    description = "The Prometheus text format (families prefixed `flotilla_`): the entry \
        point's HTTP requests by method, route and status, with their latency. Each node's own \
        metrics (Raft, state) are on its port.",
    responses((status = 200, description = "The metrics", content_type = "text/plain", body = String)),
)]
pub async fn entry_metrics(State(entry): State<Arc<Entry>>) -> Response {
    prometheus_text(entry.telemetry.registry.encode())
}
