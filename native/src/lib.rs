//! The `flotilla` binary's library: flotilla-core hosted on tokio, with Raft over HTTP, the
//! seed's REST API on axum and storage on disk.
#![deny(missing_docs)]

pub mod types;
