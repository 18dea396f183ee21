//! What every HTTP server of the binary shares: the middleware (body limit, compression,
//! deadline, tracing) and the JSON answers for unknown paths and methods. Who may call a server
//! (token, `Host`, CORS) is [`super::guard`]'s.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::http::Uri;
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use super::error::ApiError;

/// Largest public request body. Service requests are small; this leaves room for the biggest
/// valid one (1000 containers with long labels) and refuses anything absurd with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest any request may take before the server gives up with 408. Writes give up earlier,
/// with a precise 503, after the node's request timeout.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// Middleware every server gets: JSON 404/405, body limit, compression, a deadline and request
/// tracing.
pub fn with_common_layers(router: Router) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
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
