//! The openraft type config of the native server: Flotilla's commands on tokio.

use flotilla_core::model::Write;
use flotilla_core::raft::Applied;
use flotilla_core::raft::Member;

use crate::store::DurableStateMachine;

openraft::declare_raft_types!(
    /// Flotilla's Raft types with tokio as the async runtime.
    pub NativeTypes:
        D = Write,
        R = Applied,
        NodeId = u64,
        Node = Member,
        Term = u64,
        LeaderId = flotilla_core::raft::LeaderId,
        AsyncRuntime = openraft_rt_tokio::TokioRuntime,
);

/// A native node's Raft handle: its state machine keeps the latest snapshot on disk.
pub type NativeRaft = openraft::Raft<NativeTypes, DurableStateMachine<NativeTypes>>;
