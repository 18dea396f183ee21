//! `GET /openapi.json` and `/docs`: a server's OpenAPI document, and Swagger UI rendering it.
//!
//! Swagger UI's files are compiled into the binary (utoipa-swagger-ui, `vendored`), so the page
//! works offline and loads nothing from another origin; its online validator is turned off. The
//! page finds the document by a relative URL, so it also works behind a proxy's sub-path.
//! Both are reads, open like every `GET`, behind the same guard layers as the rest of the API.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::HeaderValue;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::Redirect;
use axum::response::Response;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::Config;

use super::error::ApiError;
use super::schemas::Report;

/// Where Swagger UI finds the document, relative to `/docs/`.
const DOCUMENT_FROM_PAGE: &str = "../openapi.json";

/// What one server publishes: its document, serialised once, and the page's settings. Handlers
/// find it as a request extension.
#[derive(Clone)]
pub struct Published {
    document: Result<Bytes, String>,
    page: Arc<Config<'static>>,
}

impl Published {
    /// Publishes `document`.
    pub fn new(document: &OpenApi) -> Self {
        let document = serde_json::to_vec(document)
            .map(Bytes::from)
            .map_err(|err| format!("cannot encode the OpenAPI document: {err}"));
        let page = Config::new([DOCUMENT_FROM_PAGE]).validator_url("none");
        Published {
            document,
            page: Arc::new(page),
        }
    }
}

/// The OpenAPI document of this server.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "documentation",
    summary = "This document",
    description = "The OpenAPI 3.1 document of this server, generated from its routes.",
    responses((status = 200, description = "The document", body = Report)),
)]
pub async fn openapi_json(Extension(published): Extension<Published>) -> Response {
    match published.document {
        Ok(json) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(problem) => ApiError::internal(problem).into_response(),
    }
}

/// `/docs` → `/docs/`, where the page's relative links resolve.
#[utoipa::path(
    get,
    path = "/docs",
    tag = "documentation",
    summary = "The API docs page (redirects to /docs/)",
    responses((status = 303, description = "See `/docs/`", headers(("location" = String)))),
)]
pub async fn docs_redirect() -> Redirect {
    Redirect::to("docs/")
}

/// The API docs page: Swagger UI rendering `/openapi.json`, from this server only.
#[utoipa::path(
    get,
    path = "/docs/",
    tag = "documentation",
    summary = "The API docs page",
    responses((status = 200, description = "Swagger UI's page", content_type = "text/html", body = String)),
)]
pub async fn docs_page(Extension(published): Extension<Published>) -> Response {
    page_file(&published, "index.html")
}

/// One of the page's own files (scripts, styles, icons).
#[utoipa::path(
    get,
    path = "/docs/{file}",
    tag = "documentation",
    summary = "A file of the API docs page",
    params(("file" = String, Path, description = "The file's name, e.g. `swagger-ui.css`")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 404, description = "The page has no such file", body = super::error::ErrorBody),
    ),
)]
pub async fn docs_file(
    Extension(published): Extension<Published>,
    Path(file): Path<String>,
) -> Response {
    page_file(&published, &file)
}

fn page_file(published: &Published, name: &str) -> Response {
    match utoipa_swagger_ui::serve(name, published.page.clone()) {
        Ok(Some(file)) => {
            let mut response = file.bytes.into_owned().into_response();
            if let Ok(kind) = HeaderValue::from_str(&file.content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, kind);
            }
            if file.gzpipped {
                response
                    .headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => {
            ApiError::not_found(format!("the docs page has no file {name:?}")).into_response()
        }
        Err(err) => ApiError::internal(format!("cannot serve {name:?}: {err}")).into_response(),
    }
}
