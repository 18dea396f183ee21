//! The openraft type config of the simulation: Flotilla's commands on the virtual runtime.

use std::io::Cursor;

use crate::model::Write;
use crate::raft::Applied;
use crate::raft::Member;
use crate::raft::StateMachineStore;
use crate::rt::VirtualRuntime;

openraft::declare_raft_types!(
    /// Flotilla's Raft types with [`VirtualRuntime`] as the async runtime.
    pub SimTypes:
        D = Write,
        R = Applied,
        NodeId = u64,
        Node = Member,
        Term = u64,
        LeaderId = crate::raft::LeaderId,
        AsyncRuntime = VirtualRuntime,
);

/// A simulated node's Raft handle.
pub type SimRaft = openraft::Raft<SimTypes, StateMachineStore<SimTypes>>;

/// Snapshot bytes as they travel between simulated nodes.
pub type SnapshotData = Cursor<Vec<u8>>;
