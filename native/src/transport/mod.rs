//! The sending end of Raft over HTTP between Flotilla nodes.
//!
//! Every node serves a few internal endpoints under `/raft/` (append, vote, pre-vote, snapshot,
//! and `propose` for requests forwarded to the leader) with compact binary bodies ([`wire`]).
//! [`PeerClient`] sends them over pooled keep-alive connections; [`network`] plugs it into
//! openraft. The receiving end is the `api::raft` module. Both ends consult the node's
//! [`Links`](crate::links::Links), so a cut link loses requests and answers alike.

pub mod client;
pub mod network;
pub mod wire;

pub use client::CallError;
pub use client::PeerClient;
