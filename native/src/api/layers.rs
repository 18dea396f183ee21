//! What every HTTP server of the binary shares: the middleware (body limit, compression,
//! deadline, tracing) and the JSON answers for unknown paths and methods. Who may call a server
//! (token, `Host`, CORS) is [`super::guard`]'s.

use std::time::Duration;

use axum::Extension;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::Uri;
use axum::http::header::CONTENT_LENGTH;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::error::ApiError;
use super::limits::BodyLimit;
use super::limits::ServerLimits;
use crate::metrics::HttpMetrics;
use crate::metrics::record_request;

/// Longest any request may take before the server gives up with 408. Writes give up earlier,
/// with a precise 503, after the node's request timeout.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// Longest error text [`json_errors`] reads from an answer it rewrites.
const MAX_ERROR_TEXT: usize = 16 * 1024;

/// Middleware every server gets: JSON 404/405, JSON bodies on every other refusal, request
/// metrics, body limit, compression, a deadline and request tracing.
pub fn with_common_layers(router: Router, limits: &ServerLimits, http: &HttpMetrics) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Counts and times what the routes answer; the deadline's 408s, answered further out,
        // are not among them.
        .layer(axum::middleware::from_fn_with_state(
            http.clone(),
            record_request,
        ))
        // Innermost, so it reads error texts before compression.
        .layer(axum::middleware::map_response(json_errors))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(Extension(BodyLimit(limits.max_body_bytes)))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_DEADLINE,
        ))
        .layer(TraceLayer::new_for_http())
}

/// The JSON 404 for a path nothing serves.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {}", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept this method", uri.path()),
    )
}

/// Gives every error answer the API's JSON body `{"error": "…"}`, keeping its status and
/// headers: the answers handlers build already have it, but axum's extractors (a path segment
/// that is not UTF-8, say) and tower-http's services refuse in plain text or with no body.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|kind| kind.to_str().ok())
        .is_some_and(|kind| kind.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_TEXT)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_string(),
        text => text.to_string(),
    };
    let mut answer = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != CONTENT_TYPE && name != CONTENT_LENGTH {
            answer.headers_mut().append(name.clone(), value.clone());
        }
    }
    answer
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    answer
}
