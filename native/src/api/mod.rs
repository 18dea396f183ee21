//! What a node serves over HTTP: its public JSON API ([`node`]) and the incoming end of Raft
//! over HTTP ([`raft`]), with what they share — errors as JSON ([`error`]), body parsing
//! ([`body`], [`requests`]), the `Idempotency-Key` of writes ([`idempotency`]), event-stream
//! limits ([`streams`]) and middleware ([`layers`]).
//! The demo's entry point reuses the shared parts.

pub mod body;
pub mod error;
pub mod guard;
pub mod idempotency;
pub mod layers;
pub mod limits;
pub mod node;
pub mod raft;
pub mod requests;
pub mod streams;

pub use error::ApiError;
