//! The `flotilla` binary's library: flotilla-core hosted on tokio, with Raft over HTTP, the
//! seed's REST API on axum and storage on disk.
//!
//! Modules from top to bottom; each uses only modules below it (ARCHITECTURE.md, "Layers"):
//!
//! - [`run`]: `flotilla demo` and `flotilla node`; [`cli`]: their flags.
//! - [`client`]: the client commands (`flotilla status`, `service`, `node add|remove|list`,
//!   `link`, `cluster`), which call a running entry point's API.
//! - [`entry`]: the demo's entry point on :8000 (the seed's `/clusters/…` API, the page).
//! - [`registry`]: the clusters the entry point knows and the nodes it spawned.
//! - [`server`]: a node with its HTTP server (public API and incoming Raft endpoints).
//! - [`api`]: what a node serves over HTTP, and the JSON errors and parsing both servers share.
//! - [`node`]: one Raft member: openraft, its stores, proposals and status.
//! - [`transport`]: outgoing Raft RPC over HTTP (binary bodies).
//! - [`types`]: the openraft type config; [`store`]: durable storage.
//! - [`links`]: which outgoing links are cut; [`auth`]: tokens and signed peer messages;
//!   [`tls`]: certificates, HTTPS servers and clients, node URLs; [`addr`]: when two addresses
//!   name one node.
#![deny(missing_docs)]

pub mod addr;
pub mod api;
pub mod auth;
pub mod cli;
pub mod client;
pub mod entry;
pub mod links;
pub mod metrics;
pub mod node;
pub mod registry;
pub mod run;
pub mod server;
pub mod store;
pub mod tls;
pub mod transport;
pub mod types;
