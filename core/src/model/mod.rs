//! The orchestrator's replicated state machine: pure, deterministic, no I/O.
//!
//! Every Raft member feeds the same committed [`Command`]s, in log order, to
//! [`ClusterState::apply`] and so computes the same placements; the leader returns its
//! [`Outcome`] to the client. Nothing here reads a clock, draws a random number or iterates
//! a hash map, so a replay (or the browser simulation) reproduces a run exactly.
//!
//! * [`node`] and [`service`] — what the cluster is made of;
//! * [`request`] — client JSON to typed specs: the gate before anything is proposed;
//! * [`limits`] — how big the state and one request may grow (each process's admission rules);
//! * [`command`] — what goes through the log and what applying it answers;
//! * [`write`] — a command with the id of the request that asked for it, as the log carries it;
//! * [`recent`] — the answers to recent requests, so a retried write is applied once;
//! * `placement` — the algorithm that decides which node runs each replica;
//! * [`state`] — the state itself and `apply`.

pub mod command;
pub mod limits;
pub mod node;
mod placement;
#[cfg(test)]
mod properties;
pub mod recent;
pub mod request;
pub mod service;
pub mod state;
pub mod write;

pub use command::{Answer, Command, Outcome};
pub use limits::{Limit, LimitError, Limits};
pub use node::{MAX_NODE_CAPACITY, NodeId, NodeInfo, NodeSpec, NodeStatus, NodeView};
pub use recent::{REMEMBERED_WRITES, RecentWrites, reused_id_message};
pub use request::{
    MAX_CONTAINERS, MAX_LABEL_CHARS, MAX_REPLICAS, RequestError, check_services,
    parse_scale_request, parse_service_request, validate_replicas,
};
pub use service::{Service, ServiceId, ServiceSpec, ServiceView};
pub use state::ClusterState;
pub use write::{MAX_REQUEST_ID_CHARS, RequestId, Write};
