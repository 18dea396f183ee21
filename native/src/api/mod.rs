//! What a node serves over HTTP: its public JSON API ([`node`]) and the incoming end of Raft
//! over HTTP ([`raft`]), with what they share — errors as JSON ([`error`]), body parsing
//! ([`body`], [`requests`]), the `Idempotency-Key` of writes ([`idempotency`]), event-stream
//! limits ([`streams`]) and middleware ([`layers`]). [`openapi`] makes a server's routes and
//! its OpenAPI document one list, [`schemas`] describes the bodies, and [`docs`] serves the
//! document at `/openapi.json` and its page at `/docs`.
//! The demo's entry point reuses the shared parts.

pub mod body;
pub mod docs;
pub mod error;
pub mod guard;
pub mod idempotency;
pub mod layers;
pub mod limits;
pub mod node;
pub mod openapi;
pub mod raft;
pub mod requests;
pub mod schemas;
pub mod streams;

pub use error::ApiError;
