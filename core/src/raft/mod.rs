//! The openraft glue every host shares: what a log entry carries, what applying it answers, the
//! in-memory log store and the state machine that runs the orchestrator, the failure detector,
//! how Raft timing becomes openraft's config ([`timing`]), what a node reports about itself
//! ([`status`]) and how a network sends a snapshot ([`send_unless_closed`]).
//!
//! Everything here is generic over the openraft type config, because each host picks its own
//! async runtime: the simulation declares one on the virtual-time runtime (`rt`), the native
//! server one on tokio. [`FlotillaConfig`] names the constraints a host's config must satisfy.

mod liveness;
mod log_store;
mod member;
mod snapshot_send;
mod state_machine;
pub mod status;
pub mod timing;

use openraft::EntryPayload;
use openraft::RaftTypeConfig;
use openraft::alias::DefaultEntryOf;

pub use liveness::LivenessPolicy;
pub use liveness::liveness_changes;
pub use liveness::watch_liveness;
pub use log_store::LogEntry;
pub use log_store::LogEntryView;
pub use log_store::MemLogStore;
pub use member::Member;
pub use snapshot_send::send_unless_closed;
pub use state_machine::Applied;
pub use state_machine::StateMachineStore;

/// How Flotilla identifies a leader: `(term, node)`, under standard Raft's rule of at most one
/// leader per term (openraft's `leader_id_std`: a voter that has voted for one candidate in a term
/// refuses every other candidate of that term). Every host's type config names this type
/// (`LeaderId = flotilla_core::raft::LeaderId` in `declare_raft_types!`), so all hosts agree.
pub type LeaderId = openraft::vote::leader_id_std::LeaderId<u64, u64>;

/// A node's vote in Flotilla's type configs.
pub type Vote = openraft::Vote<LeaderId>;

use crate::model::Write;

/// The openraft type configs Flotilla can run on: log entries carry [`Write`]s, applying one
/// answers [`Applied`], nodes are described by [`Member`] and identified by `u64`.
/// Terms are `u64`, and a leader is identified by `(term, node)` with at most one leader per term
/// (openraft's standard leader id, see [`LeaderId`]).
pub trait FlotillaConfig:
    RaftTypeConfig<
        D = Write,
        R = Applied,
        NodeId = u64,
        Node = Member,
        Term = u64,
        LeaderId = LeaderId,
        Vote = Vote,
        Payload = EntryPayload<Write, u64, Member>,
        Entry = DefaultEntryOf<Self>,
    >
{
}

impl<C> FlotillaConfig for C where
    C: RaftTypeConfig<
            D = Write,
            R = Applied,
            NodeId = u64,
            Node = Member,
            Term = u64,
            LeaderId = LeaderId,
            Vote = Vote,
            Payload = EntryPayload<Write, u64, Member>,
            Entry = DefaultEntryOf<C>,
        >
{
}
