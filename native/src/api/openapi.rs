//! How a server's routes and its OpenAPI document are made one: [`ApiRoutes`] is the only way
//! the public API's routes are added, each from a handler's `#[utoipa::path]` annotation
//! (utoipa-axum's `routes!`), so the router and the document come from one list and cannot
//! drift. [`ApiRoutes::into_router`] adds `/openapi.json` and `/docs` ([`super::docs`]) and the
//! rules every operation shares: the JSON error body of every refusal and, on every write, the
//! bearer token of [`super::guard`]. [`node_document`] is what a node's document says of itself.

use axum::Extension;
use axum::Router;
use utoipa::OpenApi;
use utoipa::PartialSchema;
use utoipa::ToSchema;
use utoipa::openapi::Components;
use utoipa::openapi::ContentBuilder;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::PathItem;
use utoipa::openapi::Ref;
use utoipa::openapi::ResponseBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::HttpAuthScheme;
use utoipa::openapi::security::HttpBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::security::SecurityScheme;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use super::docs;
use super::error::ErrorBody;

/// The name of the bearer-token security scheme in the documents.
pub const BEARER: &str = "bearer";

/// A server's public routes with their document. Routes come in only through
/// [`ApiRoutes::routes`], from annotated handlers: there is no way to add an undocumented one.
pub struct ApiRoutes<S = ()>(OpenApiRouter<S>);

impl<S: Clone + Send + Sync + 'static> ApiRoutes<S> {
    /// No routes yet; `document` says what the server is (title, description, tags).
    pub fn new(document: Document) -> Self {
        ApiRoutes(OpenApiRouter::with_openapi(document))
    }

    /// Adds the handlers of one path (`routes!(get_handler, post_handler)`), routed and
    /// documented alike.
    pub fn routes(self, routes: UtoipaMethodRouter<S>) -> Self {
        ApiRoutes(self.0.routes(routes))
    }

    /// Gives the handlers their state.
    pub fn with_state<S2: Clone + Send + Sync + 'static>(self, state: S) -> ApiRoutes<S2> {
        ApiRoutes(self.0.with_state(state))
    }
}

impl ApiRoutes<()> {
    /// The router, with `/openapi.json` and `/docs` serving the finished document.
    pub fn into_router(self) -> Router {
        self.into_parts().0
    }

    /// The router and its finished document.
    pub fn into_parts(self) -> (Router, Document) {
        let (router, mut document) = self
            .0
            .routes(routes!(docs::openapi_json))
            .routes(routes!(docs::docs_redirect))
            .routes(routes!(docs::docs_page))
            .routes(routes!(docs::docs_file))
            .split_for_parts();
        finish(&mut document);
        let router = router.layer(Extension(docs::Published::new(&document)));
        (router, document)
    }
}

/// Adds what every operation shares: any 4xx and 5xx answer carries [`ErrorBody`]; every
/// method but GET and HEAD needs the bearer token when the server has one (as
/// `guard::check_token` decides), and may be refused with 401.
fn finish(document: &mut Document) {
    let components = document.components.get_or_insert_with(Components::new);
    components
        .schemas
        .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "`Authorization: Bearer TOKEN`, the server's `--token`: every request but \
                     GET and HEAD needs it when the server was started with a token; reads are \
                     open.",
                ))
                .build(),
        ),
    );
    for item in document.paths.paths.values_mut() {
        for (operation, writes) in operations(item) {
            if writes {
                operation.security =
                    Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                add_error(operation, "401", "No bearer token, or not this server's");
            }
            add_error(
                operation,
                "4XX",
                "The request was refused; the body says why",
            );
            add_error(
                operation,
                "5XX",
                "The server or the cluster cannot serve it now",
            );
        }
    }
}

/// The operations of one path, each with whether it writes (needs the token).
fn operations(item: &mut PathItem) -> impl Iterator<Item = (&mut Operation, bool)> {
    [
        (&mut item.get, false),
        (&mut item.head, false),
        (&mut item.post, true),
        (&mut item.put, true),
        (&mut item.patch, true),
        (&mut item.delete, true),
    ]
    .into_iter()
    .filter_map(|(operation, writes)| operation.as_mut().map(|operation| (operation, writes)))
}

/// Documents a refusal with the JSON error body, unless the operation already says more.
fn add_error(operation: &mut Operation, status: &str, description: &str) {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(ErrorBody::name())))
        .build();
    let response = ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build();
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert(response.into());
}

/// What a node's document says of itself.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flotilla node API",
        description = "The public API of one Flotilla node: its stats and event stream, the \
            cluster state as it sees it, and writes (services, nodes) that it forwards to its \
            leader — any node takes them. Writes that go through the Raft log take an \
            `Idempotency-Key`. Every refusal is a JSON body `{\"error\": \"…\"}`.\n\n\
            Not described here: the internal `/raft/*` endpoints on the same port, Raft traffic \
            between the cluster's nodes, signed with the cluster secret; they are no client API.",
    ),
    tags(
        (name = "status", description = "What the node and the cluster are doing"),
        (name = "services", description = "Services and their replicas"),
        (name = "nodes", description = "The cluster's membership"),
        (name = "links", description = "This node's links to its peers (a test switch)"),
        (name = "documentation", description = "This document and its page"),
    ),
)]
struct NodeApi;

/// The node document's own part (its routes come from [`ApiRoutes`]).
pub fn node_document() -> Document {
    NodeApi::openapi()
}
