//! Parsing the node-management and link bodies of the public API (service bodies are parsed
//! by flotilla-core, which both hosts share). Every failure names the field at fault.

use flotilla_core::model::MAX_NODE_CAPACITY;
use serde_json::Value;

use super::error::ApiError;
use crate::node::DEFAULT_CAPACITY;

/// `POST /nodes`: a node to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRequest {
    /// The seed's alphanumeric `id`: the node's name. `None`: one is chosen.
    pub name: Option<String>,
    /// Host part of its address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Replica capacity.
    pub capacity: u32,
    /// Start the node here (true) or join one already running (false).
    pub spawn: bool,
}

impl NodeRequest {
    /// `host:port`.
    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, ApiError> {
    body.as_object()
        .ok_or_else(|| ApiError::bad_request(format!("expected a JSON object, got {}", kind(body))))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn host(fields: &serde_json::Map<String, Value>) -> Result<String, ApiError> {
    match fields.get("host") {
        None => Err(ApiError::bad_request("missing field \"host\"")),
        Some(Value::String(host)) => {
            let host = host.trim();
            let valid = !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
            if valid {
                Ok(host.to_ascii_lowercase())
            } else {
                Err(ApiError::unprocessable(format!(
                    "\"host\" must be a host name or IPv4 address, got {host:?}"
                )))
            }
        }
        Some(other) => Err(ApiError::bad_request(format!(
            "\"host\" must be a string, got {}",
            kind(other)
        ))),
    }
}

/// A port as a number or a numeric string (the seed's DELETE example sends `"8001"`).
fn port(fields: &serde_json::Map<String, Value>) -> Result<u16, ApiError> {
    let out_of_range =
        |got: &str| ApiError::unprocessable(format!("\"port\" must be 1..=65535, got {got}"));
    match fields.get("port") {
        None => Err(ApiError::bad_request("missing field \"port\"")),
        Some(Value::Number(number)) => match number.as_u64() {
            Some(port @ 1..=65535) => Ok(port as u16),
            _ => Err(out_of_range(&number.to_string())),
        },
        Some(Value::String(text)) => match text.trim().parse::<u64>() {
            Ok(port @ 1..=65535) => Ok(port as u16),
            Ok(_) => Err(out_of_range(text)),
            Err(_) => Err(ApiError::bad_request(format!(
                "\"port\" must be a number or a numeric string, got {text:?}"
            ))),
        },
        Some(other) => Err(ApiError::bad_request(format!(
            "\"port\" must be a number or a numeric string, got {}",
            kind(other)
        ))),
    }
}

/// Parses `{"id", "host", "port", "capacity", "spawn"}`; `id` may be a string or a number,
/// `capacity` defaults to 100, `spawn` to false.
pub fn parse_node_request(body: &Value) -> Result<NodeRequest, ApiError> {
    let fields = object(body)?;
    let name = match fields.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(ApiError::unprocessable(
                    "\"id\" must be 1 to 64 characters long",
                ));
            }
            Some(name.to_string())
        }
        Some(Value::Number(number)) if number.is_u64() => Some(number.to_string()),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "\"id\" must be a string or a non-negative integer, got {}",
                kind(other)
            )));
        }
    };
    let capacity = match fields.get("capacity") {
        None => DEFAULT_CAPACITY,
        Some(Value::Number(number)) => match number.as_u64() {
            Some(capacity) if capacity <= u64::from(MAX_NODE_CAPACITY) => capacity as u32,
            _ => {
                return Err(ApiError::unprocessable(format!(
                    "\"capacity\" must be an integer from 0 to {MAX_NODE_CAPACITY}, got {number}"
                )));
            }
        },
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "\"capacity\" must be a number, got {}",
                kind(other)
            )));
        }
    };
    let spawn = match fields.get("spawn") {
        None => false,
        Some(Value::Bool(spawn)) => *spawn,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "\"spawn\" must be true or false, got {}",
                kind(other)
            )));
        }
    };
    Ok(NodeRequest {
        name,
        host: host(fields)?,
        port: port(fields)?,
        capacity,
        spawn,
    })
}

/// Parses a service id from a URL path segment: digits only (anything else cannot name a
/// service).
pub fn parse_service_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::bad_request(format!("service id must be a number, got {raw:?}")))
}

/// Parses `{"host", "port"}` (port as number or string) into `host:port`.
pub fn parse_node_address(body: &Value) -> Result<String, ApiError> {
    let fields = object(body)?;
    Ok(format!("{}:{}", host(fields)?, port(fields)?))
}

/// Parses `{"host:port": 0 | 1, …}` (also `true` / `false`) into `(addr, up)` pairs.
pub fn parse_connections(body: &Value) -> Result<Vec<(String, bool)>, ApiError> {
    let fields = object(body)?;
    if fields.is_empty() {
        return Err(ApiError::bad_request(
            "expected at least one link, as {\"host:port\": 0} to cut or {\"host:port\": 1} to heal",
        ));
    }
    fields
        .iter()
        .map(|(addr, value)| {
            let up = match value {
                Value::Bool(up) => *up,
                Value::Number(n) if n.as_u64() == Some(0) => false,
                Value::Number(n) if n.as_u64() == Some(1) => true,
                other => {
                    return Err(ApiError::unprocessable(format!(
                        "link {addr:?}: expected 0 (cut) or 1 (up), got {other}"
                    )));
                }
            };
            Ok((addr.clone(), up))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn seed_node_requests_parse() {
        let request = parse_node_request(&json!({"id": "custom0", "host": "localhost", "port": 8099, "capacity": 100, "spawn": true})).unwrap();
        assert_eq!(request.addr(), "localhost:8099");
        assert_eq!(request.name.as_deref(), Some("custom0"));
        assert!(request.spawn);
        assert_eq!(
            parse_node_address(&json!({"host": "localhost", "port": "8001"})).unwrap(),
            "localhost:8001"
        );
    }

    #[test]
    fn bad_node_requests_name_the_field() {
        let cases = [
            (json!([]), 400, "object"),
            (json!({"port": 1}), 400, "host"),
            (json!({"host": "a b", "port": 1}), 422, "host"),
            (json!({"host": "h"}), 400, "port"),
            (json!({"host": "h", "port": 70000}), 422, "port"),
            (json!({"host": "h", "port": "x"}), 400, "port"),
            (
                json!({"host": "h", "port": 1, "capacity": -1}),
                422,
                "capacity",
            ),
            (
                json!({"host": "h", "port": 1, "spawn": "yes"}),
                400,
                "spawn",
            ),
            (json!({"host": "h", "port": 1, "id": ""}), 422, "id"),
        ];
        for (body, status, field) in cases {
            let err = parse_node_request(&body).unwrap_err();
            assert_eq!(err.status.as_u16(), status, "{body}: {err}");
            assert!(err.message.contains(field), "{body}: {err}");
        }
    }

    #[test]
    fn connections_take_zero_one_or_booleans() {
        let links =
            parse_connections(&json!({"localhost:8002": 0, "localhost:8003": true})).unwrap();
        assert_eq!(
            links,
            vec![
                ("localhost:8002".to_string(), false),
                ("localhost:8003".to_string(), true)
            ]
        );
        assert_eq!(
            parse_connections(&json!({})).unwrap_err().status.as_u16(),
            400
        );
        assert_eq!(
            parse_connections(&json!({"a:1": 2}))
                .unwrap_err()
                .status
                .as_u16(),
            422
        );
    }
}
