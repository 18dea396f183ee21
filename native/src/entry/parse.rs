//! Parsing `POST /clusters` bodies: `{"id", "nodes", "port", "capacity"}`, every failure
//! naming the field at fault (node bodies are parsed by the API's `requests`, which nodes
//! share).

use flotilla_core::model::MAX_NODE_CAPACITY;
use serde_json::Value;

use crate::api::ApiError;
use crate::node::DEFAULT_CAPACITY;

/// Most nodes `POST /clusters` starts at once.
pub const MAX_NEW_CLUSTER_NODES: u64 = 15;

/// Nodes a new cluster gets when the request does not say.
const DEFAULT_NEW_CLUSTER_NODES: u64 = 3;

/// A new cluster to start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterRequest {
    /// Its id; `None`: the lowest free number is chosen.
    pub id: Option<String>,
    /// How many nodes it starts with.
    pub nodes: u64,
    /// Replica capacity of each node.
    pub capacity: u32,
    /// The port of its first node; the others take the ports after it.
    pub first_port: u16,
}

/// Parses `{"id": "1", "nodes": 3, "port": 8101, "capacity": 100}`; all optional but `port`.
pub fn parse_cluster_request(body: &Value) -> Result<ClusterRequest, ApiError> {
    let fields = body
        .as_object()
        .ok_or_else(|| ApiError::bad_request("expected a JSON object"))?;
    let id = match fields.get("id") {
        Some(Value::String(id)) if valid_cluster_id(id) => Some(id.clone()),
        Some(Value::Number(n)) if n.is_u64() => Some(n.to_string()),
        None => None,
        Some(other) => {
            return Err(ApiError::unprocessable(format!(
                "\"id\" must be 1 to 32 letters, digits, '-' or '_', got {other}"
            )));
        }
    };
    let nodes = match fields.get("nodes") {
        None => DEFAULT_NEW_CLUSTER_NODES,
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
        None => DEFAULT_CAPACITY,
        Some(value) => match value.as_u64() {
            Some(c) if c <= u64::from(MAX_NODE_CAPACITY) => c as u32,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"capacity\" must be 0 to {MAX_NODE_CAPACITY}, got {value}"
                )));
            }
        },
    };
    let first_port = match fields.get("port") {
        Some(value) => match value.as_u64() {
            Some(p) if (1..=65535 - nodes).contains(&p) => p as u16,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"port\" must leave room for {nodes} consecutive ports below 65536, got {value}"
                )));
            }
        },
        None => {
            return Err(ApiError::bad_request(
                "missing field \"port\": the first of the consecutive ports the nodes listen on",
            ));
        }
    };
    Ok(ClusterRequest {
        id,
        nodes,
        capacity,
        first_port,
    })
}

/// 1 to 32 letters, digits, `-` or `_`.
fn valid_cluster_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_cluster_request_needs_only_a_port() {
        let request = parse_cluster_request(&json!({"port": 8101})).unwrap();
        assert_eq!(
            request,
            ClusterRequest {
                id: None,
                nodes: 3,
                capacity: 100,
                first_port: 8101
            }
        );
        let request = parse_cluster_request(&json!({"id": 7, "nodes": 1, "port": 9000})).unwrap();
        assert_eq!(request.id.as_deref(), Some("7"));
    }

    #[test]
    fn bad_cluster_requests_name_the_field() {
        let cases = [
            (json!([]), 400, "object"),
            (json!({"id": "a b", "port": 1}), 422, "id"),
            (json!({"nodes": 16, "port": 1}), 422, "nodes"),
            (json!({"capacity": -1, "port": 1}), 422, "capacity"),
            (json!({"nodes": 3, "port": 65534}), 422, "port"),
            (json!({}), 400, "port"),
        ];
        for (body, status, field) in cases {
            let err = parse_cluster_request(&body).unwrap_err();
            assert_eq!(err.status.as_u16(), status, "{body}: {err}");
            assert!(err.message.contains(field), "{body}: {err}");
        }
    }
}
