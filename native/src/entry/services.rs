//! The service endpoints of the entry point (`/clusters/:id/service…`): each is relayed to the
//! cluster's leader if one is known (else to any node, which forwards it), and its answer is
//! passed back as is. Writes carry their request id (the client's `Idempotency-Key`, or one
//! drawn here) to whichever node takes them.

use std::sync::Arc;

use axum::extract::Path;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;

use super::forward::NodeRequest;
use super::state::Entry;
use crate::api::ApiError;
use crate::api::body::JsonBody;
use crate::api::idempotency::IdempotencyKey;
use crate::api::requests::parse_service_id;

/// `POST /clusters/:id/service` and `/services`: creates services.
pub async fn create_services(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // Validate here too, so a bad request is refused even when no node is up.
    flotilla_core::model::parse_service_request(&body)?;
    let call = NodeRequest::write(Method::POST, "/service", Some(&body), &key);
    entry.relay_to_leader(&id, &call).await
}

/// `GET /clusters/:id/services`: every service.
pub async fn list_services(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    entry
        .relay_to_leader(&id, &NodeRequest::read("/services"))
        .await
}

/// `GET /clusters/:id/services/:service`: one service.
pub async fn get_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let path = format!("/services/{}", parse_service_id(&service)?);
    entry.relay_to_leader(&id, &NodeRequest::read(&path)).await
}

/// `DELETE /clusters/:id/services/:service`: deletes a service.
pub async fn delete_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
) -> Result<Response, ApiError> {
    let path = format!("/services/{}", parse_service_id(&service)?);
    let call = NodeRequest::write(Method::DELETE, &path, None, &key);
    entry.relay_to_leader(&id, &call).await
}

/// `POST /clusters/:id/services/:service/scale`: changes a service's replica count.
pub async fn scale_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
    IdempotencyKey(key): IdempotencyKey,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let path = format!("/services/{}/scale", parse_service_id(&service)?);
    let call = NodeRequest::write(Method::POST, &path, Some(&body), &key);
    entry.relay_to_leader(&id, &call).await
}
