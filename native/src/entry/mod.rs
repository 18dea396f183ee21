//! The demo's entry point (`:8000`): the seed's `/clusters/…` API and the browser page. It is a
//! thin router, not a second brain: reads ask the nodes and report the leader of the highest
//! term; writes go to a node, which forwards them to its leader; it only spawns and stops
//! in-process nodes (through the registry).
//!
//! - [`routes`]: the router; [`views`], [`services`], [`clusters`] and [`live`]: its handlers
//!   (reads, service writes, cluster management, the merged event stream).
//! - [`state`]: the shared [`Entry`]; [`forward`]: the client it reaches nodes with;
//!   [`leaders`]: the leader it last heard of per cluster, where writes go first.
//! - [`parse`]: `POST /clusters` bodies; [`error`]: the registry's errors as HTTP answers.
//! - [`openapi`]: what the entry point's OpenAPI document (`/openapi.json`) says of itself.

pub mod clusters;
pub mod error;
pub mod forward;
pub mod leaders;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod parse;
pub mod routes;
pub mod services;
pub mod state;
pub mod views;

pub use routes::router;
pub use state::Entry;
