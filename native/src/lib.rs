//! The `flotilla` binary's library: flotilla-core hosted on tokio, with Raft over HTTP, the
//! seed's REST API on axum and storage on disk.
//!
//! - [`node`]: one Raft member with its stores, links and HTTP server.
//! - [`transport`]: Raft RPC over HTTP (binary bodies) and forwarding to the leader.
//! - [`api`]: the public JSON API of nodes and of the demo's entry point.
//! - [`registry`]: the clusters the entry point knows and the nodes it spawned.
//! - [`run`]: `flotilla demo` and `flotilla node`; [`cli`]: their flags.
#![deny(missing_docs)]

pub mod api;
pub mod cli;
pub mod error;
pub mod links;
pub mod node;
pub mod registry;
pub mod run;
pub mod store;
pub mod transport;
pub mod types;
