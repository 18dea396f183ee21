//! The entry point's routes: the seed's `/clusters/…` API, with the browser page as the
//! fallback for every other path.

use std::sync::Arc;

use axum::Router;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::response::Response;
use tower_http::services::ServeDir;
use utoipa_axum::routes;

use super::clusters;
use super::live;
use super::metrics;
use super::openapi::entry_document;
use super::services;
use super::state::Entry;
use super::views;
use crate::api::layers::json_errors;
use crate::api::layers::not_found;
use crate::api::layers::with_common_layers;
use crate::api::openapi::ApiRoutes;

/// The entry point's routes, with the browser page as the fallback for other paths.
pub fn router(entry: Arc<Entry>) -> Router {
    // A path that is neither an endpoint nor a file of the page gets the API's JSON 404, and
    // so does any method but GET and HEAD on it.
    let files = ServeDir::new(&entry.web_dir)
        .append_index_html_on_directories(true)
        .call_fallback_on_method_not_allowed(true)
        .not_found_service(axum::routing::any(not_found));
    let page = Router::new()
        .fallback_service(files)
        .layer(axum::middleware::map_response(page_errors));
    let api = routes().with_state(entry.clone()).into_router();
    let app = with_common_layers(
        entry.guard.guard_writes(api),
        entry.guard.limits(),
        &entry.telemetry.http,
    );
    // Unknown API paths answer JSON 404s; everything else may be a file of the page.
    entry
        .guard
        .around(Router::new().merge(app).fallback_service(page))
}

/// The entry point's API routes and their document, before they get their state.
fn routes() -> ApiRoutes<Arc<Entry>> {
    ApiRoutes::new(entry_document())
        .routes(routes!(views::list_clusters, clusters::create_cluster))
        .routes(routes!(views::cluster))
        .routes(routes!(views::cluster_stats))
        .routes(routes!(views::cluster_state))
        .routes(routes!(live::cluster_events))
        .routes(routes!(services::create_service))
        .routes(routes!(services::list_services, services::create_services))
        .routes(routes!(services::get_service, services::delete_service))
        .routes(routes!(services::scale_service))
        .routes(routes!(
            views::cluster_nodes,
            clusters::add_node,
            clusters::remove_node
        ))
        .routes(routes!(clusters::set_node_connections))
        .routes(routes!(metrics::entry_metrics))
}

/// The page's refusals as the API's JSON errors. A file that cannot be read at a path the client
/// made up (a name longer than the file system allows, say) is a file the page does not have:
/// 404, not the 500 the file server answers.
async fn page_errors(uri: Uri, response: Response) -> Response {
    if response.status().is_server_error() {
        tracing::debug!(path = uri.path(), status = %response.status(), "page file unreadable");
        return not_found(uri).await.into_response();
    }
    json_errors(response).await
}
