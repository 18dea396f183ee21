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
use crate::api::schemas;

/// `POST /clusters/:id/service`: the same as `POST /clusters/:id/services` (the seed's path).
#[utoipa::path(
    post,
    path = "/clusters/{id}/service",
    tag = "services",
    summary = "Creates services (the seed's path)",
    params(("id" = String, Path, description = "The cluster's id"), IdempotencyKey),
    request_body = schemas::ServiceRequest,
    responses((status = 201, description = "Created and placed", body = schemas::ServicesCreated)),
)]
pub async fn create_service(
    entry: State<Arc<Entry>>,
    id: Path<String>,
    key: IdempotencyKey,
    body: JsonBody,
) -> Result<Response, ApiError> {
    create_services(entry, id, key, body).await
}

/// `POST /clusters/:id/services`: creates services.
#[utoipa::path(
    post,
    path = "/clusters/{id}/services",
    tag = "services",
    summary = "Creates services",
    description = "One service (`container` and `replicas`) or several (`containers`), relayed \
        to the cluster's leader. Replicas are placed on the least loaded nodes; what does not \
        fit is pending.",
    params(("id" = String, Path, description = "The cluster's id"), IdempotencyKey),
    request_body = schemas::ServiceRequest,
    responses((status = 201, description = "Created and placed", body = schemas::ServicesCreated)),
)]
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
#[utoipa::path(
    get,
    path = "/clusters/{id}/services",
    tag = "services",
    summary = "Every service",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "Every service", body = schemas::ServiceList)),
)]
pub async fn list_services(
    State(entry): State<Arc<Entry>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    entry
        .relay_to_leader(&id, &NodeRequest::read("/services"))
        .await
}

/// `GET /clusters/:id/services/:service`: one service.
#[utoipa::path(
    get,
    path = "/clusters/{id}/services/{service}",
    tag = "services",
    summary = "One service, as of every write acknowledged before the request",
    params(("id" = String, Path, description = "The cluster's id"), ("service" = u64, Path, description = "The service's id")),
    responses(
        (status = 200, description = "The service", body = schemas::Service),
        (status = 404, description = "No such cluster or service", body = crate::api::error::ErrorBody),
    ),
)]
pub async fn get_service(
    State(entry): State<Arc<Entry>>,
    Path((id, service)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let path = format!("/services/{}", parse_service_id(&service)?);
    entry.relay_to_leader(&id, &NodeRequest::read(&path)).await
}

/// `DELETE /clusters/:id/services/:service`: deletes a service.
#[utoipa::path(
    delete,
    path = "/clusters/{id}/services/{service}",
    tag = "services",
    summary = "Deletes a service",
    params(("id" = String, Path, description = "The cluster's id"), ("service" = u64, Path, description = "The service's id"), IdempotencyKey),
    responses(
        (status = 200, description = "Deleted", body = schemas::ServiceDeleted),
        (status = 404, description = "No such cluster or service", body = crate::api::error::ErrorBody),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/clusters/{id}/services/{service}/scale",
    tag = "services",
    summary = "Changes a service's replica count",
    params(("id" = String, Path, description = "The cluster's id"), ("service" = u64, Path, description = "The service's id"), IdempotencyKey),
    request_body = schemas::ScaleRequest,
    responses(
        (status = 200, description = "Scaled and placed", body = schemas::ServiceScaled),
        (status = 404, description = "No such cluster or service", body = crate::api::error::ErrorBody),
    ),
)]
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
