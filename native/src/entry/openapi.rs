//! What the entry point's OpenAPI document says of itself; its routes come from
//! [`crate::api::openapi::ApiRoutes`], as a node's do.

use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;

/// What the entry point's document says of itself.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Flotilla entry point API",
        description = "The demo's entry point: the seed's `/clusters/…` API. It starts clusters \
            of nodes in its own process and relays to them: reads ask the nodes and report the \
            leader of the highest term; writes go to a node, which forwards them to its leader. \
            Writes that go through the Raft log take an `Idempotency-Key`. Every refusal is a \
            JSON body `{\"error\": \"…\"}`.\n\n\
            Not described here: every other `GET` path serves a file of the browser page \
            (`/` is the page itself). Each node serves its own API and document \
            (`/openapi.json` on the node's port).",
    ),
    tags(
        (name = "clusters", description = "Clusters and what their nodes report"),
        (name = "services", description = "Services and their replicas"),
        (name = "nodes", description = "A cluster's membership"),
        (name = "links", description = "Nodes' links to their peers (a test switch)"),
        (name = "documentation", description = "This document and its page"),
    ),
)]
struct EntryApi;

/// The entry document's own part.
pub fn entry_document() -> Document {
    EntryApi::openapi()
}
