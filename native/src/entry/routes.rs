//! The entry point's routes: the seed's `/clusters/…` API, with the browser page as the
//! fallback for every other path.

use std::sync::Arc;

use axum::Router;
use axum::http::Uri;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::get;
use axum::routing::post;
use tower_http::services::ServeDir;

use super::clusters::add_node;
use super::clusters::create_cluster;
use super::clusters::remove_node;
use super::clusters::set_node_connections;
use super::live::cluster_events;
use super::services::create_services;
use super::services::delete_service;
use super::services::get_service;
use super::services::list_services;
use super::services::scale_service;
use super::state::Entry;
use super::views::cluster_nodes;
use super::views::cluster_state;
use super::views::list_clusters;
use crate::api::layers::json_errors;
use crate::api::layers::not_found;
use crate::api::layers::with_common_layers;

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
    let api = Router::new()
        .route("/clusters", get(list_clusters).post(create_cluster))
        .route("/clusters/{id}", get(cluster_nodes))
        .route("/clusters/{id}/stats", get(cluster_state))
        .route("/clusters/{id}/state", get(cluster_state))
        .route("/clusters/{id}/events", get(cluster_events))
        .route("/clusters/{id}/service", post(create_services))
        .route(
            "/clusters/{id}/services",
            get(list_services).post(create_services),
        )
        .route(
            "/clusters/{id}/services/{service}",
            get(get_service).delete(delete_service),
        )
        .route(
            "/clusters/{id}/services/{service}/scale",
            post(scale_service),
        )
        .route(
            "/clusters/{id}/nodes",
            get(cluster_nodes).post(add_node).delete(remove_node),
        )
        .route(
            "/clusters/{id}/nodes/{addr}/connections",
            post(set_node_connections),
        )
        .with_state(entry.clone());
    let app = with_common_layers(entry.guard.guard_writes(api), entry.guard.limits());
    // Unknown API paths answer JSON 404s; everything else may be a file of the page.
    entry
        .guard
        .around(Router::new().merge(app).fallback_service(page))
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
